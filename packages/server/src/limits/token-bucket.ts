/**
 * A token bucket refilled lazily from timestamps: no timer, a few numbers per bucket. Pure: the caller
 * passes the time, so tests need no clock at all.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  /**
   * @param capacity the burst size: how many tokens a full bucket holds.
   * @param refillPerSecond how many tokens return per second.
   * @param now the current time in milliseconds.
   */
  constructor(
    private readonly capacity: number,
    private readonly refillPerSecond: number,
    now: number,
  ) {
    this.tokens = capacity;
    this.updatedAt = now;
  }

  /** Take `cost` tokens if the bucket holds them; returns whether it did. */
  take(now: number, cost = 1): boolean {
    this.refill(now);
    if (this.tokens < cost) return false;
    this.tokens -= cost;
    return true;
  }

  /** Tokens available at `now`. */
  available(now: number): number {
    this.refill(now);
    return this.tokens;
  }

  private refill(now: number): void {
    const elapsed = now - this.updatedAt;
    if (elapsed > 0) {
      this.tokens = Math.min(this.capacity, this.tokens + (elapsed / 1000) * this.refillPerSecond);
      this.updatedAt = now;
    }
  }
}
