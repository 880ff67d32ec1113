/**
 * Error replies to clients, and the error budget that closes a client sending malformed frames (4501).
 * Every command's failure, whatever the entry point, is answered through {@link ErrorReplies.failed}, which
 * applies the one error -> code mapping of errors.ts.
 */
import { CloseCode, ErrorCode, errorPayload } from '@switchboard/protocol';
import type { Metrics } from '../metrics/metrics.js';
import type { RecentErrors } from './recent-errors.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { TokenBucket } from '../limits/token-bucket.js';
import { HookError, errorReplyOf } from '../errors.js';
import type { Connection } from './connection.js';
import type { Closer, Delivery } from './delivery.js';
import { hookFailed } from './hooks.js';
import type { HubCounters } from './hub-stats.js';

/**
 * Errors that mean the client sent something malformed. Only these spend the error budget: a client whose
 * requests are merely refused (by the application, a limit, a missing subscription) is not a broken client
 * and must not be closed with a terminal code.
 */
const BUDGETED_ERRORS: ReadonlySet<ErrorCode> = new Set([
  ErrorCode.InvalidJson,
  ErrorCode.InvalidFrame,
  ErrorCode.UnknownCommand,
  ErrorCode.BadRequest,
  ErrorCode.InvalidChannel,
]);

/** What error replies need. */
export interface ErrorRepliesOptions {
  /** Error replies a connection may earn in a burst before it is closed with 4501. */
  readonly errorBurst: number;
  /** Error allowance regained per second. */
  readonly errorRefillPerSecond: number;
  readonly delivery: Delivery;
  readonly close: Closer;
  readonly counters: HubCounters;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly clock: Clock;
  /** The last errors, for /stats. */
  readonly recent: RecentErrors;
}

/** Answers clients with errors. */
export class ErrorReplies {
  constructor(private readonly options: ErrorRepliesOptions) {}

  /** Send an error to a client (a reply when `id` is given) and charge its error budget. */
  send(connection: Connection, code: ErrorCode, message: string, id?: number): void {
    if (connection.state !== 'open') {
      // An answer racing the connection's close: nobody can receive it, but it is counted like any frame.
      this.options.delivery.drop('closed', 1);
      return;
    }
    const { counters, metrics, delivery, clock } = this.options;
    counters.errors++;
    metrics.clientError(code);
    this.options.recent.add(code, clock.now(), connection.id);
    const error = errorPayload(code, message);
    delivery.writeFrame(
      connection,
      id === undefined ? { type: 'error', ...error } : { type: 'reply', id, error },
    );
    if (!BUDGETED_ERRORS.has(code)) return;
    const now = clock.now();
    connection.errorBudget ??= new TokenBucket(
      this.options.errorBurst,
      this.options.errorRefillPerSecond,
      now,
    );
    if (!connection.errorBudget.take(now))
      this.options.close(connection, CloseCode.TooManyErrors, 'too many invalid frames');
  }

  /** Answer a command whose operation threw: its mapped code, or `internal` (logged), never the internals. */
  failed(connection: Connection, id: number | undefined, error: unknown): void {
    const reply = errorReplyOf(error);
    if (reply !== null) {
      this.send(connection, reply.code, reply.message, id);
      return;
    }
    if (error instanceof HookError) hookFailed(this.options.logger, error.hook, connection.id, error.cause);
    else this.options.logger.error({ err: error, connectionId: connection.id }, 'operation failed');
    this.send(connection, ErrorCode.Internal, 'internal error', id);
  }
}
