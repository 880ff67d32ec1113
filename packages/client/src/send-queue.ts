/**
 * A bounded FIFO for what a client sends while it is offline, as pure logic over times: no timers, the
 * caller passes `now`. Unbounded offline buffers are a recurring complaint (socket.io-client's
 * `sendBuffer`, partysocket's default `maxEnqueuedMessages: Infinity`): an app offline for an hour
 * replays an hour of typing indicators, or runs out of memory first.
 *
 * Every item gets exactly one verdict: `push()` says `dropped` (it was never queued), or it says `queued`
 * and the item later leaves through `shift()`/`drain()`, through `clear()`'s return value, or through
 * the `onDrop` callback (evicted by a newer item, or expired). So a caller that reports `onDrop` to its
 * user never reports an item twice.
 */
import { InvalidOptionError } from './errors.js';
import type { DropReason } from './errors.js';

/**
 * What to do with a push when the queue is full:
 * - `drop-oldest` (the default): evict the oldest item, queue the new one;
 * - `reject-newest`: keep the queue, refuse the new item (`push()` returns `dropped`).
 */
export type OverflowPolicy = 'drop-oldest' | 'reject-newest';

/** An item the queue accepted and then discarded. */
export interface DroppedItem<T> {
  readonly item: T;
  readonly reason: DropReason;
  /** The `now` of its `push()`. */
  readonly queuedAt: number;
}

/** The limits of a {@link SendQueue}. */
export interface SendQueueLimits {
  /** The most items held at once; 0 disables queueing (every push is dropped). Default 100. */
  readonly maxItems?: number;
  /**
   * How long an item may wait (ms); older items are dropped instead of being handed out (reason
   * `expired`). Default: no limit.
   */
  readonly maxAgeMs?: number;
  /**
   * Which item loses when the queue is full. Default `drop-oldest`: after an outage the newest messages
   * usually matter most (the latest position, the latest text), the oldest is also the one closest to
   * expiring, and the caller still hears about the loss through `onDrop`. Choose `reject-newest` when the
   * queue must stay a gap-free prefix of what was sent: the caller then learns of the loss at once, from
   * `push()`'s return value.
   */
  readonly overflow?: OverflowPolicy;
}

/** Options of a {@link SendQueue}. */
export interface SendQueueOptions<T> extends SendQueueLimits {
  /**
   * Called, synchronously and once per operation, with the accepted items the queue discarded on its own
   * (evicted or expired), oldest first. Default: none (the {@link SendQueue.dropped} counters still count).
   * It may push, but pushing into a full `drop-oldest` queue evicts (and reports) again: an `onDrop`
   * that re-queues everything it is given never ends.
   */
  readonly onDrop?: (dropped: readonly DroppedItem<T>[]) => void;
}

/** Defaults of {@link SendQueueLimits}. */
export const SEND_QUEUE_DEFAULTS = {
  maxItems: 100,
  maxAgeMs: Infinity,
  overflow: 'drop-oldest',
} as const;

/** How many items each reason cost since the queue was created (including pushes refused outright). */
export interface DropCounts {
  readonly overflow: number;
  readonly expired: number;
  readonly cleared: number;
}

interface Entry<T> {
  readonly item: T;
  readonly queuedAt: number;
}

/** Past this many consumed slots at the front, the backing array is compacted. */
const COMPACT_AFTER = 1024;

/** A bounded FIFO with an overflow policy and an optional maximum age. */
export class SendQueue<T> {
  private readonly maxItems: number;
  private readonly maxAgeMs: number;
  private readonly overflow: OverflowPolicy;
  private readonly onDrop: ((dropped: readonly DroppedItem<T>[]) => void) | undefined;
  /** Entries from `head` on; the slots before it were handed out (an array with `shift()` is O(n)). */
  private entries: (Entry<T> | undefined)[] = [];
  private head = 0;
  private counts = { overflow: 0, expired: 0, cleared: 0 };

