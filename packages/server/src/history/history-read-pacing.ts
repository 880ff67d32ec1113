/**
 * The pacing of the Redis engine's history reads (redis-history-store.ts, docs/scaling.md): its defaults
 * and what it reports for /stats and metrics. A module of its own, free of the Redis client, so the CLI's
 * option table can state the defaults and the server can type the report without loading ioredis.
 */

/** Default of `historyReadConcurrency`: reads a node sends to Redis at once. */
export const DEFAULT_HISTORY_READ_CONCURRENCY = 128;
/** Default of `historyReadQueueSize`: reads waiting for their turn at once. */
export const DEFAULT_HISTORY_READ_QUEUE_SIZE = 10_000;
/** Default of `historyReadQueueTimeoutMs`: how long a read may wait for its turn (ms). */
export const DEFAULT_HISTORY_READ_QUEUE_TIMEOUT_MS = 5000;

/** History reads in progress. */
export interface HistoryReadLoad {
  /** Reads sent to Redis and not answered yet. */
  readonly running: number;
  /** Reads waiting for their turn (position reads shared by one channel count once). */
  readonly waiting: number;
}

/**
 * Reads the pacing refused without sending them, since the store was made; each one failed with
 * `unavailable`. Reads refused because the command connection failed are not counted: Redis refused those.
 */
export interface HistoryReadRefusals {
  /** Refused at once: `historyReadQueueSize` reads were already waiting. */
  readonly queueFull: number;
  /** Refused after waiting `historyReadQueueTimeoutMs` for their turn. */
  readonly waitedTooLong: number;
}

/**
 * The bounds the pacing runs with, beside the load so that an operator reads "128 of 128 running" without
 * looking up the configuration. `null` is "no bound": createRedisEngine takes Infinity for each, which
 * JSON cannot carry (JSON.stringify would write it as `null` anyway, and a number field that is sometimes
 * `null` is clearer when the type says so).
 */
export interface HistoryReadLimits {
  /** `historyReadConcurrency`: reads sent to Redis at once; `null`: no bound. */
  readonly concurrency: number | null;
  /** `historyReadQueueSize`: reads waiting for their turn at once; `null`: no bound. */
  readonly queueSize: number | null;
  /** `historyReadQueueTimeoutMs`: how long a read may wait for its turn (ms); `null`: no bound. */
  readonly queueTimeoutMs: number | null;
}

/** The history reads of an engine, as /stats shows them and the metrics export them. */
export interface HistoryReadStats extends HistoryReadLoad {
  readonly refused: HistoryReadRefusals;
  /**
   * The pacing's bounds; `null` when the engine does not pace its reads (the memory engine), rather than
   * three nulls that would read as "paced, without bounds".
   */
  readonly limits: HistoryReadLimits | null;
}

/** What an engine that does not pace its reads reports (the memory engine's reads never wait). */
export const IDLE_HISTORY_READS: HistoryReadStats = Object.freeze({
  running: 0,
  waiting: 0,
  refused: Object.freeze({ queueFull: 0, waitedTooLong: 0 }),
  limits: null,
});

/** A configured bound as {@link HistoryReadLimits} reports it: Infinity (no bound) as `null`. */
export function reportedBound(value: number): number | null {
  return value === Infinity ? null : value;
}
