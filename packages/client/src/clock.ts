/**
 * Time and timers, injected so that tests of time-driven logic (request timeouts, heartbeats) never sleep
 * for real. The server's `Clock` has the same shape plus `setInterval`, so one fake clock can drive both.
 */

/** A running timer; `cancel()` is idempotent. */
export interface TimerHandle {
  cancel(): void;
}

/** The time source and timer of a client. */
export interface Clock {
  /** Milliseconds; only differences are used, so any monotonic origin works. */
  now(): number;
  /** Run `fn` once after `ms` milliseconds unless the returned handle is cancelled first. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
}

/**
 * The real clock. `performance.now()` rather than `Date.now()`: deadlines must not jump when the wall
 * clock is adjusted (NTP, a laptop waking up), and both browsers and Node provide it.
 */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout(fn, ms) {
    const timer = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(timer) };
  },
};
