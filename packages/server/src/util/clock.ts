/** Time and timers, injected so that tests of time-driven logic never sleep for real. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Run `fn` every `ms` milliseconds until the returned handle is cancelled. */
  setInterval(fn: () => void, ms: number): TimerHandle;
  /** Run `fn` once after `ms` milliseconds unless the returned handle is cancelled first. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
}

/** A running timer; `cancel()` is idempotent. */
export interface TimerHandle {
  cancel(): void;
}

/** The real clock. Its timers are unref'd: Switchboard never keeps a process alive by a timer alone. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setInterval(fn, ms) {
    const timer = setInterval(fn, ms);
    timer.unref();
    return { cancel: () => clearInterval(timer) };
  },
  setTimeout(fn, ms) {
    const timer = setTimeout(fn, ms);
    timer.unref();
    return { cancel: () => clearTimeout(timer) };
  },
};

/**
 * The period of a sweeper that expires entries after `graceMs`: a quarter of the grace (so an entry
 * outlives its grace by at most 25%), between 10 ms and 1 s.
 */
export function sweepPeriod(graceMs: number): number {
  return Math.max(10, Math.min(1000, graceMs / 4));
}
