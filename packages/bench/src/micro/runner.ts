/**
 * The micro-benchmark runner: each benchmark is warmed up, then timed in batches for about a second;
 * the reported figure is the median of the batches' ns/op (robust to a GC pause in one batch).
 */
import type { Writable } from 'node:stream';
import { median } from '../stats/aggregate.js';
import { encodeMessagePush } from './encode-message-push.js';
import { FRAME_TEXT_BENCHMARKS } from './frame-text.bench.js';
import type { MicroBenchmark } from './micro.js';

/** Every micro-benchmark. Add hot-function benchmarks here. */
export const MICRO_BENCHMARKS: readonly MicroBenchmark[] = [encodeMessagePush, ...FRAME_TEXT_BENCHMARKS];

/** One benchmark's result. */
export interface MicroResult {
  readonly name: string;
  readonly nsPerOp: number;
  readonly opsPerSecond: number;
  readonly batches: number;
}

/** Time `benchmark`: batches of `batchSize` calls for about `budgetMs`. */
export function measure(benchmark: MicroBenchmark, budgetMs = 1000, batchSize = 10_000): MicroResult {
  const op = benchmark.setup();
  let sink: unknown;
  for (let i = 0; i < batchSize; i++) sink = op();
  const samples: number[] = [];
  const end = performance.now() + budgetMs;
  while (performance.now() < end || samples.length < 3) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < batchSize; i++) sink = op();
    samples.push(Number(process.hrtime.bigint() - start) / batchSize);
  }
  if (sink === Symbol.for('never')) samples.push(0);
  const nsPerOp = median(samples);
  return { name: benchmark.name, nsPerOp, opsPerSecond: 1e9 / nsPerOp, batches: samples.length };
}

/** Run the benchmarks whose name contains `filter` and print a table; resolves with the exit code. */
export function runMicro(filter: string | undefined, out: Writable): Promise<number> {
  const selected = MICRO_BENCHMARKS.filter((b) => filter === undefined || b.name.includes(filter));
  if (selected.length === 0) {
    out.write(`no micro-benchmark matches ${filter ?? ''}\n`);
    return Promise.resolve(2);
  }
  out.write('| benchmark | ns/op | ops/s |\n| --- | --- | --- |\n');
  for (const benchmark of selected) {
    const r = measure(benchmark);
    out.write(
      `| ${r.name} | ${r.nsPerOp.toFixed(1)} | ${Math.round(r.opsPerSecond).toLocaleString('en-US')} |\n`,
    );
  }
  return Promise.resolve(0);
}
