/**
 * How busy the machine is apart from us: the share of CPU time all cores spent working over a short
 * window. Runs wait (bounded) for the machine to calm down, and say so in their notes when it did not:
 * on two shared cores, anything else running moves latency and rate figures.
 */
import { cpus } from 'node:os';

function totals(): { busy: number; all: number } {
  let busy = 0;
  let all = 0;
  for (const cpu of cpus()) {
    const t = cpu.times;
    busy += t.user + t.nice + t.sys + t.irq;
    all += t.user + t.nice + t.sys + t.irq + t.idle;
  }
  return { busy, all };
}

/** Percent of all cores' time spent busy over the next `windowMs`. */
export async function busyPercent(windowMs = 1000): Promise<number> {
  const before = totals();
  await new Promise((resolve) => setTimeout(resolve, windowMs));
  const after = totals();
  const all = after.all - before.all;
  return all <= 0 ? 0 : ((after.busy - before.busy) / all) * 100;
}

/** Wait until the machine is at most `maxBusyPercent` busy, at most `maxWaitMs`; resolves with the last reading. */
export async function waitForQuiet(maxBusyPercent: number, maxWaitMs: number): Promise<number> {
  const deadline = Date.now() + maxWaitMs;
  let busy = await busyPercent(maxWaitMs === 0 ? 100 : 1000);
  while (busy > maxBusyPercent && Date.now() < deadline) busy = await busyPercent();
  return busy;
}
