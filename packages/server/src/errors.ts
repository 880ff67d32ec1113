/**
 * Typed errors of the server library. Each has a stable `code`; docs/codes.md lists them and a test keeps
 * the list in sync. Expected rejections of clients (bad frames, limits, handshakes) never throw: they
 * become error replies, HTTP statuses or close codes.
 */
import { ErrorCode, isErrorCode } from '@switchboard/protocol';

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

/** A work-queue name breaks the naming rules (1 to 128 letters, digits and `_ - . : @`). */
export class InvalidQueueError extends InvalidArgumentError {
  override name = 'InvalidQueueError';
  constructor(message: string) {
    super(ErrorCode.InvalidQueue, message);
  }
}

/**
 * `enqueue` was refused: the work queue holds its maximum jobs (`queues.limits.maxJobs`). Temporary: retry
 * once consumers have caught up; the HTTP API answers 507 `queue_full`. Nothing was stored.
 */
export class QueueFullError extends SwitchboardError {
  override name = 'QueueFullError';
  constructor(readonly queue: string) {
    super(ErrorCode.QueueFull, `work queue ${queue} is full`);
  }
}

/**
 * A backend the operation needs (Redis, PostgreSQL) is unreachable or too slow. Temporary: the operation was not
 * performed (a publish took no offset) and may be retried; clients get `unavailable` (HTTP 503).
 */
export class BackendUnavailableError extends SwitchboardError {
  override name = 'BackendUnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.Unavailable, message, options);
  }
}

/**
 * Start-up could not bring the PostgreSQL store's schema to this version: the database holds a newer
 * schema version than this build knows (a newer node migrated it), or a migration statement failed
 * (its error is the `cause`). Not temporary: nothing was changed (the migration runs in one transaction).
 */
export class StoreMigrationError extends SwitchboardError {
  override name = 'StoreMigrationError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('migration_failed', message, options);
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
 * An application hook threw (the `authorize` hook): carries the hook's name and, as `cause`, what it threw.
 * Whoever catches it logs the cause at error with the hook's name and the connection, and the client gets
 * `internal`: the application's internals never leak.
 */
export class HookError extends SwitchboardError {
  override name = 'HookError';
  constructor(
    readonly hook: string,
    options?: { cause?: unknown },
  ) {
    super(ErrorCode.Internal, `the ${hook} hook failed`, options);
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

/**
 * A user's inbox holds its maximum messages or bytes (`inbox.limits`), and it refuses new ones
 * (`whenFull: 'reject'`): nothing was stored. Temporary: retry once the user has read some. HTTP 507.
 */
export class InboxFullError extends SwitchboardError {
  override name = 'InboxFullError';
  constructor(
    readonly userId: string,
    options?: { cause?: unknown },
  ) {
    super('inbox_full', `the inbox of user ${JSON.stringify(userId)} is full`, options);
  }
}

/** What a client is told about a failed operation: a stable error code and a message for people. */
export interface ErrorReply {
  readonly code: ErrorCode;
  readonly message: string;
}

/**
 * The one mapping from a thrown error to what a client is told, for every entry point (WebSocket commands,
 * the HTTP API, and the transports to come). Null for an unexpected error: the caller logs it and answers
 * `internal`, never the internals.
 */
export function errorReplyOf(error: unknown): ErrorReply | null {
  if (error instanceof ServerNotRunningError)
    return { code: ErrorCode.ShuttingDown, message: 'server is shutting down' };
  if (error instanceof InvalidArgumentError && isErrorCode(error.code))
    return { code: error.code, message: error.message };
  if (error instanceof QueueFullError) return { code: ErrorCode.QueueFull, message: error.message };
  if (error instanceof BackendUnavailableError)
    return { code: ErrorCode.Unavailable, message: 'a backend is unavailable; retry later' };
  if (error instanceof InboxFullError) return { code: ErrorCode.InboxFull, message: error.message };
  return null;
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  return String(value);
}
