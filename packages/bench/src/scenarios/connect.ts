/**
 * Connect: N connections opened as fast as the target accepts them, with a bounded number of
 * handshakes in flight (--concurrency). Connect time runs from `new WebSocket()` to usable: the open
 * event for raw ws, Socket.IO's `40` connect packet, Switchboard's `connected` push (after JWT
 * verification). The rate is connections / wall time of the whole wave.
 *
 * A warm-up wave comes first and stays open, excluded from every figure (as fanout's and burst's
 * warm-up messages are): the first thousand handshakes of a fresh process are paid mostly to the JIT
 * compiler, which measures how much code a target has rather than what a handshake costs it.
 */
import type { BenchOptions } from '../options.js';
import type { RunResult } from '../report/result.js';
import { Histogram } from '../stats/histogram.js';
import { cpuMicros, ms, peakPerSecond, sleep } from './measure.js';
import type { Scenario, ScenarioContext } from './scenario.js';

/** The connect workload after defaults. */
export function connectParams(options: BenchOptions): {
  connections: number;
  warmup: number;
  concurrency: number;
} {
  const connections = options.connections ?? (options.quick ? 1000 : 10_000);
  return {
    connections,
    warmup: Math.min(2000, Math.max(200, Math.round(connections / 10))),
    concurrency: options.concurrency,
  };
}

async function run(context: ScenarioContext): Promise<RunResult> {
  const params = connectParams(context.options);
  const target = await context.startTarget();
  const fleet = await context.startFleet(target, params.warmup + params.connections);
  await sleep(200);
  context.progress(`warm-up: ${params.warmup} connections (excluded)`);
  const warm = await fleet.connect(params.warmup, params.concurrency, 120_000);
  await sleep(500);
  const before = await target.stats(true);
  context.progress(`connecting ${params.connections}, ${params.concurrency} in flight`);
  const result = await fleet.connect(params.connections, params.concurrency, 120_000);
  const after = await target.stats(true);
  const times = Histogram.from(result.connectTimes);
  const notes = result.failed > 0 ? [`${result.failed} connections failed`] : [];
  if (warm.failed > 0) notes.push(`${warm.failed} warm-up connections failed`);
  const seconds = result.elapsedMs / 1000;
  return {
    metrics: {
      rate: result.ready / seconds,
      peakRate: peakPerSecond(result.readyPer100Ms),
      p50: ms(times.percentile(50)),
      p95: ms(times.percentile(95)),
      p99: ms(times.percentile(99)),
      max: ms(times.max),
      failed: result.failed,
      cpuPerConnect: result.ready === 0 ? NaN : cpuMicros(before, after) / result.ready,
    },
    series: { timeline: result.readyPer100Ms.map((n, i) => ({ x: (i + 1) / 10, y: n * 10 })) },
    notes,
  };
}

/** The connect scenario. */
export const connect: Scenario = {
  name: 'connect',
  description: 'N connections as fast as they are accepted: connection rate and connect-time percentiles',
  metrics: [
    { key: 'rate', label: 'connection rate', unit: '/s', better: 'higher', digits: 0 },
    { key: 'peakRate', label: 'peak rate (best second)', unit: '/s', better: 'higher', digits: 0 },
    { key: 'p50', label: 'connect time p50', unit: 'ms', better: 'lower', digits: 1 },
    { key: 'p95', label: 'connect time p95', unit: 'ms', better: 'lower', digits: 1 },
    { key: 'p99', label: 'connect time p99', unit: 'ms', better: 'lower', digits: 1 },
    { key: 'max', label: 'connect time max', unit: 'ms', better: 'lower', digits: 1 },
    { key: 'failed', label: 'failed connections', unit: '', better: 'lower', digits: 0 },
    { key: 'cpuPerConnect', label: 'server CPU per connection', unit: 'µs', better: 'lower', digits: 0 },
  ],
  charts: [
    {
      key: 'timeline',
      title: 'Connect: connections per second over time',
      xLabel: 's',
      yLabel: 'connections/s',
    },
  ],
  params: (options) => ({ ...connectParams(options) }),
  run,
};
