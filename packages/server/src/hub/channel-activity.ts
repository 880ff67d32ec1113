/**
 * One channel's recent activity for /stats: publications in and frames out per second, and how long a
 * publication took from the broker accepting it to its writes to this node's members (percentiles).
 * Kept over two generations of {@link ACTIVITY_GENERATION_MS} (a window of 5 to 10 s). The hot path
 * pays two counter increments and one bucket increment per publication (not per member), and allocates
 * nothing after the channel's first publication (its fixed typed array of buckets).
 */

/** Length of one generation (ms); figures cover the current generation and the one before. */
export const ACTIVITY_GENERATION_MS = 5000;

/** Upper bounds of the latency buckets (ms); a last bucket holds everything slower. */
const BOUNDS_MS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000] as const;
const N = BOUNDS_MS.length + 1;

/** What /stats shows of a channel's activity. */
export interface ChannelActivityStats {
  /** Publications fanned out on this node per second, over the window. */
  readonly messagesInPerSecond: number;
  /** Frames written to this node's members per second, over the window. */
  readonly messagesOutPerSecond: number;
  /**
   * Broker accepted -> written to the members' sockets (ms), as bucket upper bounds (1, 2, 5, 10, 20,
   * 50, ..., 10000); null without publications in the window. 10000 also stands for anything slower.
   */
  readonly latencyMs: {
    readonly p50: number | null;
    readonly p90: number | null;
    readonly p99: number | null;
    readonly samples: number;
  };
}

/** A channel's activity counters; see the file comment. */
export class ChannelActivity {
  /** Start of the current generation, aligned to {@link ACTIVITY_GENERATION_MS}. */
  private start: number;
  private curIn = 0;
  private curOut = 0;
  private prevIn = 0;
  private prevOut = 0;
  /**
   * Latency buckets: [0, N) the current generation, [N, 2N) the previous one. Allocated at the first
   * publication: a channel nobody publishes to (a user's own, say) costs a few numbers, not an array.
   */
  private buckets: Uint32Array | null = null;

  constructor(private readonly createdAt: number) {
    this.start = createdAt - (createdAt % ACTIVITY_GENERATION_MS);
  }

  /** One publication, accepted by the broker at `acceptedAt`, written at `now` to `written` members. */
  record(now: number, acceptedAt: number, written: number): void {
    if (now - this.start >= ACTIVITY_GENERATION_MS) this.rotate(now);
    this.curIn++;
    this.curOut += written;
    const ms = now - acceptedAt;
    let i = 0;
    while (i < BOUNDS_MS.length && ms > (BOUNDS_MS[i] as number)) i++;
    const buckets = (this.buckets ??= new Uint32Array(2 * N));
    buckets[i] = (buckets[i] as number) + 1;
  }

  /** The figures at `now`. */
  snapshot(now: number): ChannelActivityStats {
    if (now - this.start >= ACTIVITY_GENERATION_MS) this.rotate(now);
    const from = Math.max(this.createdAt, this.start - ACTIVITY_GENERATION_MS);
    const seconds = Math.max(now - from, 1) / 1000;
    const buckets = this.buckets;
    const samples = this.samples();
    const rate = (count: number): number => Math.round((count / seconds) * 100) / 100;
    return {
      messagesInPerSecond: rate(this.curIn + this.prevIn),
      messagesOutPerSecond: rate(this.curOut + this.prevOut),
      latencyMs: {
        p50: percentile(buckets, 0.5, samples),
        p90: percentile(buckets, 0.9, samples),
        p99: percentile(buckets, 0.99, samples),
        samples,
      },
    };
  }

  /** The delivery latency's quantiles `qs` (0 to 1) over the window, as bucket upper bounds (ms). */
  quantiles(now: number, qs: readonly number[]): { samples: number; values: (number | null)[] } {
    if (now - this.start >= ACTIVITY_GENERATION_MS) this.rotate(now);
    const samples = this.samples();
    return { samples, values: qs.map((q) => percentile(this.buckets, q, samples)) };
  }

  /** Publications with a latency in the window. */
  private samples(): number {
    const buckets = this.buckets;
    let samples = 0;
    if (buckets !== null)
      for (let i = 0; i < N; i++) samples += (buckets[i] as number) + (buckets[N + i] as number);
    return samples;
  }

  /** Start a new generation at `now`; the current one becomes the previous only if it just ended. */
  private rotate(now: number): void {
    const start = now - (now % ACTIVITY_GENERATION_MS);
    const adjacent = start - this.start === ACTIVITY_GENERATION_MS;
    this.prevIn = adjacent ? this.curIn : 0;
    this.prevOut = adjacent ? this.curOut : 0;
    const buckets = this.buckets;
    if (buckets !== null) {
      if (adjacent) buckets.copyWithin(N, 0, N);
      else buckets.fill(0, N);
      buckets.fill(0, 0, N);
    }
    this.curIn = 0;
    this.curOut = 0;
    this.start = start;
  }
}

/** The `q` quantile of the two generations' buckets, as a bucket's upper bound; null without samples. */
function percentile(buckets: Uint32Array | null, q: number, samples: number): number | null {
  if (buckets === null || samples === 0) return null;
  const rank = Math.ceil(q * samples);
  let seen = 0;
  for (let i = 0; i < N; i++) {
    seen += (buckets[i] as number) + (buckets[N + i] as number);
    if (seen >= rank) return BOUNDS_MS[Math.min(i, BOUNDS_MS.length - 1)] as number;
  }
  return BOUNDS_MS[BOUNDS_MS.length - 1] as number;
}
