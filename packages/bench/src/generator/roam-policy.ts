/**
 * What a roaming client (drain and failover scenarios) does when its connection or an attempt ends: the
 * SDK's rules (client/src: client-connection.ts `lose`, reconnector.ts, endpoints.ts, backoff.ts) as one
 * pure function over a small state, so the generator reconnects exactly as an application's clients would.
 *
 * - A close 1012 whose reason carries a draining node's hint (`retry after <n> ms`, read with the protocol
 *   package's `retryAfterHint`) moves on to the next URL after exactly that delay, and counts no attempt:
 *   the node spread its clients over its drain window already, and a drain is no failure.
 * - A failed attempt (refused with 503 + Retry-After, refused by the kernel, timed out, closed before the
 *   `connected` frame) moves on to the next URL after a full-jitter delay.
 * - A connection that was up and is lost otherwise (a crashed node: 1006) tries its own URL again first,
 *   after a full-jitter delay.
 * - Full jitter: attempt `n` waits random() x min(maxDelayMs, minDelayMs x factor^n); the counter resets
 *   when a connection that stayed up `minUptimeMs` ends. Close codes that forbid a retry stop the client.
 */
import { CloseCode, retryAfterHint, shouldReconnect } from '@switchboard/protocol';

/** The backoff's settings (the SDK's `BackoffOptions` without `maxAttempts`: a roamer never gives up). */
export interface BackoffSettings {
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
  readonly factor: number;
  readonly minUptimeMs: number;
}

/** The SDK's defaults (client/src/backoff.ts `BACKOFF_DEFAULTS`). */
export const SDK_BACKOFF: BackoffSettings = {
  minDelayMs: 500,
  maxDelayMs: 20_000,
  factor: 2,
  minUptimeMs: 5000,
};

/** One client's reconnect state: which URL it uses, how many delays it drew, since when it is up. */
export interface RoamState {
  urlIndex: number;
  attempts: number;
  /** When its connection got the `connected` frame (ms), or null while it is not connected. */
  connectedAt: number | null;
}

/** How a connection or an attempt ended. */
export interface RoamEnd {
  /** Whether it had received the `connected` frame (a connection lost, not an attempt failed). */
  readonly connected: boolean;
  readonly code: number;
  readonly reason: string;
  readonly now: number;
}

/** What to do next: open `urlIndex` after `delayMs` (`hinted`: the delay is the server's), or stop. */
export type RoamVerdict =
  | { readonly retry: true; readonly urlIndex: number; readonly delayMs: number; readonly hinted: boolean }
  | { readonly retry: false };

/** A new client's state on `urlIndex`. */
export function roamState(urlIndex: number): RoamState {
  return { urlIndex, attempts: 0, connectedAt: null };
}

/** The connection of `state` got its `connected` frame at `now`. */
export function roamConnected(state: RoamState, now: number): void {
  state.connectedAt = now;
}

/** Decide what follows `end` for a client with `urls` URLs; updates `state`. `random` returns [0, 1). */
export function afterClose(
  state: RoamState,
  end: RoamEnd,
  urls: number,
  settings: BackoffSettings = SDK_BACKOFF,
  random: () => number = Math.random,
): RoamVerdict {
  const since = state.connectedAt;
  state.connectedAt = null;
  if (since !== null && end.now - since >= settings.minUptimeMs) state.attempts = 0;
  const hintMs = end.code === CloseCode.ServiceRestart ? retryAfterHint(end.reason) : null;
  if (!end.connected || hintMs !== null) state.urlIndex = (state.urlIndex + 1) % Math.max(1, urls);
  if (!shouldReconnect(end.code)) return { retry: false };
  if (hintMs !== null) return { retry: true, urlIndex: state.urlIndex, delayMs: hintMs, hinted: true };
  const cap = Math.min(settings.maxDelayMs, settings.minDelayMs * settings.factor ** state.attempts);
  state.attempts++;
  const unit = Math.min(1, Math.max(0, random()));
  return { retry: true, urlIndex: state.urlIndex, delayMs: unit * cap, hinted: false };
}
