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
export interface ChannelStats {
  readonly name: string;
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
