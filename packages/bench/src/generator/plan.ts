/**
 * Workload plans, declared in terms of global connection indices so that the orchestrator can hand
 * the same plan to every generator and each applies it to the connections it holds.
 */
import type { HistogramSnapshot } from '../stats/histogram.js';
import type { DialectName } from '../targets/target.js';

/**
 * Which room a connection belongs to: one room for all, consecutive groups of `size` indices, or
 * spread over `rooms` rooms by index modulo (churning connections joining existing rooms).
 */
export type RoomSpec =
  | { readonly kind: 'fixed'; readonly room: string }
  | { readonly kind: 'groups'; readonly prefix: string; readonly size: number }
  | { readonly kind: 'spread'; readonly prefix: string; readonly rooms: number };

/** A range of global connection indices. */
export interface IndexRange {
  readonly first: number;
  readonly count: number;
}

/** The room of connection `index`. */
export function roomOf(spec: RoomSpec, index: number): string {
  switch (spec.kind) {
    case 'fixed':
      return spec.room;
    case 'groups':
      return `${spec.prefix}${Math.floor(index / spec.size)}`;
    case 'spread':
      return `${spec.prefix}${index % spec.rooms}`;
  }
}

/** Whether `index` is in `range`. */
export function inRange(range: IndexRange, index: number): boolean {
  return index >= range.first && index < range.first + range.count;
}

/** How many indices two ranges share. */
export function overlap(a: IndexRange, b: IndexRange): number {
  return Math.max(0, Math.min(a.first + a.count, b.first + b.count) - Math.max(a.first, b.first));
}

/**
 * Split `total` into integer shares proportional to `weights` (largest remainders), so that a fleet
 * publishes exactly the planned number of messages.
 */
export function splitProportionally(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  if (sum === 0) return weights.map(() => 0);
  const exact = weights.map((w) => (total * w) / sum);
  const shares = exact.map((x) => Math.floor(x));
  let left = total - shares.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0]);
  for (const [, i] of order) {
    if (left <= 0) break;
    shares[i] = (shares[i] ?? 0) + 1;
    left--;
  }
  return shares;
}

/**
 * Sockets bound to one source address before the next is used. Linux finds a free port for a bind()
 * by scanning, which gets slow as one address fills up (10,000 sockets on one address cost ~4x the
 * client CPU per connect here); a fresh address every thousand keeps bind() cheap.
 */
export const SOCKETS_PER_ADDRESS = 1000;

/** The source address of the `n`-th socket a generator opens (0-based). */
export function sourceAddress(prefix: string, n: number): string {
  return `${prefix}${2 + (Math.floor(n / SOCKETS_PER_ADDRESS) % 250)}`;
}

/** Settings a generator starts with. */
export interface GeneratorInit {
  readonly dialect: DialectName;
  /** Whether the WebSocket clients offer permessage-deflate (ws's default offer). */
  readonly deflate: boolean;
  /** `ws://host:port` of the target. */
  readonly url: string;
  /**
   * Source addresses of this generator's sockets: `<prefix><n>` with n = 2, 3, ... changing every
   * {@link SOCKETS_PER_ADDRESS} sockets (each address has its own ~28k ephemeral ports).
   */
  readonly addressPrefix: string;
  /** HS256 secret for Switchboard tokens. */
  readonly jwtSecret: string;
}

/** Open `count` more connections with global indices from `firstIndex`, at most `concurrency` handshakes at once. */
export interface ConnectParams {
  readonly firstIndex: number;
  readonly count: number;
  readonly concurrency: number;
  readonly timeoutMs: number;
}

/** What a connect wave achieved. */
export interface ConnectResult {
  readonly ready: number;
  readonly failed: number;
  readonly elapsedMs: number;
  /** From `new WebSocket()` to usable (the target's ready frame where it sends one), µs. */
  readonly connectTimes: HistogramSnapshot;
  /** Connections that became ready in each 100 ms since the wave started. */
  readonly readyPer100Ms: readonly number[];
}

/** Subscribe the held connections in `range` to their rooms; resolves when every ack arrived. */
export interface SubscribeParams {
  readonly range: IndexRange;
  readonly rooms: RoomSpec;
  readonly timeoutMs: number;
}

