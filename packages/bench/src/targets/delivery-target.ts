/**
 * The delivery targets: Switchboard as a library (one process, as the `switchboard` target: JWT auth,
 * heartbeats, metrics, admission limits off) with users' inboxes on one store, and the in-process driver
 * (delivery-driver.ts) calling `server.deliver` (or, for the baseline, `server.sendToUser`: no store, no
 * ack). Its Metrics count what the server saw of each message (stored, pushed, acked) so that a run can
 * tell that every delivered message was acked, from the server's side.
 */
import { PrometheusMetrics, createServer } from '@switchboard/server';
import type { ServerOptions } from '@switchboard/server';
import { Histogram } from '../stats/histogram.js';
import { ADMISSION_OFF } from './admission-off.js';
import { drive } from './delivery-driver.js';
import type { SendCall } from './delivery-driver.js';
import { treeStats } from './process-tree.js';
import type { RunningTarget, ServerDeliveries, TargetConfig } from './target.js';

/** The counts of {@link ServerDeliveries}, writable. */
type Counts = {
  -readonly [K in Exclude<keyof ServerDeliveries, 'pushToAck' | 'storeCpuMicros' | 'storeCommands'>]: number;
};

/** Prometheus metrics that also count the inbox hooks for the report. */
class DeliveryMetrics extends PrometheusMetrics {
  private counts = DeliveryMetrics.zero();
  private readonly pushToAck = new Histogram();

  private static zero(): Counts {
    return { stored: 0, pushed: 0, repushed: 0, acked: 0, nacked: 0, refused: 0, deadLettered: 0 };
  }

  override inboxStored(): void {
    super.inboxStored();
    this.counts.stored++;
  }
  override inboxPushed(attempt: 'first' | 'retry'): void {
    super.inboxPushed(attempt);
    if (attempt === 'first') this.counts.pushed++;
    else this.counts.repushed++;
  }
  override inboxAcked(latencyMs: number | null): void {
    super.inboxAcked(latencyMs);
    this.counts.acked++;
    if (latencyMs !== null) this.pushToAck.record(latencyMs * 1000);
  }
  override inboxNacked(reason: 'nack' | 'timeout'): void {
    super.inboxNacked(reason);
    this.counts.nacked++;
  }
  override inboxRefused(reason: Parameters<PrometheusMetrics['inboxRefused']>[0]): void {
    super.inboxRefused(reason);
    this.counts.refused++;
  }
  override deadLettered(...args: Parameters<PrometheusMetrics['deadLettered']>): void {
    super.deadLettered(...args);
    if (args[0] === 'inbox') this.counts.deadLettered++;
  }

  /** The counts since the last reset; `reset` starts new ones. */
  take(reset: boolean): Omit<ServerDeliveries, 'storeCpuMicros' | 'storeCommands'> {
    const taken = { ...this.counts, pushToAck: this.pushToAck.snapshot() };
    if (reset) {
      this.counts = DeliveryMetrics.zero();
      this.pushToAck.reset();
    }
    return taken;
  }
}

/** Where a delivery target keeps inboxes, and what it calls. */
export interface DeliverySetup {
  /** `deliver` into the inbox store chosen by `server` options, or `send`: `sendToUser`, no store. */
  readonly api: 'deliver' | 'send';
  /** Extra createServer options: the engine, `inbox`, `postgres`. */
  readonly server?: Pick<ServerOptions, 'engine' | 'inbox' | 'postgres'>;
  /** Processes of the store the target started (a redis-server), whose CPU is reported beside. */
  readonly storePids?: readonly number[];
  /** The store's command counts so far, by command (Redis: INFO commandstats). */
  readonly storeCommands?: () => Promise<Record<string, number>>;
  /** Run after the server stopped (stop the store, drop the database). */
  readonly cleanup?: () => Promise<void>;
}

/** Start a delivery target as `setup` says. */
export async function startDeliveryTarget(
  config: TargetConfig,
  setup: DeliverySetup,
): Promise<RunningTarget> {
  const metrics = new DeliveryMetrics();
  let server;
  try {
    server = createServer({
      host: config.host,
      port: config.port,
      heartbeatIntervalMs: config.heartbeatMs,
      heartbeatTimeoutMs: config.heartbeatMs * 3,
      historySize: config.historySize,
      batchDelayMs: config.batchDelayMs,
      auth: { secret: config.jwtSecret, algorithms: ['HS256'] },
      metrics,
      ...ADMISSION_OFF,
      shutdownTimeoutMs: 1000,
      ...setup.server,
    });
    await server.start();
  } catch (error) {
    // The store (a Redis, a database) was made for this server alone.
    await setup.cleanup?.().catch(() => undefined);
    throw error;
  }
  const send: SendCall =
    setup.api === 'deliver'
      ? (userId, data) => server.deliver(userId, data)
      : (userId, data) => server.sendToUser(userId, data);
  const storePids = setup.storePids ?? [];
  return {
    port: server.port,
    pids: [],
    connections: () => server.stats().connections,
    takeHeartbeatCost: () => null,
    drive: (params) => drive(setup.api, send, params),
    deliveries: async (reset) => {
      const storeCommands = (await setup.storeCommands?.()) ?? {};
      const tree = storePids.length === 0 ? null : treeStats(storePids);
      return {
        ...metrics.take(reset),
        storeCpuMicros: tree === null ? NaN : tree.cpuUser + tree.cpuSystem,
        storeCommands,
      };
    },
    stop: async () => {
      try {
        await server.stop();
      } finally {
        await setup.cleanup?.();
      }
    },
  };
}
