/**
 * Figures over event times (drain and failover scenarios): percentiles of a list, the most events in any
 * window of a given length, and whether a list of admissions kept to a token bucket's bound. Pure.
 */

/** The `p`-th percentile (0-100, nearest rank) of `values`; NaN when empty. */
export function percentileOf(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] ?? NaN;
}

/** The most of `times` (ms, any order) inside any window `[t, t + windowMs)`. */
export function peakInWindow(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let first = 0;
  for (let last = 0; last < sorted.length; last++) {
    while ((sorted[last] ?? 0) - (sorted[first] ?? 0) >= windowMs) first++;
    best = Math.max(best, last - first + 1);
  }
  return best;
}

/**
 * How far `times` (ms, any order) go past what a token bucket of `ratePerSecond` refilled per second and
 * `burst` tokens can admit: the largest `count(times in [a, b]) - burst - ratePerSecond x (b - a) / 1000`
 * over every interval; 0 or less means the bound held everywhere. (A bucket that starts full admits at most
 * `burst + rate x length` in any interval, so this is the test of "never over the budget".) Times read
 * from a clock that counts whole `resolutionMs` can make an interval look up to that much shorter than it
 * was: the bound then allows `rate x resolutionMs` more.
 */
export function tokenBucketExcess(
  times: readonly number[],
  ratePerSecond: number,
  burst: number,
  resolutionMs = 0,
): number {
  const sorted = [...times].sort((a, b) => a - b);
  if (sorted.length === 0) return -burst;
  const perMs = ratePerSecond / 1000;
  // count in [t_i, t_j] is j - i + 1: maximise (j + 1 - perMs t_j) - (i - perMs t_i) over i <= j.
  let lowest = Infinity;
  let best = -Infinity;
  for (let j = 0; j < sorted.length; j++) {
    const t = sorted[j] ?? 0;
    lowest = Math.min(lowest, j - perMs * t);
    best = Math.max(best, j + 1 - perMs * t - lowest);
  }
  return best - burst - perMs * resolutionMs;
}

/** How many of `times` fall in each `slotMs` slot from `origin` on (slots before `origin` are dropped). */
export function perSlot(times: readonly number[], origin: number, slotMs: number): number[] {
  const slots: number[] = [];
  for (const t of times) {
    if (t < origin) continue;
    const slot = Math.floor((t - origin) / slotMs);
    while (slots.length <= slot) slots.push(0);
    slots[slot] = (slots[slot] ?? 0) + 1;
  }
  return slots;
}
