import type { ChannelActivity, ChannelActivityStats } from './channel-activity.js';
import type { RecentError, RecentErrors } from './recent-errors.js';
import type { ConnectionInfo } from './connection.js';

/** Counters shown in /stats. */
export interface HubCounters {
  framesReceived: number;
  messagesPublished: number;
  messagesDelivered: number;
  messagesDropped: number;
  errors: number;
  connectionsAccepted: number;
  /** Subscribe commands with `since` (and restored session subscriptions) that recovered everything. */
  recoveries: number;
  /** ... that could not recover (epoch changed or history trimmed): the client was told to reload. */
  recoveryFailures: number;
  /** Sessions resumed within their grace period. */
  sessionsResumed: number;
  /** Channels whose subscribers were told to resubscribe because a gap could not be filled from history. */
  streamResets: number;
}

/** One channel in /stats. */
export interface ChannelStats extends ChannelActivityStats {
  readonly name: string;
  /** Members on this node. */
  readonly members: number;
}

/** A snapshot of this node, as /stats returns it. */
export interface HubStats {
  readonly nodeId: string;
  readonly connections: number;
  readonly users: number;
  readonly channels: {
    readonly total: number;
    readonly truncated: boolean;
    readonly list: readonly ChannelStats[];
  };
  /**
   * Channel streams (epoch, offset, retained messages) this node holds in memory: those with members here,
   * those with messages left, and the idle ones kept (at most `maxIdleStreams`). Null when the engine
   * keeps them elsewhere (Redis).
   */
  readonly streams: number | null;
  readonly messages: {
    readonly received: number;
    readonly published: number;
    readonly delivered: number;
    readonly dropped: number;
  };
  readonly errors: number;
  /** The last error codes sent to clients, oldest first (at most 100). */
  readonly recentErrors: readonly RecentError[];
  readonly connectionsAccepted: number;
  readonly recovery: { readonly recovered: number; readonly failed: number; readonly streamResets: number };
  readonly sessions: { readonly resumed: number; readonly detached: number };
  readonly heartbeat: {
    readonly intervalMs: number;
    readonly timeoutMs: number;
    readonly slots: number;
    readonly tickMs: number;
  };
}

/** What the admin dashboard reads of this node, live (Hub.adminView). */
export interface AdminView {
  /** Every open connection. */
  readonly connections: Iterable<ConnectionInfo>;
  /** Every channel with members here. */
  channels(): { name: string; members: number }[];
  /** Every publication fanned out here, whatever its channel: the node's delivery latency. */
  readonly activity: ChannelActivity;
}

/** The most channels /stats lists (largest first). */
const STATS_CHANNEL_LIMIT = 1000;

/** What a /stats snapshot is made of. */
export interface HubStatsSource {
  readonly nodeId: string;
  readonly limits: { readonly heartbeatIntervalMs: number; readonly heartbeatTimeoutMs: number };
  readonly counters: HubCounters;
  readonly connections: { readonly size: number; readonly userCount: number };
  /** Every channel with members on this node (sorted here; activity read for the listed ones only). */
  readonly channels: { name: string; members: number; activity: ChannelActivity }[];
  readonly streams: number | null;
  readonly detachedSessions: number;
  readonly liveness: { readonly slotCount: number; readonly tickMs: number };
  readonly recentErrors: RecentErrors;
  /** The clock's time now (ms since the Unix epoch). */
  readonly now: number;
}

/** A snapshot of this node for /stats: channels largest first, at most {@link STATS_CHANNEL_LIMIT}. */
export function hubStats(source: HubStatsSource): HubStats {
  const all = source.channels;
  all.sort((a, b) => b.members - a.members || (a.name < b.name ? -1 : 1));
  const c = source.counters;
  return {
    nodeId: source.nodeId,
    connections: source.connections.size,
    users: source.connections.userCount,
    channels: {
      total: all.length,
      truncated: all.length > STATS_CHANNEL_LIMIT,
      list: all.slice(0, STATS_CHANNEL_LIMIT).map(({ name, members, activity }) => ({
        name,
        members,
        ...activity.snapshot(source.now),
      })),
    },
    streams: source.streams,
    messages: {
      received: c.framesReceived,
      published: c.messagesPublished,
      delivered: c.messagesDelivered,
      dropped: c.messagesDropped,
    },
    errors: c.errors,
    recentErrors: source.recentErrors.list(),
    connectionsAccepted: c.connectionsAccepted,
    recovery: { recovered: c.recoveries, failed: c.recoveryFailures, streamResets: c.streamResets },
    sessions: { resumed: c.sessionsResumed, detached: source.detachedSessions },
    heartbeat: {
      intervalMs: source.limits.heartbeatIntervalMs,
      timeoutMs: source.limits.heartbeatTimeoutMs,
      slots: source.liveness.slotCount,
      tickMs: source.liveness.tickMs,
    },
  };
}
