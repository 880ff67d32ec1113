/**
 * Per-connection inbound rate limits: a bucket of messages and a bucket of bytes. A frame over either
 * limit is refused (the hub answers `rate_limited` and does not process it); refusals themselves draw on a
 * third bucket, and a connection that runs that one dry is not slowing down, so it is closed (4003).
 *
 * Refusals have a budget of their own rather than "over the limit for N seconds": each refusal costs the
 * server a reply, so a client that floods is cut off after a bounded number of replies, however fast it
 * sends, while one that overshoots briefly (a burst of resubscriptions) only sees a few refusals.
 *
 * Pure and lazy: the caller passes the time, and nothing runs between frames.
 */
import { TokenBucket } from './token-bucket.js';

/** The numeric settings the limiter reads (a subset of the server's resolved limits, shared by reference). */
export interface RateLimitSettings {
  /** Messages per second a connection may send; 0 means unlimited. */
  readonly messagesPerSecond: number;
  /** Messages a connection may send at once before `messagesPerSecond` applies. */
  readonly messageBurst: number;
  /** Bytes per second a connection may send (UTF-8 payload bytes); 0 means unlimited. */
  readonly bytesPerSecond: number;
  /** Bytes a connection may send at once before `bytesPerSecond` applies; at least the largest frame. */
  readonly byteBurst: number;
  /** Refused frames a connection may earn in a burst before it is closed with 4003. */
  readonly rateLimitedBurst: number;
  /** Refused-frame allowance regained per second. */
  readonly rateLimitedRefillPerSecond: number;
}

/** Which per-connection limit refused a frame. */
export type RateLimit = 'messages' | 'bytes';

/** Whether `settings` limit anything at all (when not, the hub skips the limiter entirely). */
export function rateLimited(settings: RateLimitSettings): boolean {
  return settings.messagesPerSecond > 0 || settings.bytesPerSecond > 0;
}

/** The inbound buckets of one connection; create it on the connection's first frame. */
export class RateLimiter {
  private readonly messages: TokenBucket | null;
  private readonly bytes: TokenBucket | null;
  /** Created on the first refusal only: most connections never earn one. */
  private refusals: TokenBucket | null = null;

  constructor(
    private readonly settings: RateLimitSettings,
    now: number,
  ) {
    this.messages =
      settings.messagesPerSecond > 0
        ? new TokenBucket(settings.messageBurst, settings.messagesPerSecond, now)
        : null;
    this.bytes =
      settings.bytesPerSecond > 0 ? new TokenBucket(settings.byteBurst, settings.bytesPerSecond, now) : null;
  }

  /** Whether the byte size of frames matters (the caller can skip measuring them when it does not). */
  get countsBytes(): boolean {
    return this.bytes !== null;
  }

  /**
   * Take one message of `size` bytes. Returns null when the frame may be processed, or the limit that
   * refused it; a refused frame takes nothing from either bucket.
   */
  take(size: number, now: number): RateLimit | null {
    const messages = this.messages;
    const bytes = this.bytes;
    if (messages !== null && messages.available(now) < 1) return 'messages';
    if (bytes !== null && bytes.available(now) < size) return 'bytes';
    messages?.take(now);
    bytes?.take(now, size);
    return null;
  }

  /** Record a refused frame; true when the connection has been refused too often and must be closed. */
  strike(now: number): boolean {
    const s = this.settings;
    this.refusals ??= new TokenBucket(s.rateLimitedBurst, s.rateLimitedRefillPerSecond, now);
    return !this.refusals.take(now);
  }
}