/** Publish from the held connections in `range`, each to its room, at a fixed total rate. */
export interface PublishParams {
  readonly range: IndexRange;
  readonly rooms: RoomSpec;
  /** Messages per second from this generator (all its publishers together). */
  readonly ratePerSecond: number;
  /** Messages to publish from this generator. */
  readonly messages: number;
  /** Approximate payload size (bytes of the `data` JSON). */
  readonly payloadBytes: number;
  /** Messages sent back to back from one connection in one TCP write (default 1). */
  readonly burst?: number;
  /** What fills the payload (default `padded`; see PayloadShape). */
  readonly payloadShape?: PayloadShape;
}

/**
 * What fills a message's payload up to its size: `padded`, one string of `x` (what most benchmarks send,
 * and what deflate shrinks to almost nothing); `ticker`, rows of quotes with repeated keys and varying
 * numbers, as a market-data feed sends (JSON that deflate shrinks as it would in production).
 */
export type PayloadShape = 'padded' | 'ticker';

/** Receipts and health since the last reset. */
export interface Counters {
  readonly received: number;
  /** Bytes the generators' sockets read from the wire (TCP payload: frames and their headers, pings included). */
  readonly bytesRead: number;
  /** WebSocket messages that carried received messages (received / carriers = messages per batch). */
  readonly carriers: number;
  readonly published: number;
  /** Received messages the generator answered (inbox acks sent). */
  readonly acknowledged: number;
  /** CPU time the generator process has used since it started (µs, user + system; summed over a fleet). */
  readonly cpuMicros: number;
  readonly latency: HistogramSnapshot | null;
  /** Server pings answered (application level). */
  readonly pings: number;
  /** Subscribes the target refused (each retried with a backoff), the first refusal, and those given up. */
  readonly subscribeErrors: number;
  readonly firstSubscribeError: string;
  readonly subscribeFailures: number;
  /** Frames of no expected kind (an error, an `unsubscribed` push, ...), and the first one (truncated). */
  readonly others: number;
  readonly firstOther: string;
  /** Connections the server closed or that failed after they were ready. */
  readonly unexpectedCloses: number;
  readonly open: number;
}

/** Open and close connections continuously: each new one is ready (and subscribed), then the oldest closes. */
export interface ChurnParams {
  /** Connections opened (and as many closed) per second. */
  readonly ratePerSecond: number;
  readonly durationMs: number;
  /** How many churning connections are open at once. */
  readonly poolSize: number;
  readonly rooms: RoomSpec;
}

/** What churn achieved. */
export interface ChurnResult {
  readonly connected: number;
  readonly disconnected: number;
  readonly failed: number;
  readonly connectTimes: HistogramSnapshot;
}

/** Reconnect after unexpected closes (the storm scenario): full-jitter backoff, then resubscribe. */
export interface ReconnectParams {
  readonly enabled: boolean;
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
  /** Rooms to resubscribe to; null: none. */
  readonly rooms: RoomSpec | null;
}

/** Reconnection progress since reconnecting was enabled. */
export interface ReconnectStatus {
  /** Connections currently ready and (if asked) resubscribed. */
  readonly ready: number;
  readonly held: number;
  readonly reconnects: number;
  /** Connections back per 100 ms since the first close. */
  readonly backPer100Ms: readonly number[];
  /** When the first unexpected close and the last recovery happened (ms since the epoch), 0 if none. */
  readonly firstCloseAt: number;
  readonly lastBackAt: number;
}

/** The IPC methods of a generator process. */
export type GeneratorApi = {
  init: { params: GeneratorInit; result: null };
  connect: { params: ConnectParams; result: ConnectResult };
  subscribe: { params: SubscribeParams; result: { subscribed: number; elapsedMs: number } };
  publish: { params: PublishParams; result: { published: number; elapsedMs: number } };
  /** End the running publish at its next tick (it resolves with what it published). */
  stopPublishing: { params: null; result: null };
  counters: { params: { reset: boolean; latency: boolean }; result: Counters };
  churn: { params: ChurnParams; result: ChurnResult };
  reconnect: { params: ReconnectParams; result: null };
  reconnectStatus: { params: null; result: ReconnectStatus };
  closeAll: { params: null; result: { closed: number } };
};
