/**
 * What a benchmark target is: a server under test, started in a child process of its own (so that its
 * CPU and memory are its own), speaking one client dialect.
 */

/**
 * The client dialect generators speak to a target: Switchboard's v1 with batched frames (`?batch=1`,
 * as the SDK connects) or without, Switchboard's zero-SDK SSE streams (`sse`),
 * protocol v1 over long-polling (`poll`), Socket.IO's, or the raw targets' minimal JSON.
 */
export type DialectName = 'switchboard' | 'switchboard-unbatched' | 'sse' | 'poll' | 'socketio' | 'raw';

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
};
