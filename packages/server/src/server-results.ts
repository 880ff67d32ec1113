/** Options and results of the library API (server.ts): what its methods take and return. */
import type { DeliveryStats } from './hub/delivery-stats.js';
import { CloseCode, DEFAULT_HISTORY_LIMIT, ErrorCode, MAX_HISTORY_LIMIT } from '@switchboard/protocol';
import { InvalidArgumentError } from './errors.js';
import type { HistoryPage } from './history/history-store.js';
import type { Outcome } from './hub/hub.js';
import type { Exclusion } from './broker/broker.js';
import type { HubStats } from './hub/hub-stats.js';
import type { HistoryReadStats } from './history/history-read-pacing.js';

/** The `exclude` of a send, when there is one (the envelope's field is left out otherwise). */
export function exclusion(options: SendOptions): { exclude?: Exclusion } {
  return options.exclude === undefined ? {} : { exclude: options.exclude };
}

/** The close code and reason of a library-API disconnect, defaults filled in. */
export function closeArgs(options: DisconnectOptions): { code: number; reason: string } {
  return { code: options.code ?? CloseCode.Kicked, reason: options.reason ?? 'disconnected by the server' };
}

/** Lifecycle of a server: it only moves forward. */
export type ServerState = 'idle' | 'starting' | 'running' | 'draining' | 'stopping' | 'stopped';

/** Options of a publish through the library API. */
export interface PublishOptions {
  /** Skip history; may be dropped under backpressure. Default false. */
  readonly ephemeral?: boolean;
  /** Do not deliver to this connection or user (typically the sender). */
  readonly exclude?: Exclusion;
  /**
   * Makes a retried publish safe: a second publish to the channel with the same key within the
   * idempotency window (5 minutes) resolves with the first one's id and is not delivered again.
   */
  readonly idempotencyKey?: string;
}

/** Options of sends to users and broadcasts. */
export interface SendOptions {
  readonly exclude?: Exclusion;
}

/** How to close connections through the library API. */
export interface DisconnectOptions {
  /** Close code; default 4502 (kicked, no reconnect). */
  readonly code?: number;
  /** Close reason (at most 123 bytes); default "disconnected by the server". */
  readonly reason?: string;
}

/** The /stats document. */
export interface ServerStats extends HubStats {
  readonly uptimeMs: number;
  readonly startedAt: string;
  readonly state: ServerState;
  /**
   * History reads in flight, waiting and refused by the engine's pacing (Redis), and its bounds (`limits`,
   * `null` for no bound); with the memory engine, whose reads are not paced, all 0 and `limits: null`.
   */
  readonly historyReads: HistoryReadStats;
  /** Guaranteed delivery on this node: open inbox devices, queues with local consumers, counters. */
  readonly delivery: DeliveryStats;
}

/** What the server knows about one channel. */
export interface ChannelInfo {
  readonly channel: string;
  /** Subscribers on this node. */
  readonly members: number;
  /** The last message id assigned in the channel (0 when none). */
  readonly offset: number;
  /** The epoch of the channel's stream. */
  readonly epoch: string;
}

/** A page of a channel's history, as the library API returns it; `Data` types the payloads. */
export interface HistoryResult<Data = unknown> {
  readonly channel: string;
  readonly offset: number;
  readonly epoch: string;
  readonly messages: readonly { readonly id: number; readonly data: Data; readonly time: number }[];
  /** False when messages after `since` were already trimmed. */
  readonly complete: boolean;
}

/** The `limit` of a history read: default 100, an integer from 1 to 1000. */
export function historyLimit(limit: number | undefined): number {
  const value = limit ?? DEFAULT_HISTORY_LIMIT;
  if (!Number.isInteger(value) || value < 1 || value > MAX_HISTORY_LIMIT)
    throw new InvalidArgumentError(
      ErrorCode.BadRequest,
      `limit must be an integer from 1 to ${MAX_HISTORY_LIMIT}`,
    );
  return value;
}

/** A history page as the library API returns it, payloads parsed. */
export function historyResult<Data>(channel: string, page: HistoryPage): HistoryResult<Data> {
  return {
    channel,
    offset: page.position.offset,
    epoch: page.position.epoch,
    messages: page.messages.map((m) => ({ id: m.offset, data: JSON.parse(m.json) as Data, time: m.time })),
    complete: page.complete,
  };
}

/** An outcome's value; its error as the InvalidArgumentError a library call throws. */
export function valueOf<T>(outcome: Outcome<T>): T {
  if (!outcome.ok) throw new InvalidArgumentError(outcome.code, outcome.message);
  return outcome.value;
}

/** The /stats document: the hub's figures and the server's lifecycle (`startedAt` 0: not started yet). */
export function serverStats(
  hub: HubStats,
  state: ServerState,
  startedAt: number,
  now: number,
  historyReads: HistoryReadStats,
  delivery: DeliveryStats,
): ServerStats {
  return {
    ...hub,
    state,
    uptimeMs: startedAt === 0 ? 0 : now - startedAt,
    startedAt: new Date(startedAt === 0 ? now : startedAt).toISOString(),
    historyReads,
    delivery,
  };
}
