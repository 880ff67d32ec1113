/**
 * Typed errors of the client SDK. Each class has a `name` and a stable `code`; failures the server reports
 * keep the server's code (the protocol's `ErrorCode`), failures the client detects itself use
 * {@link ClientErrorCode}.
 */
import type { ErrorPayload } from '@switchboard/protocol';
import type { ConnectionState } from './connection-state.js';

/** Why the send queue discarded an item it had accepted. */
export type DropReason = 'overflow' | 'expired' | 'cleared';

/** Codes of the failures the client detects itself (the server's codes are the protocol's `ErrorCode`). */
export const ClientErrorCode = {
  /** The connection closed (or failed to open) before the operation completed. */
  ConnectionClosed: 'connection_closed',
  /** The operation needs a connected client. */
  NotConnected: 'not_connected',
  /** No reply arrived within the request timeout. */
  RequestTimeout: 'request_timeout',
  /** A client option has an invalid value. */
  InvalidOption: 'invalid_option',
  /** A method was called with an invalid argument. */
  InvalidArgument: 'invalid_argument',
  /** A command queued while offline was dropped before it could be sent (overflow, age, or close()). */
  MessageDropped: 'message_dropped',
  /** The subscription ended (unsubscribed) before it was in sync. */
  Unsubscribed: 'unsubscribed',
  /**
   * The `token` provider threw, rejected, returned something that is not a token, or returned a token that
   * expires no later than the one it was meant to replace.
   */
  TokenProvider: 'token_provider_failed',
} as const;

/** One of the codes in {@link ClientErrorCode}. */
export type ClientErrorCode = (typeof ClientErrorCode)[keyof typeof ClientErrorCode];

/** Base class: every error the SDK raises carries a stable `code`. */
export class SwitchboardClientError extends Error {
  override name = 'SwitchboardClientError';
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * The server answered with an error: an error reply to a request, or an `error` push. `code` is one of the
 * protocol's `ErrorCode` values (typed as a string because a newer server may send codes this SDK does
 * not know yet).
 */
export class ServerError extends SwitchboardClientError {
  override name = 'ServerError';
  /** True when the same request may succeed if retried later. */
  readonly temporary: boolean;
  constructor(payload: ErrorPayload, options?: { cause?: unknown }) {
    super(payload.code, payload.message, options);
    this.temporary = payload.temporary;
  }
}

/** No reply arrived within the timeout; the server may still have carried the command out. */
export class RequestTimeoutError extends SwitchboardClientError {
  override name = 'RequestTimeoutError';
  constructor(
    /** The `type` of the command that timed out. */
    readonly command: string,
    readonly timeoutMs: number,
  ) {
    super(ClientErrorCode.RequestTimeout, `no reply to ${command} within ${timeoutMs} ms`);
  }
}

/**
 * The connection closed, or failed to open, before the operation completed. `closeCode` and
 * `closeReason` are the WebSocket close code and reason; `reconnect` says whether the code allows it.
 */
export class ConnectionClosedError extends SwitchboardClientError {
  override name = 'ConnectionClosedError';
  constructor(
    readonly closeCode: number,
    readonly closeReason: string,
    readonly reconnect: boolean,
    options?: { cause?: unknown },
  ) {
    super(
      ClientErrorCode.ConnectionClosed,
      `connection closed (${closeCode}${closeReason === '' ? '' : `: ${closeReason}`})`,
      options,
    );
  }
}

/** The operation needs a connected client; `state` is where the client was instead. */
export class NotConnectedError extends SwitchboardClientError {
  override name = 'NotConnectedError';
  constructor(readonly state: ConnectionState) {
    super(ClientErrorCode.NotConnected, `client is ${state}, not connected`);
  }
}

/**
 * A command the client queued while offline was dropped before it was sent: `overflow` (the offline queue
 * was full), `expired` (it waited longer than `offlineQueue.maxAgeMs`) or `cleared` (the client was
 * closed, or stopped reconnecting). The command never reached the server.
 */
export class MessageDroppedError extends SwitchboardClientError {
  override name = 'MessageDroppedError';
  constructor(
    /** The `type` of the dropped command. */
    readonly command: string,
    readonly reason: DropReason,
  ) {
    super(ClientErrorCode.MessageDropped, `${command} dropped from the offline queue (${reason})`);
  }
}

/** The subscription was ended (by `unsubscribe()`, the server, or a permanent error) before it was in sync. */
export class UnsubscribedError extends SwitchboardClientError {
  override name = 'UnsubscribedError';
  constructor(
    readonly channel: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(ClientErrorCode.Unsubscribed, `subscription to ${channel} ended: ${reason}`, options);
  }
}

/**
 * The `token` provider did not produce a usable token; `cause` is what it threw or rejected with, if
 * anything. The connection attempt (or the refresh) it was for failed and is retried with backoff.
 */
export class TokenProviderError extends SwitchboardClientError {
  override name = 'TokenProviderError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(ClientErrorCode.TokenProvider, message, options);
  }
}

/** A client option has an invalid value; thrown by the constructor. */
export class InvalidOptionError extends SwitchboardClientError {
  override name = 'InvalidOptionError';
  constructor(
    readonly option: string,
    readonly value: unknown,
    readonly expected: string,
  ) {
    super(
      ClientErrorCode.InvalidOption,
      `invalid value ${formatValue(value)} for ${option}: expected ${expected}`,
    );
  }
}

/** A method was called with an invalid argument (for example a close code the WebSocket API forbids). */
export class InvalidArgumentError extends SwitchboardClientError {
  override name = 'InvalidArgumentError';
  constructor(message: string) {
    super(ClientErrorCode.InvalidArgument, message);
  }
}

/**
 * The error in an error reply or push. The client does not trust the frame's shape: a malformed payload
 * still becomes a ServerError (code `internal`) rather than a TypeError far from its cause.
 */
export function serverErrorFrom(value: unknown): ServerError {
  const record = typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  const code = record['code'];
  const message = record['message'];
  const temporary = record['temporary'];
  return new ServerError({
    code: (typeof code === 'string' ? code : 'internal') as ErrorPayload['code'],
    message: typeof message === 'string' ? message : 'the server reported an error',
    temporary: temporary === true,
  });
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  return String(value);
}
