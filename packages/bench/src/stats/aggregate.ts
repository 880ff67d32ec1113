/** Summaries of repeated runs: the median is the figure reported, the range shows how much it moved. */

/** Median, extremes and spread of a set of repeated measurements. */
export interface Summary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly runs: number;
  /** (max - min) / median: how repeatable the figure was (0 when it did not move, or was 0). */
  readonly spread: number;
}

/** The median of `values` (the mean of the middle two for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  if (sorted.length % 2 === 1) return sorted[mid] ?? NaN;
  return ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}

/** Summarize repeated measurements of one figure, ignoring missing (non-finite) values. */
export function summarize(values: readonly number[]): Summary {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return { median: NaN, min: NaN, max: NaN, runs: 0, spread: 0 };
  const mid = median(finite);
  const min = Math.min(...finite);
  const max = Math.max(...finite);
  return { median: mid, min, max, runs: finite.length, spread: mid === 0 ? 0 : (max - min) / Math.abs(mid) };
}

/** `value / base`: 1 when both are 0, NaN when either is missing or only the base is 0. */
export function ratio(value: number, base: number): number {
  if (!Number.isFinite(value) || !Number.isFinite(base)) return NaN;
  if (base === 0) return value === 0 ? 1 : NaN;
  return value / base;
}
