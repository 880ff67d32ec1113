/** Helpers shared by scenarios: CPU deltas, waiting for deliveries to drain, unit conversions. */
import type { Counters } from '../generator/plan.js';
import type { Fleet } from '../run/fleet.js';
import type { ProcessStats } from '../targets/target.js';

/** CPU time (user + system, µs) a process spent between two snapshots. */
export function cpuMicros(before: ProcessStats, after: ProcessStats): number {
  return after.cpuUser + after.cpuSystem - (before.cpuUser + before.cpuSystem);
}

/**
 * The user-space part of {@link cpuMicros} (µs); the rest is kernel time. On loopback most of a write's
 * cost is the kernel's TCP work, the same for every target, so the user part shows what the target's own
 * code (and its runtime) adds.
 */
export function userCpuMicros(before: ProcessStats, after: ProcessStats): number {
  return after.cpuUser - before.cpuUser;
}

/** CPU use between two snapshots, in percent of one core. */
export function cpuPercent(before: ProcessStats, after: ProcessStats): number {
  const wallMicros = (after.at - before.at) * 1000;
  return wallMicros <= 0 ? NaN : (cpuMicros(before, after) / wallMicros) * 100;
}

/** Milliseconds to sleep. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Wait until the fleet has received `expected` messages since its last counter reset, or until no new
 * message arrived for `quietMs` (loss), at most `maxMs`. Returns the counters (without latency).
 */
export async function drain(
  fleet: Fleet,
  expected: number,
  quietMs = 1000,
  maxMs = 10_000,
): Promise<Counters> {
  const started = Date.now();
  let last = await fleet.counters(false, false);
  let lastChange = Date.now();
  while (last.received < expected && Date.now() - started < maxMs && Date.now() - lastChange < quietMs) {
    await sleep(50);
    const now = await fleet.counters(false, false);
    if (now.received !== last.received) lastChange = Date.now();
    last = now;
  }
  return last;
}

/** µs → ms. */
export const ms = (micros: number): number => micros / 1000;

/** Loss in percent of `expected` (never negative: duplicates do not hide loss elsewhere, but do not count). */
export function lossPercent(expected: number, received: number): number {
  return expected === 0 ? 0 : (Math.max(0, expected - received) / expected) * 100;
}

/**
 * The most events in any one-second window of a per-100 ms series (a sliding sum of ten slots):
 * a single 100 ms slot overstates bursts, because generators timestamp a backlog of replies together.
 */
export function peakPerSecond(per100Ms: readonly number[]): number {
  let best = 0;
  let window = 0;
  for (let i = 0; i < per100Ms.length; i++) {
    window += per100Ms[i] ?? 0;
    if (i >= 10) window -= per100Ms[i - 10] ?? 0;
    best = Math.max(best, window);
  }
  return best;
}

/** Notes about what the generators saw that they did not expect (none when all went as planned). */
export function unexpectedNotes(counters: Counters): string[] {
  const notes: string[] = [];
  if (counters.unexpectedCloses > 0)
    notes.push(`${counters.unexpectedCloses} connections closed unexpectedly`);
  if (counters.subscribeErrors > 0) {
    notes.push(
      `${counters.subscribeErrors} subscribes refused and retried, ${counters.subscribeFailures} given up; ` +
        `the first refusal: ${counters.firstSubscribeError}`,
    );
  }
  if (counters.others > 0) {
    notes.push(`${counters.others} unexpected frames from the server, the first: ${counters.firstOther}`);
  }
  return notes;
}
