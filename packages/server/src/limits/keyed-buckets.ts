/**
 * Token buckets by key (a client address, say) with bounded memory and no timer. Pure: the caller passes
 * the time.
 *
 * The buckets live in two generations of maps. A bucket left alone for a whole generation is full again
 * by then, so dropping it is the same as keeping it: each generation lasts as long as an empty bucket
 * takes to refill, and a bucket unused for one generation is not carried into the next. Past
 * `maxTracked` keys in the current generation the older one is dropped early, which only hands some keys a
 * fresh bucket: memory stays bounded when many addresses show up (a botnet, or IPv6 privacy addresses
 * beyond the /64 grouping).
 */
import { TokenBucket } from './token-bucket.js';

/** Keys kept per generation unless told otherwise. */
export const DEFAULT_MAX_TRACKED_KEYS = 100_000;

/** A token bucket per key, created full on first use. */
export class KeyedBuckets {
  private current = new Map<string, TokenBucket>();
  private previous = new Map<string, TokenBucket>();
  private rotatedAt: number;
  /** How long an idle bucket takes to refill completely (ms): a generation's lifetime. */
  private readonly generationMs: number;

  /**
   * @param capacity the burst: how many tokens a new (or long idle) bucket holds.
   * @param refillPerSecond tokens returned per second; 0 never refills (a generation then lasts until
   *   `maxTracked` keys have been seen).
   */
  constructor(
    private readonly capacity: number,
    private readonly refillPerSecond: number,
    now: number,
    private readonly maxTracked = DEFAULT_MAX_TRACKED_KEYS,
  ) {
    this.generationMs = refillPerSecond > 0 ? (capacity / refillPerSecond) * 1000 : Infinity;
    this.rotatedAt = now;
  }

  /** Keys whose buckets are currently kept (both generations). */
  get size(): number {
    return this.current.size + this.previous.size;
  }

  /** The bucket of `key`, created full when unknown. */
  get(key: string, now: number): TokenBucket {
    return this.find(key, now) ?? this.create(key, now);
  }

  /**
   * The bucket of `key` when one is kept, else undefined (a full bucket, as far as anyone can tell):
   * for callers that only spend tokens on some outcomes and must not keep a bucket for every key.
   */
  find(key: string, now: number): TokenBucket | undefined {
    this.rotate(now);
    const bucket = this.current.get(key);
    if (bucket !== undefined) return bucket;
    const old = this.previous.get(key);
    if (old !== undefined) {
      this.previous.delete(key);
      this.current.set(key, old);
    }
    return old;
  }

  /** Tokens per second a bucket regains. */
  get rate(): number {
    return this.refillPerSecond;
  }

  private create(key: string, now: number): TokenBucket {
    const bucket = new TokenBucket(this.capacity, this.refillPerSecond, now);
    this.current.set(key, bucket);
    return bucket;
  }

  private rotate(now: number): void {
    if (now - this.rotatedAt >= this.generationMs || this.current.size >= this.maxTracked) {
      this.previous = this.current;
      this.current = new Map();
      this.rotatedAt = now;
    }
  }
}

/** Whole seconds until `bucket` holds a token again, at least 1 (Retry-After has one-second resolution). */
export function secondsUntilToken(bucket: TokenBucket, perSecond: number, now: number): number {
  return Math.max(1, Math.ceil((1 - bucket.available(now)) / perSecond));
}
