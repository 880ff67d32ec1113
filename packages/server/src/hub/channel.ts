import { matchChannelPattern } from '@switchboard/protocol';
import type { StreamPosition } from '@switchboard/protocol';
import type { Publication } from '../broker/broker.js';
import type { HistoryPolicy } from '../history/history-store.js';
import type { ResolvedLimits } from '../limits/resolved-limits.js';
import type { PermissionRule } from '../auth/authorizer.js';
import type { Connection } from './connection.js';
import type { Outbound } from './outbound.js';
import type { TimerHandle } from '../util/clock.js';
import { ChannelActivity } from './channel-activity.js';

/** Settings for the channels whose names match `pattern` (`*` matches any run of characters). */
export interface ChannelRule extends PermissionRule {
  /** Member limit per channel; 0 means unlimited. Default: the server's `maxChannelMembers`. */
  readonly maxMembers?: number;
  /** History kept for recovery. Default: the server's `historySize` and `historyTtlMs`. */
  readonly history?: { readonly size?: number; readonly ttlMs?: number };
  /** Track presence and push user-level `join`/`leave` (with the presence grace period). Default false. */
  readonly presence?: boolean;
  /** Batch delay of these channels (ms), 0 to 1000; see the server's `batchDelayMs`. Default: that option. */
  readonly batchDelayMs?: number;
  /**
   * Compress these channels' messages for clients that negotiated permessage-deflate (the server's
   * `compression` option); false sends them plain to everyone. Default true (no effect while compression
   * is off).
   */
  readonly compress?: boolean;
}

/** A channel's settings after its rule and the server defaults are applied. */
export interface ChannelSettings {
  /** 0 means unlimited. */
  readonly maxMembers: number;
  readonly history: HistoryPolicy;
  /** Track presence and push user-level join/leave. */
  readonly presence: boolean;
  /** How long a batch waits for more messages after its first (ms); 0: to the end of the turn. */
  readonly batchDelayMs: number;
  /** Whether the channel's messages may be compressed (ChannelRule.compress). */
  readonly compress: boolean;
}

/** Settings for `name`: the first matching rule wins, the server defaults fill the rest. */
export function resolveChannelSettings(
  rules: readonly ChannelRule[],
  limits: ResolvedLimits,
  name: string,
): ChannelSettings {
  const rule = rules.find((r) => matchChannelPattern(r.pattern, name));
  return {
    maxMembers: rule?.maxMembers ?? limits.maxChannelMembers,
    history: {
      size: rule?.history?.size ?? limits.historySize,
      ttlMs: rule?.history?.ttlMs ?? limits.historyTtlMs,
    },
    presence: rule?.presence ?? false,
    batchDelayMs: rule?.batchDelayMs ?? limits.batchDelayMs,
    compress: rule?.compress ?? true,
  };
}

/**
 * A channel's messages waiting for the end of the event-loop turn (or the channel's batch delay), for the
 * members that read batched frames (`Connection.batch`); see ChannelBatcher.
 */
export interface PendingBatch {
  /** The v1 `message` pushes, in publication order (rendered per encoding when the batch is written). */
  readonly items: { readonly outbound: Outbound; readonly ephemeral: boolean }[];
  /** Bytes of the frames' JSON. */
  bytes: number;
  /** The channel's position before the first of them: how far a batching member that leaves now got. */
  readonly before: StreamPosition | null;
}

/** A channel with local subscribers. */
export class Channel {
  readonly members = new Set<Connection>();
  /** Position of the last publication delivered on this node; null until the first one is known. */
  position: StreamPosition | null = null;
  /** Members whose subscription starts ahead of {@link position}, with where it starts (live-marks.ts). */
  ahead: Map<Connection, StreamPosition> | null = null;
  /** Publications held back, in arrival order, while a gap is filled from history. */
  filling: Publication[] | null = null;
  /** Members that read batched frames. */
  batchMembers = 0;
  /** Messages not yet written to the batching members; null when none wait. */
  batch: PendingBatch | null = null;
  /** Writes {@link batch} when the batch delay is up; null without a delay or a waiting batch. */
  batchTimer: TimerHandle | null = null;
  /** Rates and delivery latency for /stats. */
  readonly activity: ChannelActivity;

  constructor(
    readonly name: string,
    readonly settings: ChannelSettings,
    /** Settles when the broker delivers this channel to this node. */
    readonly ready: Promise<void>,
    /** When it was created (ms since the Unix epoch). */
    createdAt: number,
  ) {
    this.activity = new ChannelActivity(createdAt);
  }
}
