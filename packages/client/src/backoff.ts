/**
 * Reconnect delays as pure logic: "full jitter" exponential backoff
 * (https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/).
 *
 * Attempt `n` (counting from 0) waits `random() * cap(n)` ms, where `cap(n) = min(maxDelayMs,
 * minDelayMs * factor^n)`. There is no floor: every delay lies in [0, cap(n)], so `minDelayMs` is the cap
 * of the first attempt, not the shortest wait. A floor (centrifuge-js waits at least `minDelayMs`) only
 * moves the whole reconnect wave later; it does not spread it. What spreads the wave after a server
 * restart is the width of the random window, and full jitter uses all of it (partysocket's un-jittered
 * delays send every client back at the same instant). A client still cannot hammer a server: the cap
 * grows with every failed attempt, and the counter only resets after a connection stayed up for
 * `minUptimeMs` (a server that accepts and drops at once keeps the delays growing).
 *
 * No timers and no sockets: the caller asks for a delay, schedules it on its own clock, and reports when
 * connections open and close.
 */
import { InvalidOptionError } from './errors.js';

/** Options of a {@link Backoff}. */
export interface BackoffOptions {
  /** The cap of the first attempt's delay (ms), not a floor: delays are drawn from [0, cap]. Default 500. */
  readonly minDelayMs?: number;
  /** The largest cap (ms); the cap grows up to it and stays there. Default 20000. */
  readonly maxDelayMs?: number;
  /** How much the cap grows per failed attempt (at least 1; 1 keeps it constant). Default 2. */
  readonly factor?: number;
  /** How many delays to hand out before giving up (`next()` returns null). Default Infinity (unlimited). */
  readonly maxAttempts?: number;
  /**
   * How long a connection must stay up (ms) before its end resets the attempt counter. Default 5000: a
   * server that accepts and then drops connections at once does not reset the backoff.
   */
  readonly minUptimeMs?: number;
  /** The random source, returning values in [0, 1). Default `Math.random`; tests pass a seeded one. */
  readonly random?: () => number;
}

/** Defaults of {@link BackoffOptions}. */
export const BACKOFF_DEFAULTS = {
  minDelayMs: 500,
  maxDelayMs: 20_000,
  factor: 2,
  maxAttempts: Infinity,
  minUptimeMs: 5_000,
} as const;

/** The longest delay setTimeout accepts (2^31 - 1 ms); a longer one fires at once in browsers and Node. */
const MAX_TIMER_MS = 2_147_483_647;

/** Full-jitter exponential backoff with a reset after a minimum uptime. */
export class Backoff {
  private readonly minDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly factor: number;
  private readonly maxAttempts: number;
  private readonly minUptimeMs: number;
  private readonly random: () => number;
  private attempts = 0;
  private connectedAt: number | null = null;

  /** Throws {@link InvalidOptionError} for an invalid option. */
  constructor(options: BackoffOptions = {}) {
    this.minDelayMs = checkNumber('minDelayMs', options.minDelayMs ?? BACKOFF_DEFAULTS.minDelayMs, 1);
    this.maxDelayMs = checkNumber('maxDelayMs', options.maxDelayMs ?? BACKOFF_DEFAULTS.maxDelayMs, 1);
    if (this.maxDelayMs < this.minDelayMs) {
      throw new InvalidOptionError(
        'maxDelayMs',
        this.maxDelayMs,
        `a number of milliseconds at least minDelayMs (${this.minDelayMs})`,
      );
    }
    const factor = options.factor ?? BACKOFF_DEFAULTS.factor;
    if (typeof factor !== 'number' || !Number.isFinite(factor) || factor < 1) {
      throw new InvalidOptionError('factor', factor, 'a finite number at least 1');
    }
    this.factor = factor;
    const maxAttempts = options.maxAttempts ?? BACKOFF_DEFAULTS.maxAttempts;
    if (
      typeof maxAttempts !== 'number' ||
      !(maxAttempts === Infinity || (Number.isInteger(maxAttempts) && maxAttempts >= 0))
    ) {
      throw new InvalidOptionError('maxAttempts', maxAttempts, 'an integer at least 0, or Infinity');
    }
    this.maxAttempts = maxAttempts;
    this.minUptimeMs = checkNumber('minUptimeMs', options.minUptimeMs ?? BACKOFF_DEFAULTS.minUptimeMs, 0);
    const random = options.random ?? Math.random;
    if (typeof random !== 'function') {
      throw new InvalidOptionError('random', random, 'a function returning numbers in [0, 1)');
    }
    this.random = random;
  }

  /** How many delays were handed out since the last reset. */
  get attempt(): number {
    return this.attempts;
  }

  /** The upper bound of the delay of attempt `attempt` (0-based): `min(maxDelayMs, minDelayMs * factor^attempt)`. */
  cap(attempt: number): number {
    // factor^attempt overflows to Infinity for large attempts; min() then yields maxDelayMs, as it should.
    return Math.min(this.maxDelayMs, this.minDelayMs * this.factor ** attempt);
  }

  /**
   * The delay (ms) before the next attempt, drawn from [0, cap(attempt)], and count the attempt; null
   * once `maxAttempts` delays were handed out since the last reset.
   */
  next(): number | null {
    if (this.attempts >= this.maxAttempts) return null;
    const cap = this.cap(this.attempts);
    this.attempts += 1;
    // A random source outside [0, 1] is a bug in the caller's code, but the reconnect path is the worst
    // place to throw: clamp it, and read NaN as 1 (wait the longest rather than the shortest).
    const r = this.random();
    const unit = Number.isNaN(r) ? 1 : Math.min(1, Math.max(0, r));
    return unit * cap;
  }

  /** A connection opened at `now` (ms on the caller's clock). */
  connected(now: number): void {
    this.connectedAt = now;
  }

  /**
   * The connection closed at `now`. Resets the attempt counter when it stayed up at least `minUptimeMs`;
   * returns whether it did. A call without a preceding {@link connected} (a failed attempt) changes nothing.
   */
  disconnected(now: number): boolean {
    const since = this.connectedAt;
    this.connectedAt = null;
    if (since === null || now - since < this.minUptimeMs) return false;
    this.attempts = 0;
    return true;
  }

  /** Start over: the next delay is drawn from the first attempt's window again. */
  reset(): void {
    this.attempts = 0;
    this.connectedAt = null;
  }
}

/** A finite number of milliseconds from `min` up to what setTimeout accepts. */
function checkNumber(option: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > MAX_TIMER_MS) {
    throw new InvalidOptionError(option, value, `a number of milliseconds from ${min} to ${MAX_TIMER_MS}`);
  }
  return value;
}
