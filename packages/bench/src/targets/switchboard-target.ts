/**
 * Switchboard as a library (`createServer` from @switchboard/server's build), one process, every
 * feature on: JWT authentication (HS256, token in the query), heartbeats, history, Prometheus metrics.
 * Admission limits meant for the internet are off (admission-off.ts).
 */
import { PrometheusMetrics, createServer } from '@switchboard/server';
import { ADMISSION_OFF } from './admission-off.js';
import type { HeartbeatCost, RunningTarget, TargetConfig } from './target.js';

/** Prometheus metrics that also keep the heartbeat tick durations for the report. */
class TimedMetrics extends PrometheusMetrics {
  cost: HeartbeatCost = { ticks: 0, totalMs: 0, maxMs: 0 };

  override heartbeatTick(visited: number, durationMs: number): void {
    super.heartbeatTick(visited, durationMs);
    const { ticks, totalMs, maxMs } = this.cost;
    this.cost = { ticks: ticks + 1, totalMs: totalMs + durationMs, maxMs: Math.max(maxMs, durationMs) };
  }
}

/** Start the Switchboard target. */
export async function start(config: TargetConfig): Promise<RunningTarget> {
  const metrics = new TimedMetrics();
  const server = createServer({
    host: config.host,
    port: config.port,
    heartbeatIntervalMs: config.heartbeatMs,
    heartbeatTimeoutMs: config.heartbeatMs * 3,
    historySize: config.historySize,
    batchDelayMs: config.batchDelayMs,
    ...(config.deflate ? { compression: { enabled: true } } : {}),
    auth: { secret: config.jwtSecret, algorithms: ['HS256'] },
    metrics,
    ...ADMISSION_OFF,
    shutdownTimeoutMs: 1000,
  });
  await server.start();
  return {
    port: server.port,
    pids: [],
    connections: () => server.stats().connections,
    takeHeartbeatCost: () => {
      const taken = metrics.cost;
      metrics.cost = { ticks: 0, totalMs: 0, maxMs: 0 };
      return taken;
    },
    stop: () => server.stop(),
  };
}
