/**
 * A log-linear latency histogram (HdrHistogram's idea, in ~100 lines): values are microseconds, each
 * power of two is split into 64 buckets, so any percentile is within ~1.6% of the true value, memory is
 * fixed (a few KB) and recording is one array increment. Generators record every message; the
 * orchestrator merges their histograms, so percentiles are over every delivery, not a sample.
 */

/** Sub-buckets per power of two: the relative precision is 1 / SUB_BUCKETS. */
const SUB_BITS = 6;
const SUB_BUCKETS = 1 << SUB_BITS;
/** Powers of two covered: 1 µs to 2^40 µs (~12 days); larger values land in the last bucket. */
const MAGNITUDES = 40;
/** Bucket 0 holds values below 1 µs; bucket 1 + m * SUB_BUCKETS + s holds [2^m (1 + s/64), 2^m (1 + (s+1)/64)). */
const BUCKETS = 1 + (MAGNITUDES + 1) * SUB_BUCKETS;

/** A histogram in transit (IPC, JSON): sparse `[bucket, count]` pairs plus the exact extremes. */
export interface HistogramSnapshot {
  readonly count: number;
  readonly sum: number;
  readonly min: number;
  readonly max: number;
  readonly buckets: readonly (readonly [number, number])[];
}

/** The bucket of a value in microseconds. */
export function bucketOf(micros: number): number {
  if (!(micros >= 1)) return 0;
  const magnitude = Math.min(Math.floor(Math.log2(micros)), MAGNITUDES);
  const base = 2 ** magnitude;
  const sub = Math.min(Math.floor(((micros - base) / base) * SUB_BUCKETS), SUB_BUCKETS - 1);
  return 1 + magnitude * SUB_BUCKETS + sub;
}

/** The midpoint (µs) of a bucket: what a percentile that falls in it reports. */
export function bucketValue(bucket: number): number {
  if (bucket === 0) return 0.5;
  const magnitude = Math.floor((bucket - 1) / SUB_BUCKETS);
  const sub = (bucket - 1) % SUB_BUCKETS;
  const base = 2 ** magnitude;
  return base + ((sub + 0.5) / SUB_BUCKETS) * base;
}

/** Latencies in microseconds, mergeable across processes. */
export class Histogram {
  private counts = new Float64Array(BUCKETS);
  /** Values recorded. */
  count = 0;
  /** Sum of the values (µs), for the mean. */
  sum = 0;
  /** Smallest value recorded (µs); Infinity when empty. */
  min = Infinity;
  /** Largest value recorded (µs); 0 when empty. */
  max = 0;

  /** Record one value (µs). Negative values (clock skew between processes) count as 0. */
  record(micros: number): void {
    const value = micros > 0 ? micros : 0;
    const index = bucketOf(value);
    this.counts[index] = (this.counts[index] ?? 0) + 1;
    this.count++;
    this.sum += value;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
  }

  /** The value (µs) at percentile `p` (0-100); the exact max for p = 100, 0 when empty. */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    if (p >= 100) return this.max;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i] ?? 0;
      if (seen >= rank) return Math.min(Math.max(bucketValue(i), this.min), this.max);
    }
    return this.max;
  }

  /** Mean (µs), 0 when empty. */
  mean(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }

  /** Add another histogram's values to this one. */
  merge(other: Histogram | HistogramSnapshot): void {
    const snapshot = other instanceof Histogram ? other.snapshot() : other;
    if (snapshot.count === 0) return;
    for (const [bucket, n] of snapshot.buckets) this.counts[bucket] = (this.counts[bucket] ?? 0) + n;
    this.count += snapshot.count;
    this.sum += snapshot.sum;
    this.min = Math.min(this.min, snapshot.min);
    this.max = Math.max(this.max, snapshot.max);
  }

  /** Forget every value. */
  reset(): void {
    this.counts = new Float64Array(BUCKETS);
    this.count = 0;
    this.sum = 0;
    this.min = Infinity;
    this.max = 0;
  }

  /** A sparse copy for IPC or JSON. */
  snapshot(): HistogramSnapshot {
    const buckets: [number, number][] = [];
    for (let i = 0; i < BUCKETS; i++) {
      const n = this.counts[i] ?? 0;
      if (n > 0) buckets.push([i, n]);
    }
    return { count: this.count, sum: this.sum, min: this.count === 0 ? 0 : this.min, max: this.max, buckets };
  }

  /** A histogram holding a snapshot's values. */
  static from(snapshot: HistogramSnapshot): Histogram {
    const histogram = new Histogram();
    histogram.merge(snapshot);
    return histogram;
  }
}
