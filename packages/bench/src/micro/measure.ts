/**
 * Timing one micro-benchmark: it is warmed up, then timed in batches for about a second; the reported
 * figure is the median of the batches' ns/op (robust to a GC pause in one batch).
 */
import { median } from '../stats/aggregate.js';
import type { MicroBenchmark } from './micro.js';

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
