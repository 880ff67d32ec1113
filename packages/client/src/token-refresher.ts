/**
 * Renewing a connection's credentials in-band before they expire (the `refresh` command, docs/security.md),
 * as logic over an injected clock: the connection says when the credentials expire and what the server's
 * clock read, and the refresher asks the token provider and sends `refresh` in time.
 *
 * Expiry is measured on the server's clock, never on the client's wall clock: `expiresAt` is the server's
 * (or the issuer's) time, and a user whose computer clock is minutes off would otherwise refresh long
 * after the server closed the connection, or in a tight loop. The server's clock is read from the
 * `connected` push (`time`) and carried forward on the client's monotonic clock, so the estimate is off by
 * about half a round trip, far less than any sensible margin.
 */
import { ErrorCode } from '@switchboard/protocol';
import { Backoff } from './backoff.js';
import type { Clock, TimerHandle } from './clock.js';
import { ServerError, TokenProviderError } from './errors.js';
import { fetchToken } from './token-source.js';
import type { TokenProvider } from './token-source.js';

/** How many times a failed refresh is retried before the refresher leaves it to the server's 4004. */
export const REFRESH_RETRIES = 3;

/** The cap of the first retry's delay (ms); it doubles per retry, full jitter like reconnects. */
const RETRY_MIN_DELAY_MS = 1000;

/** The largest cap of a retry's delay (ms). */
const RETRY_MAX_DELAY_MS = 10_000;

/** Options of a {@link TokenRefresher}. */
export interface TokenRefresherOptions {
  readonly provider: TokenProvider;
  /** Refresh this long before expiry (ms), or at half the remaining lifetime when that is sooner. */
  readonly marginMs: number;
  readonly clock: Clock;
  /** The random source of the retry delays. Default `Math.random`. */
  readonly random?: () => number;
}

/** What a refresher does through its connection. */
export interface TokenRefresherHost {
  /** Send `refresh` with `token` on the current connection; resolves with the reply's `result`. */
  send(token: string): Promise<unknown>;
  /** The credentials were renewed; they now expire at `expiresAt` (server time, ms), or never (null). */
  refreshed(expiresAt: number | null): void;
  /** A refresh failed; `retry` says whether another one is scheduled. */
  failed(error: Error, retry: boolean): void;
}

/** Renews the credentials of one connection at a time. */
export class TokenRefresher {
  private timer: TimerHandle | null = null;
  /** Bumped by every start and stop: the outcome of a refresh begun for another connection is ignored. */
  private run = 0;
  private expiresAt: number | null = null;
  /** The server's clock read `serverTime` when ours read `localTime`. */
  private serverTime = 0;
  private localTime = 0;
  private readonly backoff: Backoff;

  constructor(
    private readonly options: TokenRefresherOptions,
    private readonly host: TokenRefresherHost,
  ) {
    this.backoff = new Backoff({
      minDelayMs: RETRY_MIN_DELAY_MS,
      maxDelayMs: RETRY_MAX_DELAY_MS,
      maxAttempts: REFRESH_RETRIES,
      ...(options.random === undefined ? {} : { random: options.random }),
    });
  }

  /**
   * A connection is up: its credentials expire at `expiresAt` (ms since the Unix epoch on the server's
   * clock; null for never or unknown), and the server's clock reads `serverTime` now. Schedules the refresh.
   */
  start(expiresAt: number | null, serverTime: number): void {
    this.stop();
    this.expiresAt = expiresAt;
    this.serverTime = serverTime;
    this.localTime = this.options.clock.now();
    this.backoff.reset();
    this.schedule();
  }

  /** The connection is gone: no refresh, and the outcome of one under way is ignored. Idempotent. */
  stop(): void {
    this.run += 1;
    this.timer?.cancel();
    this.timer = null;
  }

  /** How long the credentials have left, on the server's clock (ms; negative once expired). */
  private remaining(expiresAt: number): number {
    const serverNow = this.serverTime + (this.options.clock.now() - this.localTime);
    return expiresAt - serverNow;
  }

  private schedule(): void {
    const expiresAt = this.expiresAt;
    if (expiresAt === null) return;
    const remaining = this.remaining(expiresAt);
    // A 60 s token with a 30 s margin is renewed every 30 s, not every 0 s; an expired one at once.
    const margin = Math.min(this.options.marginMs, remaining / 2);
    this.arm(Math.max(0, remaining - margin));
  }

  private arm(delayMs: number): void {
    this.timer = this.options.clock.setTimeout(() => {
      this.timer = null;
      this.refresh();
    }, delayMs);
  }

  private refresh(): void {
    const run = this.run;
    const previous = this.expiresAt;
    fetchToken(this.options.provider)
      .then((token) => (run === this.run ? this.host.send(token) : undefined))
      .then(
        (result) => {
          if (run !== this.run) return;
          const expiresAt = expiresAtOf(result);
          if (expiresAt !== null && previous !== null && expiresAt <= previous) {
            // Sending the same token again would only repeat this: the provider still hands out the
            // token the connection has (a cache that renews too late). Retried like a failure.
            this.retry(
              run,
              new TokenProviderError(
                'the token provider returned a token that expires no later than the current one',
              ),
            );
            return;
          }
          this.expiresAt = expiresAt;
          this.backoff.reset();
          this.schedule();
          this.host.refreshed(expiresAt);
        },
        (error: unknown) => {
          if (run !== this.run) return;
          this.retry(run, error instanceof Error ? error : new Error(String(error)));
        },
      );
  }

  /** Schedule another attempt, before expiry where possible, unless retries ran out or cannot help. */
  private retry(run: number, error: Error): void {
    // A token for another user can never renew this connection: only a new connection can take it.
    const hopeless = error instanceof ServerError && error.code === ErrorCode.PermissionDenied;
    const delay = hopeless ? null : this.backoff.next();
    const expiresAt = this.expiresAt;
    if (delay !== null && run === this.run) {
      // Before expiry when there is time left; after it, the server's grace period may still take one.
      const remaining = expiresAt === null ? Infinity : this.remaining(expiresAt);
      this.arm(remaining > 0 ? Math.min(delay, remaining / 2) : delay);
    }
    this.host.failed(error, delay !== null);
  }
}

/** The `expiresAt` of an `auth` or `refresh` result (AuthResult); null when it has none or is malformed. */
export function expiresAtOf(result: unknown): number | null {
  const expiresAt =
    typeof result === 'object' && result !== null ? (result as { expiresAt?: unknown }).expiresAt : null;
  return typeof expiresAt === 'number' && Number.isFinite(expiresAt) ? expiresAt : null;
}
