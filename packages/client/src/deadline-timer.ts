/**
 * One timer for every deadline of a client (request timeouts and the heartbeat). It is armed for the
 * earliest deadline and never re-armed for a later one: a deadline that moved later (the heartbeat's,
 * on every received frame) is simply found not due when the timer fires, and the timer is armed again.
 * So a busy connection costs one timer callback per heartbeat interval instead of a clearTimeout and a
 * setTimeout per frame.
 */
import type { Clock, TimerHandle } from './clock.js';

/**
 * Called when the timer fires, with the current time; returns the next deadline to arm for, or Infinity
 * for none.
 */
export type DeadlineHandler = (now: number) => number;

/** A single timer armed for the earliest deadline it was given. */
export class DeadlineTimer {
  private handle: TimerHandle | null = null;
  private armedFor = Infinity;

  constructor(
    private readonly clock: Clock,
    private readonly onDue: DeadlineHandler,
  ) {}

  /** The deadline the timer is armed for, or Infinity when it is idle. */
  get deadline(): number {
    return this.armedFor;
  }

  /** Make sure the timer fires no later than `at` (a time on the clock). Earlier deadlines win. */
  schedule(at: number): void {
    if (!(at < this.armedFor)) return;
    this.handle?.cancel();
    this.armedFor = at;
    this.handle = this.clock.setTimeout(() => this.fire(), Math.max(0, at - this.clock.now()));
  }

  /** Disarm. Idempotent. */
  cancel(): void {
    this.handle?.cancel();
    this.handle = null;
    this.armedFor = Infinity;
  }

  private fire(): void {
    this.handle = null;
    this.armedFor = Infinity;
    const next = this.onDue(this.clock.now());
    // onDue may have scheduled an earlier deadline itself (a new request); schedule() keeps the earlier.
    if (next !== Infinity) this.schedule(next);
  }
}