  /** Throws {@link InvalidOptionError} for an invalid option. */
  constructor(options: SendQueueOptions<T> = {}) {
    const maxItems = options.maxItems ?? SEND_QUEUE_DEFAULTS.maxItems;
    if (typeof maxItems !== 'number' || !Number.isInteger(maxItems) || maxItems < 0) {
      throw new InvalidOptionError('maxItems', maxItems, 'an integer at least 0');
    }
    const maxAgeMs = options.maxAgeMs ?? SEND_QUEUE_DEFAULTS.maxAgeMs;
    if (typeof maxAgeMs !== 'number' || Number.isNaN(maxAgeMs) || maxAgeMs <= 0) {
      throw new InvalidOptionError('maxAgeMs', maxAgeMs, 'a positive number of milliseconds');
    }
    const overflow = options.overflow ?? SEND_QUEUE_DEFAULTS.overflow;
    if (overflow !== 'drop-oldest' && overflow !== 'reject-newest') {
      throw new InvalidOptionError('overflow', overflow, "'drop-oldest' or 'reject-newest'");
    }
    if (options.onDrop !== undefined && typeof options.onDrop !== 'function') {
      throw new InvalidOptionError('onDrop', options.onDrop, 'a function');
    }
    this.maxItems = maxItems;
    this.maxAgeMs = maxAgeMs;
    this.overflow = overflow;
    this.onDrop = options.onDrop;
  }

  /** How many items are queued (expired ones included until a push, shift or drain notices them). */
  get size(): number {
    return this.entries.length - this.head;
  }

  /** How many items were dropped, by reason. */
  get dropped(): DropCounts {
    return { ...this.counts };
  }

  /**
   * Queue `item` at `now` (ms on the caller's clock). When the queue is full, expired items go first;
   * if it is still full, the overflow policy picks the loser. Returns `dropped` only when `item` itself
   * was not queued.
   */
  push(item: T, now: number): 'queued' | 'dropped' {
    const dropped = this.size >= this.maxItems ? this.expire(now) : [];
    if (this.size >= this.maxItems) {
      if (this.overflow === 'reject-newest' || this.maxItems === 0) {
        this.counts.overflow += 1;
        this.report(dropped);
        return 'dropped';
      }
      const evicted = this.take();
      if (evicted !== undefined) {
        this.counts.overflow += 1;
        dropped.push({ ...evicted, reason: 'overflow' });
      }
    }
    this.entries.push({ item, queuedAt: now });
    // Reported last, with the queue consistent: an onDrop that pushes lands after `item`, in order.
    this.report(dropped);
    return 'queued';
  }

  /** Remove and return the oldest item that has not expired at `now`; undefined when none is left. */
  shift(now: number): T | undefined {
    // Reported before the next item is taken: an onDrop that clears the queue (a caller closing for good)
    // then takes that item with it, instead of leaving it in the caller's hands with nowhere to go.
    this.report(this.expire(now));
    return this.take()?.item;
  }

  /**
   * Hand out the queued items at `now`, oldest first, removing each as it is yielded; expired ones are
   * reported first. Items pushed while draining are yielded too, after the others; stopping early
   * leaves the rest queued.
   */
  *drain(now: number): Generator<T, void, undefined> {
    for (let item = this.shift(now); item !== undefined; item = this.shift(now)) yield item;
  }

  /** Discard everything; returns what was discarded, oldest first (not reported to `onDrop`). */
  clear(): DroppedItem<T>[] {
    const discarded: DroppedItem<T>[] = [];
    for (let i = this.head; i < this.entries.length; i++) {
      const entry = this.entries[i];
      if (entry !== undefined) discarded.push({ ...entry, reason: 'cleared' });
    }
    this.entries = [];
    this.head = 0;
    this.counts.cleared += discarded.length;
    return discarded;
  }

  /**
   * Remove and count the items older than `maxAgeMs` at `now`, for the caller to report once it is done.
   * Items are in push order, so the expired ones sit at the front.
   */
  private expire(now: number): DroppedItem<T>[] {
    const expired: DroppedItem<T>[] = [];
    if (this.maxAgeMs === Infinity) return expired;
    for (;;) {
      const entry = this.entries[this.head];
      if (entry === undefined || now - entry.queuedAt < this.maxAgeMs) break;
      this.take();
      expired.push({ ...entry, reason: 'expired' });
    }
    this.counts.expired += expired.length;
    return expired;
  }

  private take(): Entry<T> | undefined {
    const entry = this.entries[this.head];
    if (entry === undefined) return undefined;
    this.entries[this.head] = undefined;
    this.head += 1;
    if (this.head === this.entries.length) {
      this.entries = [];
      this.head = 0;
    } else if (this.head >= COMPACT_AFTER && this.head * 2 >= this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
    return entry;
  }

  private report(dropped: readonly DroppedItem<T>[]): void {
    if (dropped.length > 0) this.onDrop?.(dropped);
  }
}
