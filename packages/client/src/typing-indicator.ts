/**
 * "Someone is typing": turns a stream of keystrokes into a few ephemeral publishes. The first keystroke
 * of a burst sends `start`; a keystroke after `refreshMs` of continued typing sends `start` again (so
 * that a receiver who joined late, or expires typing state on its own, keeps seeing it); `idleMs` without
 * a keystroke, or `stop()`, sends `stop`. One timer, re-armed lazily: a keystroke only records its time.
 *
 * Indicators are ephemeral: never queued while offline (a stale "typing" replayed after an outage is
 * worse than none), never stored in history. Receivers should expire a `start` they hear nothing more
 * about after a little more than `refreshMs`, in case the `stop` was lost with the connection.
 */
import type { Clock, TimerHandle } from './clock.js';
import { InvalidOptionError } from './errors.js';

/** Options of {@link TypingIndicator}. `T` is the type of the published payloads. */
export interface TypingOptions<T = unknown> {
  /** How long after the last keystroke `stop` is sent (ms). Default 3000. */
  readonly idleMs?: number;
  /** While typing continues, `start` is sent again after this long (ms). Default 10000. */
  readonly refreshMs?: number;
  /** The payload announcing typing. Default `{ typing: true }`. */
  readonly start?: T;
  /** The payload announcing the end of typing. Default `{ typing: false }`. */
  readonly stop?: T;
}

/** Defaults of {@link TypingOptions}. */
export const TYPING_DEFAULTS = { idleMs: 3000, refreshMs: 10_000 } as const;

/** A debounced typing indicator for one channel; see {@link SwitchboardClient.typing}. */
export class TypingIndicator<T = unknown> {
  private readonly idleMs: number;
  private readonly refreshMs: number;
  private readonly startData: T | { typing: true };
  private readonly stopData: T | { typing: false };
  private active = false;
  private startedAt = 0;
  private lastKeystroke = 0;
  private timer: TimerHandle | null = null;

  /** `publish` sends one ephemeral message; it must not throw. Throws InvalidOptionError for a bad option. */
  constructor(
    private readonly publish: (data: T | { typing: boolean }) => void,
    private readonly clock: Clock,
    options: TypingOptions<T> = {},
  ) {
    this.idleMs = positive('idleMs', options.idleMs ?? TYPING_DEFAULTS.idleMs);
    this.refreshMs = positive('refreshMs', options.refreshMs ?? TYPING_DEFAULTS.refreshMs);
    this.startData = options.start === undefined ? { typing: true } : options.start;
    this.stopData = options.stop === undefined ? { typing: false } : options.stop;
  }

  /** Whether a `start` is out and no `stop` followed it yet. */
  get typing(): boolean {
    return this.active;
  }

  /** The user pressed a key. */
  keystroke(): void {
    const now = this.clock.now();
    this.lastKeystroke = now;
    if (!this.active || now - this.startedAt >= this.refreshMs) {
      this.active = true;
      this.startedAt = now;
      this.publish(this.startData);
    }
    if (this.timer === null) this.arm(this.idleMs);
  }

  /** The user stopped (sent the message, left the field): send `stop` now if typing. */
  stop(): void {
    this.timer?.cancel();
    this.timer = null;
    if (!this.active) return;
    this.active = false;
    this.publish(this.stopData);
  }

  private arm(ms: number): void {
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      const idle = this.clock.now() - this.lastKeystroke;
      // Keystrokes after the timer was armed moved the deadline; wait for the rest of it.
      if (idle < this.idleMs) this.arm(this.idleMs - idle);
      else this.stop();
    }, ms);
  }
}

function positive(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > 2_147_483_647) {
    throw new InvalidOptionError(option, value, 'a number of milliseconds from 1 to 2147483647');
  }
  return value;
}
