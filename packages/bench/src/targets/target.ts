/**
 * What a benchmark target is: a server under test, started in a child process of its own (so that its
 * CPU and memory are its own), speaking one client dialect.
 */

/**
 * The client dialect generators speak to a target: Switchboard's v1 with batched frames (`?batch=1`,
 * as the SDK connects) or without, v1 in MessagePack (`switchboard-msgpack`), Switchboard's zero-SDK SSE streams (`sse`),
 * protocol v1 over long-polling (`poll`), Socket.IO's, the raw targets' minimal JSON, or v1 with each
 * user's inbox open and every push acked (`inbox`, the delivery targets).
 */
export type DialectName =
  | 'switchboard'
  | 'switchboard-msgpack'
  | 'switchboard-unbatched'
  | 'sse'
  | 'poll'
  | 'socketio'
  | 'raw'
  | 'inbox';

import type { HistogramSnapshot } from '../stats/histogram.js';

/** Settings every target is started with: the same workload knobs for all. */
export interface TargetConfig {
  /** Interface to listen on. */
  readonly host: string;
  /** Port to listen on; 0 picks a free one (a restart passes the previous port). */
  readonly port: number;
  /** Heartbeat (ping) interval of the target (ms); every target pings at the same rate. */
  readonly heartbeatMs: number;
  /** HS256 secret: Switchboard verifies the generators' JWTs with it; the others ignore it. */
  readonly jwtSecret: string;
  /** Messages of history kept per channel (Switchboard only). */
  readonly historySize: number;
  /** Switchboard's `batchDelayMs` (ms); only clients that ask for batched frames see it. */
  readonly batchDelayMs: number;
  /** Server processes, for targets that run several (`switchboard-workers`). */
  readonly workers: number;
  /** Turn on the target's permessage-deflate (its `-deflate` variant; TargetSpec.deflate). */
  readonly deflate: boolean;
}

/** Cost of the target's heartbeat sweeps since the last reset (when the target can tell). */
export interface HeartbeatCost {
  readonly ticks: number;
  readonly totalMs: number;
  readonly maxMs: number;
}

/** A started target, inside its process. */
export interface RunningTarget {
  /** The port it listens on. */
  readonly port: number;
  /**
   * Processes the target runs outside the host (a cluster, a Redis): its figures are then those of
   * these processes and their descendants, read from /proc, and the host's own are left out. Empty
   * for targets that run inside the host.
   */
  readonly pids: readonly number[];
  /** Open client connections (NaN when the target cannot tell). */
  connections(): number;
  /** Heartbeat sweep cost since the last call (and reset it), or null when heartbeats are per socket. */
  takeHeartbeatCost(): HeartbeatCost | null;
  /** Close the server and every connection. */
  stop(): Promise<void>;
  /** Delivery targets: call the server's delivery API at a fixed rate (see delivery-driver.ts). */
  drive?(params: DriveParams): Promise<DriveResult>;
  /** Delivery targets: what the server counted since the last reset. */
  deliveries?(reset: boolean): Promise<ServerDeliveries>;
}

/** What the orchestrator asks a delivery target to send: `messages` at `ratePerSecond`, round robin over users. */
export interface DriveParams {
  /** Users `user-<first>` .. `user-<first + count - 1>` (the generators' connection indices). */
  readonly first: number;
  readonly count: number;
  readonly ratePerSecond: number;
  readonly messages: number;
  /** Approximate payload size (bytes of the `data` JSON). */
  readonly payloadBytes: number;
  /** Calls unresolved at once at most; past it the driver waits (and falls behind the rate). */
  readonly maxInFlight: number;
}

/** What a drive achieved. */
export interface DriveResult {
  /** The API the target calls: `deliver` (the messages must be acked) or `send` (`sendToUser`, no ack). */
  readonly api: 'deliver' | 'send';
  /** Calls made, and those that resolved (the messages the users must receive). */
  readonly called: number;
  readonly resolved: number;
  /** Calls that rejected, and the first rejection. */
  readonly refused: number;
  readonly firstRefusal: string;
  /** From the first call to the last one settled (ms). */
  readonly elapsedMs: number;
  /** Call to resolve of each call (µs): for `deliver`, until the message is durable in the store. */
  readonly callTimes: HistogramSnapshot;
  /** Ticks that found `maxInFlight` calls unresolved and had to wait. */
  readonly stalls: number;
}

/** Delivery figures a delivery target's server counted (its Metrics hooks), since the last reset. */
export interface ServerDeliveries {
  /** Inbox messages stored, pushed the first time and again (redeliveries), acked, given back. */
  readonly stored: number;
  readonly pushed: number;
  readonly repushed: number;
  readonly acked: number;
  readonly nacked: number;
  readonly refused: number;
  readonly deadLettered: number;
  /** Push to ack seen by the server (µs), for the acks of messages this node pushed. */
  readonly pushToAck: HistogramSnapshot;
  /** CPU time of the store's own processes (redis-server) so far (µs), NaN when not ours to measure. */
  readonly storeCpuMicros: number;
  /** Commands the store ran so far, by command (Redis: INFO commandstats), empty when not ours to ask. */
  readonly storeCommands: Readonly<Record<string, number>>;
}
/** A target module: `targets/<name>-target.ts` exports `start`. */
export interface TargetModule {
  start(config: TargetConfig): Promise<RunningTarget>;
}

/** A process's resource figures, as the orchestrator reads them over IPC. */
export interface ProcessStats {
  /** Resident set size (bytes). */
  readonly rss: number;
  /** Heap figures are NaN for targets measured from /proc (no access to their V8 heaps). */
  readonly heapUsed: number;
  readonly heapTotal: number;
  /** Memory of C++ objects bound to JS (bytes), Buffers included. */
  readonly external: number;
  /** CPU time since the process started (µs). */
  readonly cpuUser: number;
  readonly cpuSystem: number;
  /** Open client connections the target counts. */
  readonly connections: number;
  /** Event-loop delay since the last reset (ms). */
  readonly loopDelayP99Ms: number;
  readonly loopDelayMaxMs: number;
  readonly heartbeat: HeartbeatCost | null;
  /** `performance.timeOrigin + performance.now()` when taken. */
  readonly at: number;
}

/** The IPC methods of a target process. */
export type TargetApi = {
  start: { params: TargetConfig; result: { port: number; pids: readonly number[] } };
  /** Figures now; `reset` restarts the event-loop delay and heartbeat windows. */
  stats: { params: { reset: boolean }; result: ProcessStats };
  /** Collect garbage (needs --expose-gc), then the figures. */
  gc: { params: null; result: ProcessStats };
  stop: { params: null; result: null };
  drive: { params: DriveParams; result: DriveResult };
  deliveries: { params: { reset: boolean }; result: ServerDeliveries };
};
