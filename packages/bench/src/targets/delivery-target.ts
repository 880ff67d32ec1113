/**
 * The delivery targets: Switchboard as a library (one process, as the `switchboard` target: JWT auth,
 * heartbeats, metrics, admission limits off) with users' inboxes on one store, and the in-process driver
 * (delivery-driver.ts) calling `server.deliver` (or, for the baseline, `server.sendToUser`: no store, no
 * ack). Its Metrics count what the server saw of each message (stored, pushed, acked) so that a run can
 * tell that every delivered message was acked, from the server's side.
 */
import { PrometheusMetrics, createServer } from '@switchboard/server';
import type { Engine } from '@switchboard/server';
import { Histogram } from '../stats/histogram.js';
import { ADMISSION_OFF } from './admission-off.js';
import { drive } from './delivery-driver.js';
import type { SendCall } from './delivery-driver.js';
import { treeStats } from './process-tree.js';
import type { RunningTarget, ServerDeliveries, TargetConfig } from './target.js';

/** Prometheus metrics that also count the inbox hooks for the report. */
class DeliveryMetrics extends PrometheusMetrics {
  stored = 0;
  pushed = 0;
  repushed = 0;
  acked = 0;
  nacked = 0;
  refused = 0;
  deadLettered = 0;
  pushToAck = new Histogram();

  override inboxStored(): void {
    super.inboxStored();
    this.stored++;
  }
  override inboxPushed(attempt: 'first' | 'retry'): void {
    super.inboxPushed(attempt);
    if (attempt === 'first') this.pushed++;
    else this.repushed++;
  }
  override inboxAcked(latencyMs: number | null): void {
    super.inboxAcked(latencyMs);
    this.acked++;
    if (latencyMs !== null) this.pushToAck.record(latencyMs * 1000);
  }
  override inboxNacked(reason: 'nack' | 'timeout'): void {
    super.inboxNacked(reason);
    this.nacked++;
  }
  override inboxRefused(reason: Parameters<PrometheusMetrics['inboxRefused']>[0]): void {
    super.inboxRefused(reason);
    this.refused++;
  }
  override deadLettered(...args: Parameters<PrometheusMetrics['deadLettered']>): void {
    super.deadLettered(...args);
    this.deadLettered++;
  }

  take(reset: boolean): Omit<ServerDeliveries, 'storeCpuMicros'> {
    const taken = {
      stored: this.stored,
      pushed: this.pushed,
      repushed: this.repushed,
      acked: this.acked,
      nacked: this.nacked,
      refused: this.refused,
      deadLettered: this.deadLettered,
      pushToAck: this.pushToAck.snapshot(),
    };
    if (reset) {
      this.stored = this.pushed = this.repushed = this.acked = 0;
      this.nacked = this.refused = this.deadLettered = 0;
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
  readonly server?: { readonly engine?: Engine; readonly inbox?: object; readonly postgres?: object };
  /** Processes of the store the target started (a redis-server), whose CPU is reported beside. */
  readonly storePids?: readonly number[];
  /** Run after the server stopped (stop the store, drop the database). */
  readonly cleanup?: () => Promise<void>;
}

/** Start a delivery target as `setup` says. */
export async function startDeliveryTarget(
  config: TargetConfig,
  setup: DeliverySetup,
): Promise<RunningTarget> {
  const metrics = new DeliveryMetrics();
  const server = createServer({
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
  try {
    await server.start();
  } catch (error) {
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
    deliveries: (reset) => {
      const tree = storePids.length === 0 ? null : treeStats(storePids);
      return {
        ...metrics.take(reset),
        storeCpuMicros: tree === null ? NaN : tree.cpuUser + tree.cpuSystem,
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
