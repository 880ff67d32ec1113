/**
 * Idempotency keys remembered for a window (the in-memory stores): a key seen within `windowMs` maps to
 * what its first call stored. Keys are kept in insertion order, so forgetting the old ones costs O(1)
 * each, from the front.
 */
interface Seen<V> {
  readonly at: number;
  readonly value: V;
}

/** Keys seen within the last `windowMs`, each with the value its first call stored. */
export class IdempotencyWindow<V> {
  private readonly seen = new Map<string, Seen<V>>();

  constructor(private readonly windowMs: number) {}

  get size(): number {
    return this.seen.size;
  }

  /** The value stored under `key` within the window before `now`, if any. */
  get(key: string, now: number): V | undefined {
    this.forget(now);
    const seen = this.seen.get(key);
    return seen !== undefined && now - seen.at < this.windowMs ? seen.value : undefined;
  }

  set(key: string, value: V, now: number): void {
    this.seen.delete(key);
    this.seen.set(key, { at: now, value });
  }

  /** Forget keys older than the window (the oldest first; stops at the first still in it). */
  forget(now: number): void {
    for (const [key, seen] of this.seen) {
      if (now - seen.at < this.windowMs) break;
      this.seen.delete(key);
    }
  }
}
