// A clock for unit tests of time-driven logic: time moves only when the test says so.
import type { Clock, TimerHandle } from '../src/util/clock.js';

interface FakeTimer {
  readonly fn: () => void;
  readonly every: number | null;
  due: number;
  cancelled: boolean;
}

/** A clock whose time moves only when the test calls advance(); timers fire in due order. */
export class FakeClock implements Clock {
  private time = 1_700_000_000_000;
  private readonly timers: FakeTimer[] = [];

  now(): number {
    return this.time;
  }

  setInterval(fn: () => void, ms: number): TimerHandle {
    return this.schedule(fn, ms, ms);
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.schedule(fn, ms, null);
  }

  /** Timers that have not been cancelled (and, for timeouts, not fired). */
  get active(): readonly { readonly every: number | null }[] {
    return this.timers.filter((t) => !t.cancelled).map((t) => ({ every: t.every }));
  }

  /** Move time forward by `ms`, firing every timer that comes due, in order. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      let next: FakeTimer | undefined;
      for (const timer of this.timers) {
        if (!timer.cancelled && timer.due <= end && (next === undefined || timer.due < next.due))
          next = timer;
      }
      if (next === undefined) break;
      this.time = next.due;
      if (next.every === null) next.cancelled = true;
      else next.due += next.every;
      next.fn();
    }
    this.time = end;
  }

  private schedule(fn: () => void, ms: number, every: number | null): TimerHandle {
    const timer: FakeTimer = { fn, every, due: this.time + ms, cancelled: false };
    this.timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }
}
