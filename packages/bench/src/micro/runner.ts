/** The micro-benchmark runner: every benchmark, and the table `switchboard-bench micro` prints. */
import type { Writable } from 'node:stream';
import { encodeMessagePush } from './encode-message-push.js';
import { FRAME_TEXT_BENCHMARKS } from './frame-text.bench.js';
import { measure } from './measure.js';
import type { MicroBenchmark } from './micro.js';

/** Every micro-benchmark. Add hot-function benchmarks here. */
export const MICRO_BENCHMARKS: readonly MicroBenchmark[] = [encodeMessagePush, ...FRAME_TEXT_BENCHMARKS];

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
