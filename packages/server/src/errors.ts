/**
 * Typed errors of the server library. Each has a stable `code`; docs/codes.md lists them and a test keeps
 * the list in sync. Expected rejections of clients (bad frames, limits, handshakes) never throw: they
 * become error replies, HTTP statuses or close codes.
 */
import { ErrorCode } from '@switchboard/protocol';

/** Base class: every error thrown by the library carries a stable `code`. */
export class SwitchboardError extends Error {
  override name = 'SwitchboardError';
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** An option has an invalid value. Raised by validation at start-up. */
export class InvalidOptionError extends SwitchboardError {
  override name = 'InvalidOptionError';
  constructor(
    readonly option: string,
    readonly value: unknown,
    readonly allowed: string,
  ) {
    super('invalid_option', `invalid value ${formatValue(value)} for ${option}: expected ${allowed}`);
  }
}

/** The server is not running (not started yet, or stopped). */
export class ServerNotRunningError extends SwitchboardError {
  override name = 'ServerNotRunningError';
  constructor(message = 'server is not running') {
    super(ErrorCode.ShuttingDown, message);
  }
}

/** A call to the library API had a bad argument (for example an invalid channel name). */
export class InvalidArgumentError extends SwitchboardError {
  override name = 'InvalidArgumentError';
}

/**
 * A backend the operation needs (Redis) is unreachable or too slow. Temporary: the operation was not
 * performed (a publish took no offset) and may be retried; clients get `unavailable` (HTTP 503).
 */
export class BackendUnavailableError extends SwitchboardError {
  override name = 'BackendUnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.Unavailable, message, options);
  }
}

/**
 * Thrown by an application `onMessage` hook to answer a `send` command with a specific error code; any
 * other thrown error becomes `application_error` with a generic message (internals never leak).
 */
export class ApplicationError extends SwitchboardError {
  override name = 'ApplicationError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.ApplicationError, message, options);
  }
}

/**
 * The `tls` certificate, key or CA file could not be loaded (unreadable, not PEM, encrypted, or a key that
 * does not match the certificate), or `reloadTls()` was called without a `tls` option. A failed reload
 * changes nothing: the server keeps presenting its previous certificate.
 */
export class TlsLoadError extends SwitchboardError {
  override name = 'TlsLoadError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('tls_load_failed', message, options);
  }
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  return String(value);
}
