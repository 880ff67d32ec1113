/**
 * When to try connecting again: full-jitter backoff (backoff.ts), the close codes that forbid a retry,
 * and an immediate retry when the network comes back. Logic over an injected clock, so tests drive it
 * without sleeping; the client only reports what happened and opens a socket when told to.
 */
import { shouldReconnect } from '@switchboard/protocol';
import type { Backoff } from './backoff.js';
import type { Clock, TimerHandle } from './clock.js';

/**
 * Where `online` events come from: `globalThis` in browsers (the `online` event of `window` and of
 * workers), anything with the same two methods in tests.
 */
export interface NetworkEvents {
  addEventListener(type: 'online', listener: () => void): void;
  removeEventListener(type: 'online', listener: () => void): void;
}

/** The verdict on a lost connection or a failed attempt. */
export type ReconnectVerdict =
  | { readonly retry: true; readonly attempt: number; readonly delayMs: number }
  | { readonly retry: false; readonly why: 'disabled' | 'terminal' | 'exhausted' };

/** Options of a {@link Reconnector}. */
export interface ReconnectorOptions {
  /** Whether to reconnect at all. */
  readonly enabled: boolean;
  readonly backoff: Backoff;
  readonly clock: Clock;
  /** Where `online` events come from; null for nowhere. */
  readonly network: NetworkEvents | null;
  /** Open the next socket (called when a retry is due). */
  readonly retry: () => void;
}

/** Schedules reconnect attempts for one client. */
export class Reconnector {
  private timer: TimerHandle | null = null;
  private listening = false;
  private readonly onOnline = (): void => {
    // The browser says the network is back: waiting out the rest of a backoff delay would only leave the
    // user offline longer. A socket that is already opening is left alone (no second socket).
    if (this.timer === null) return;
    this.timer.cancel();
    this.timer = null;
    this.options.retry();
  };

  constructor(private readonly options: ReconnectorOptions) {}

  /** Whether a retry is scheduled. */
  get pending(): boolean {
    return this.timer !== null;
  }

  /** The application asked to connect: start over from the first delay, and watch for `online` events. */
  start(): void {
    this.cancel();
    this.options.backoff.reset();
    if (!this.listening && this.options.network !== null && this.options.enabled) {
      this.options.network.addEventListener('online', this.onOnline);
      this.listening = true;
    }
  }

  /** A connection was established at `now`. */
  connected(now: number): void {
    this.options.backoff.connected(now);
  }

  /**
   * The connection (or an attempt) ended at `now` with close `code`: schedule the next attempt, or say
   * why there is none. The backoff resets only when the connection had stayed up long enough. A draining
   * server's `hintMs` (close-hint.ts) replaces the backoff's delay: the server already spread its clients
   * over its drain window, and a drain is no failure to back off from, so the attempt is not counted.
   */
  lost(code: number, now: number, hintMs: number | null = null): ReconnectVerdict {
    this.cancel();
    this.options.backoff.disconnected(now);
    if (!this.options.enabled) return { retry: false, why: 'disabled' };
    if (!shouldReconnect(code)) return { retry: false, why: 'terminal' };
    const delayMs = hintMs ?? this.options.backoff.next();
    if (delayMs === null) return { retry: false, why: 'exhausted' };
    this.timer = this.options.clock.setTimeout(() => {
      this.timer = null;
      this.options.retry();
    }, delayMs);
    return { retry: true, attempt: this.options.backoff.attempt, delayMs };
  }

  /** Stop: no retry, no listening. Idempotent; `start()` undoes it. */
  stop(): void {
    this.cancel();
    if (this.listening) {
      this.options.network?.removeEventListener('online', this.onOnline);
      this.listening = false;
    }
  }

  private cancel(): void {
    this.timer?.cancel();
    this.timer = null;
  }
}
