/**
 * A bound on how many asynchronous tasks run at once, the others waiting their turn in FIFO order. It
 * paces a storm of work on a shared backend: a task waiting here has sent nothing, so no timeout of the
 * backend's client runs for it, and what is sent is answered quickly. The wait is bounded in length and in
 * time, so that a backend that stopped answering gets work refused promptly instead of collected.
 */
import type { Clock, TimerHandle } from './clock.js';

/** Why a task was refused without running. */
export type ConcurrencyRefusal =
  | { readonly reason: 'queue-full'; readonly waiting: number }
  | { readonly reason: 'waited-too-long'; readonly waitedMs: number };

/** Options of {@link ConcurrencyLimit}. */
export interface ConcurrencyLimitOptions {
  /** Tasks running at once: an integer >= 1, or Infinity. */
  readonly concurrency: number;
  /** Tasks waiting at once; the next one is refused at once. An integer >= 0, or Infinity. */
  readonly maxWaiting: number;
  /** A task that has waited this long without its turn is refused (ms, > 0; Infinity: never). */
  readonly maxWaitMs: number;
  /** Time, and the one timer that refuses tasks that waited too long. */
  readonly clock: Clock;
  /** The error a refused task rejects with. */
  readonly refuse: (refusal: ConcurrencyRefusal) => Error;
}

/** A task waiting for its turn. */
interface Waiter {
  readonly task: () => Promise<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  /** When it started waiting (clock ms). */
  readonly since: number;
}

/** Waiters dropped from the front of the queue before it is compacted (one copy per this many). */
const COMPACT_AFTER = 1024;

/** Runs at most `concurrency` tasks at once; the rest wait in order, within bounds. */
export class ConcurrencyLimit {
  private active = 0;
  /** Waiters in arrival order from `head` on (a ring would save the compaction; this is simpler). */
  private queue: (Waiter | undefined)[] = [];
  private head = 0;
  /** Armed for the oldest waiter while anyone waits (one timer for the whole queue). */
  private timer: TimerHandle | null = null;
  private readonly finished = (): void => {
    this.active--;
    this.next();
  };
  private readonly expire = (): void => {
    this.timer = null;
    const now = this.options.clock.now();
    for (let waiter = this.peek(); waiter !== undefined; waiter = this.peek()) {
      const waitedMs = now - waiter.since;
      if (waitedMs < this.options.maxWaitMs) break;
      this.shift();
      waiter.reject(this.options.refuse({ reason: 'waited-too-long', waitedMs }));
    }
    this.arm();
  };

  constructor(private readonly options: ConcurrencyLimitOptions) {
    const { concurrency, maxWaiting, maxWaitMs } = options;
    if (!(concurrency === Infinity || (Number.isInteger(concurrency) && concurrency >= 1)))
      throw new RangeError(`concurrency must be an integer >= 1 or Infinity, got ${concurrency}`);
    if (!(maxWaiting === Infinity || (Number.isInteger(maxWaiting) && maxWaiting >= 0)))
      throw new RangeError(`maxWaiting must be an integer >= 0 or Infinity, got ${maxWaiting}`);
    if (!(maxWaitMs > 0)) throw new RangeError(`maxWaitMs must be > 0, got ${maxWaitMs}`);
  }

  /** Tasks running now. */
  get running(): number {
    return this.active;
  }

  /** Tasks waiting for their turn. */
  get waiting(): number {
    return this.queue.length - this.head;
  }

  /**
   * Run `task` now if a slot is free and nobody waits, else when its turn comes; settles as the task does.
   * Rejects without running it when the queue is full, or when it waited `maxWaitMs`. A task that throws
   * or rejects frees its slot like one that succeeds.
   */
  run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active < this.options.concurrency && this.waiting === 0) return this.start(task);
    if (this.waiting >= this.options.maxWaiting)
      return Promise.reject(this.options.refuse({ reason: 'queue-full', waiting: this.waiting }));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({
        task,
        resolve: resolve as (value: unknown) => void,
        reject,
        since: this.options.clock.now(),
      });
      this.arm();
    });
  }

  /** Reject every waiting task with an error of `error()` (each its own); running tasks go on. */
  rejectWaiting(error: () => Error): void {
    const waiters = this.queue.slice(this.head);
    this.queue = [];
    this.head = 0;
    this.disarm();
    for (const waiter of waiters) waiter?.reject(error());
  }

  private start<T>(task: () => Promise<T>): Promise<T> {
    this.active++;
    let running: Promise<T>;
    try {
      running = task();
    } catch (error) {
      running = Promise.reject(error);
    }
    // Registered before the caller's handlers: the slot is free (and the next task started) by the time
    // the caller hears of the outcome.
    running.then(this.finished, this.finished);
    return running;
  }

  /** Start waiters while there is room. */
  private next(): void {
    while (this.active < this.options.concurrency) {
      const waiter = this.shift();
      if (waiter === undefined) break;
      this.start(waiter.task).then(waiter.resolve, waiter.reject);
    }
    if (this.waiting === 0) this.disarm();
  }

  private peek(): Waiter | undefined {
    return this.queue[this.head];
  }

  private shift(): Waiter | undefined {
    const waiter = this.queue[this.head];
    if (waiter === undefined) return undefined;
    this.queue[this.head++] = undefined;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head >= COMPACT_AFTER && this.head * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return waiter;
  }

  /** Time the oldest waiter's refusal, unless already timed (or nobody waits, or waits are unbounded). */
  private arm(): void {
    const oldest = this.peek();
    if (this.timer !== null || oldest === undefined || this.options.maxWaitMs === Infinity) return;
    const { clock, maxWaitMs } = this.options;
    this.timer = clock.setTimeout(this.expire, Math.max(0, oldest.since + maxWaitMs - clock.now()));
  }

  private disarm(): void {
    this.timer?.cancel();
    this.timer = null;
  }
}
