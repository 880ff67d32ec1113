/**
 * What an application may pass to close a connection: the rule of the browser's WebSocket.close(), so a
 * close that would throw in a browser throws the same way everywhere.
 */
import { InvalidArgumentError } from './errors.js';
import type { WebSocketLike } from './websocket-like.js';

/** The longest close reason a close frame can carry, in UTF-8 bytes (RFC 6455, section 5.5). */
export const MAX_CLOSE_REASON_BYTES = 123;

/** The length of `text` in UTF-8 bytes. */
export function utf8Length(text: string): number {
  return new TextEncoder().encode(text).length;
}

/** Throws InvalidArgumentError unless `code` is 1000 or 3000 to 4999 and `reason` fits a close frame. */
export function checkCloseArgs(code: number, reason: string): void {
  if (code !== 1000 && (!Number.isInteger(code) || code < 3000 || code > 4999)) {
    throw new InvalidArgumentError(`close code must be 1000 or an integer from 3000 to 4999, got ${code}`);
  }
  if (utf8Length(reason) > MAX_CLOSE_REASON_BYTES) {
    throw new InvalidArgumentError(`close reason must be at most ${MAX_CLOSE_REASON_BYTES} bytes of UTF-8`);
  }
}

/**
 * Let go of a socket the client is done with: drop it at once when `terminate` and the socket can (`ws`
 * can; browsers cannot, and close() is all there is), else close it, with `code` and `reason` only when
 * the WebSocket API would take them. Never throws (the socket may be closing already).
 */
export function letGo(socket: WebSocketLike, terminate: boolean, code: number, reason: string): void {
  const terminable = socket as WebSocketLike & { terminate?: () => void };
  try {
    if (terminate && typeof terminable.terminate === 'function') terminable.terminate();
    else if (code === 1000 || (code >= 3000 && code <= 4999)) {
      socket.close(code, utf8Length(reason) <= MAX_CLOSE_REASON_BYTES ? reason : '');
    } else socket.close();
  } catch {
    // Already closing or closed: nothing left to do.
  }
}
