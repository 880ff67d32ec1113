/**
 * Idle: N connections opened in four waves and then held with heartbeats.
 *
 * Memory per connection: the target collects garbage (--expose-gc) before anything connects (the
 * baseline) and after each wave; (heap or RSS after GC - baseline) / connections. Then the
 * connections sit idle for one heartbeat interval (by default), so every one of them is pinged once:
 * the target's CPU over that window, its event-loop delay, and the heartbeat sweep's own time where
 * the target can report it (Switchboard's scheduler ticks; the raw targets' interval sweep).
 */
import type { BenchOptions } from '../options.js';
import type { Point, RunResult } from '../report/result.js';
import { cpuMicros, cpuPercent, sleep } from './measure.js';
import type { Scenario, ScenarioContext } from './scenario.js';

const WAVES = 4;
const KB = 1024;

/** The idle workload after defaults. */
export function idleParams(options: BenchOptions): {
  connections: number;
  idleMs: number;
  heartbeatMs: number;
} {
  return {
    connections: options.connections ?? (options.quick ? 1000 : 10_000),
    idleMs: options.idleMs ?? (options.quick ? Math.min(options.heartbeatMs, 3000) : options.heartbeatMs),
    heartbeatMs: options.heartbeatMs,
  };
}

async function run(context: ScenarioContext): Promise<RunResult> {
  const params = idleParams(context.options);
  const notes: string[] = [];
  const target = await context.startTarget();
  await sleep(300);
  const base = await target.gc();
  const fleet = await context.startFleet(target, params.connections);
  const heap: Point[] = [{ x: 0, y: 0 }];
  const rss: Point[] = [{ x: 0, y: 0 }];
  let connected = 0;
  let last = base;
  for (let wave = 1; wave <= WAVES; wave++) {
    const count = Math.round((params.connections * wave) / WAVES) - connected;
    context.progress(`wave ${wave}/${WAVES}: connecting ${count} (${connected} open)`);
    const result = await fleet.connect(count, context.options.concurrency, 60_000);
    if (result.failed > 0) throw new Error(`${result.failed} connections failed`);
    connected += count;
    // Let handshake garbage and first heartbeat-independent timers settle before measuring.
    await sleep(500);
    last = await target.gc();
    heap.push({ x: connected, y: (last.heapUsed - base.heapUsed) / KB / KB });
    rss.push({ x: connected, y: (last.rss - base.rss) / KB / KB });
  }
  if (Number.isFinite(last.connections) && last.connections !== params.connections) {
    notes.push(`the target counts ${last.connections} connections, expected ${params.connections}`);
  }

  context.progress(`holding ${connected} idle connections for ${params.idleMs} ms`);
  await fleet.counters(true, false);
  const before = await target.stats(true);
  await sleep(params.idleMs);
  const after = await target.stats(true);
  const counters = await fleet.counters(true, false);
  if (counters.unexpectedCloses > 0)
    notes.push(`${counters.unexpectedCloses} connections were closed while idle`);
  const windowS = (after.at - before.at) / 1000;
  const sweep = after.heartbeat;
  return {
    metrics: {
      heapPerConnection: (last.heapUsed - base.heapUsed) / params.connections / KB,
      rssPerConnection: (last.rss - base.rss) / params.connections / KB,
      externalPerConnection: (last.external - base.external) / params.connections / KB,
      idleCpuPercent: cpuPercent(before, after),
      idleCpuPerConnectionSecond: cpuMicros(before, after) / params.connections / windowS,
      loopDelayP99: after.loopDelayP99Ms,
      loopDelayMax: after.loopDelayMaxMs,
      sweepBusyPercent: sweep === null ? NaN : (sweep.totalMs / (windowS * 1000)) * 100,
      sweepMaxMs: sweep === null ? NaN : sweep.maxMs,
      pingsPerSecond: counters.pings / windowS,
    },
    series: { heap, rss },
    notes,
  };
}

/** The idle scenario. */
export const idle: Scenario = {
  name: 'idle',
  description:
    'N idle connections with heartbeats: memory per connection after GC, idle CPU, heartbeat sweep',
  metrics: [
    { key: 'heapPerConnection', label: 'heap per connection', unit: 'KB', better: 'lower', digits: 2 },
    { key: 'rssPerConnection', label: 'RSS per connection', unit: 'KB', better: 'lower', digits: 2 },
    {
      key: 'externalPerConnection',
      label: 'external (Buffers) per connection',
      unit: 'KB',
      better: 'lower',
      digits: 2,
    },
    { key: 'idleCpuPercent', label: 'idle CPU', unit: '% of a core', better: 'lower', digits: 2 },
    {
      key: 'idleCpuPerConnectionSecond',
      label: 'idle CPU per connection-second',
      unit: 'µs',
      better: 'lower',
      digits: 3,
    },
    { key: 'loopDelayP99', label: 'event-loop delay p99 while idle', unit: 'ms', better: 'lower', digits: 1 },
    { key: 'loopDelayMax', label: 'event-loop delay max while idle', unit: 'ms', better: 'lower', digits: 1 },
    {
      key: 'sweepBusyPercent',
      label: 'heartbeat sweep time',
      unit: '% of wall time',
      better: 'lower',
      digits: 3,
    },
    { key: 'sweepMaxMs', label: 'longest heartbeat sweep tick', unit: 'ms', better: 'lower', digits: 2 },
    { key: 'pingsPerSecond', label: 'application pings answered', unit: '/s', better: 'lower', digits: 0 },
  ],
  charts: [
    {
      key: 'heap',
      title: 'Idle: heap after GC vs connections',
      xLabel: 'connections',
      yLabel: 'heap over baseline (MB)',
    },
    {
      key: 'rss',
      title: 'Idle: RSS after GC vs connections',
      xLabel: 'connections',
      yLabel: 'RSS over baseline (MB)',
    },
  ],
  params: (options) => ({ ...idleParams(options) }),
  run,
};
