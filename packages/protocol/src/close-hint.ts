/**
 * The reconnect hint a draining server puts in its close reason (docs/protocol.md#draining): close code
 * 1012 (service restart) with a reason that ends in `retry after <n> ms`. A client reconnects after that
 * delay, to another node when it knows several, instead of its own backoff. The hint rides in the reason
 * rather than in a frame before the close, so the three transports (WebSocket close frame, SSE `close`
 * event, poll answer) carry it the same way and a client that never reads it still reconnects (1012
 * means "reconnect" on its own).
 */

/** The longest delay a hint may ask for (ms); a larger number is read as this. */
export const MAX_RETRY_HINT_MS = 60_000;

const HINT = /retry after (\d{1,9}) ms$/;

/** The close reason of a draining server asking for a reconnect after `delayMs`. */
export function drainCloseReason(delayMs: number): string {
  const ms = Math.min(MAX_RETRY_HINT_MS, Math.max(0, Math.round(delayMs)));
  return `server draining; retry after ${ms} ms`;
}

/** The delay (ms) a close reason asks for, or null when it carries no hint. */
export function retryAfterHint(reason: string): number | null {
  const match = HINT.exec(reason);
  if (match === null) return null;
  return Math.min(MAX_RETRY_HINT_MS, Number(match[1]));
}
