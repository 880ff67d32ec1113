/**
 * When the in-memory engine forgets a channel stream. A stream with local members is held and never
 * forgotten. Without members it keeps its messages until they expire, then its position (epoch and offset)
 * until `ttlMs` after its last use; at most `maxIdle` such idle streams are kept, the least recently used
 * going first. Pure and clock-free: the caller passes the time, and forgets what `forget` is told.
 *
 * Every operation is O(1) (amortised: a stream leaves each queue once), so the count bound costs a
 * publish nothing that grows with the number of streams.
 */

/** What the retention needs of a stream. The fields are the store's to set, except `queue`. */
export interface RetainedStream {
  readonly channel: string;
  /** Its last use (ms): created, published to, or left by its last local member. */
  usedAt: number;
  /** When its newest retained message expires (ms); 0 when it retains none. */
  retainsUntil: number;
  /** The history TTL of its last publish (ms): the queue it waits in while it retains messages. */
  ttlMs: number;
  /** Local members hold it. */
  held: boolean;
  /** The queue it waits in (null while held); the retention's own. */
  queue: Map<string, RetainedStream> | null;
}

/** What the retention tells its store. */
export interface RetentionEvents<S extends RetainedStream> {
  /** `stream` is forgotten: the store drops it (the next use creates a new epoch). */
  forget(stream: S): void;
  /** `stream` retains no message any more: the store may free them. */
  idle(stream: S): void;
}

/** The queues of the streams without local members. */
export class StreamRetention<S extends RetainedStream> {
  /** Idle streams (no members, no messages left), least recently used first. */
  private readonly idleQueue = new Map<string, S>();
  /**
   * Streams without members that still retain messages, by history TTL: within one TTL, insertion order
   * is publish order, which is expiry order. Channel rules give a handful of distinct TTLs at most.
   */
  private readonly retaining = new Map<number, Map<string, S>>();

  /**
   * @param ttlMs how long an idle stream keeps its position after its last use (ms).
   * @param maxIdle idle streams kept at most.
   */
  constructor(
    private readonly ttlMs: number,
    private readonly maxIdle: number,
    private readonly events: RetentionEvents<S>,
  ) {}

  /** Idle streams kept now. */
  get idleCount(): number {
    return this.idleQueue.size;
  }

  /** Whether `stream` is past its time: a lookup treats it as forgotten, even before a sweep has seen it. */
  expired(stream: S, now: number): boolean {
    return !stream.held && now >= Math.max(stream.usedAt + this.ttlMs, stream.retainsUntil);
  }

  /** Local members hold `stream` (idempotent): it waits in no queue until {@link release}. */
  hold(stream: S): void {
    this.unqueue(stream);
    stream.held = true;
  }

  /** The last local member left `stream` at `now`: it waits again, from now. */
  release(stream: S, now: number): void {
    stream.held = false;
    this.touch(stream, now);
  }

  /** `stream` was created or published to at `now` (after the store updated `retainsUntil` and `ttlMs`). */
  touch(stream: S, now: number): void {
    stream.usedAt = now;
    if (stream.held) return;
    this.unqueue(stream);
    this.enqueue(stream, now);
  }

  /** Take `stream` out of its queue (the store forgets it itself). */
  remove(stream: S): void {
    this.unqueue(stream);
  }

  /**
   * Move the streams whose messages have expired to the idle queue, and forget the idle ones past their
   * time, visiting at most `budget` of them; returns true when work is left (the caller goes on in a later
   * turn, so that forgetting 200,000 streams at once does not stall the event loop). A queue's head
   * waiting longer than the ones behind it delays them by at most one TTL.
   */
  sweep(now: number, budget = Infinity): boolean {
    let left = budget;
    for (const [ttl, queue] of this.retaining) {
      for (const stream of queue.values()) {
        if (stream.retainsUntil > now) break;
        if (left-- <= 0) return true;
        queue.delete(stream.channel);
        stream.queue = null;
        this.enqueue(stream, now);
      }
      if (queue.size === 0) this.retaining.delete(ttl);
    }
    for (const stream of this.idleQueue.values()) {
      if (stream.usedAt + this.ttlMs > now) break;
      if (left-- <= 0) return true;
      this.drop(stream);
    }
    return false;
  }

  /** Forget nothing more; the store is closing. */
  clear(): void {
    this.idleQueue.clear();
    this.retaining.clear();
  }

  private enqueue(stream: S, now: number): void {
    if (stream.retainsUntil > now) {
      let queue = this.retaining.get(stream.ttlMs);
      if (queue === undefined) this.retaining.set(stream.ttlMs, (queue = new Map()));
      queue.set(stream.channel, stream);
      stream.queue = queue as Map<string, RetainedStream>;
      return;
    }
    if (stream.retainsUntil !== 0) {
      stream.retainsUntil = 0;
      this.events.idle(stream);
    }
    if (stream.usedAt + this.ttlMs <= now) {
      this.events.forget(stream);
      return;
    }
    this.idleQueue.set(stream.channel, stream);
    stream.queue = this.idleQueue as Map<string, RetainedStream>;
    // The count bound: the least recently used idle stream goes first (the one just added goes last).
    for (const oldest of this.idleQueue.values()) {
      if (this.idleQueue.size <= this.maxIdle) break;
      this.drop(oldest);
    }
  }

  private drop(stream: S): void {
    this.unqueue(stream);
    this.events.forget(stream);
  }

  private unqueue(stream: S): void {
    const queue = stream.queue;
    if (queue === null) return;
    // An emptied retaining queue stays until the next sweep: `ttlMs` may already be the next publish's.
    queue.delete(stream.channel);
    stream.queue = null;
  }
}
