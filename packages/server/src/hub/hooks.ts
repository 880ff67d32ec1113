/** The application's hooks on connections, and how the hub runs them (never letting one break a connection). */
import type { AnyChannelMap, SendReplyOf, SendRequestOf } from '@switchboard/protocol';
import type { DeadLetter } from '../inbox/inbox-store.js';
import type { Logger } from '../util/logger.js';
import type { ConnectionInfo } from './connection.js';

/** Why a connection closed, as given to the disconnect hook. */
export interface DisconnectInfo {
  readonly code: number;
  readonly reason: string;
}

/**
 * A message or job that became a dead letter, as `onDeadLetter` gets it: where it was (a user's inbox or a
 * work queue), the dead letter's fields, and its payload parsed.
 */
export type DeadLetterEvent = (
  { readonly kind: 'inbox'; readonly userId: string } | { readonly kind: 'queue'; readonly queue: string }
) &
  Omit<DeadLetter, 'json'> & { readonly data: unknown };

/**
 * Application hooks. Each runs outside the hot path; a hook that throws is logged and never breaks a
 * connection. `M` is the application's channel map, which types `onMessage` (its `send` entry).
 */
export interface ServerHooks<M extends AnyChannelMap = AnyChannelMap> {
  /** A connection was accepted and registered. */
  onConnect?: (connection: ConnectionInfo) => void | Promise<void>;
  /** A connection closed and was removed everywhere. */
  onDisconnect?: (connection: ConnectionInfo, info: DisconnectInfo) => void | Promise<void>;
  /**
   * A `send` command arrived. The resolved value is the reply's `result` (`null` when undefined);
   * throw {@link ApplicationError} to answer with an `application_error` carrying your message. `data` is
   * typed by the channel map but arrives from the network unchecked: validate it before trusting it.
   */
  // A method, so a typed server's hooks still fit the hub's untyped ServerHooks (method parameters are bivariant).
  onMessage?(connection: ConnectionInfo, data: SendRequestOf<M>): SendReplyOf<M> | Promise<SendReplyOf<M>>;
  /**
   * A message of a user's inbox or a job of a work queue became a dead letter (its attempts were spent, its
   * TTL passed, or a full inbox moved it out). Called on the node that moved it, once per dead letter.
   */
  onDeadLetter?: (letter: DeadLetterEvent) => void | Promise<void>;
  /**
   * An authenticated user has had no connection on any node for the presence grace period
   * (`presenceGraceMs`): fired once per offline transition, by one node of the deployment, also when the
   * node that held the user crashed (docs/delivery.md, "Offline and undelivered hooks").
   */
  onUserOffline?: (userId: string) => void | Promise<void>;
  /**
   * No device of the user acked `message` within `undeliveredAfterMs` of its delivery (each message is
   * reported once across nodes): the moment to send a push notification or an e-mail.
   */
  onUndelivered?: (userId: string, message: UndeliveredMessage) => void | Promise<void>;
}

/** An inbox message no device acked in time, as `onUndelivered` and the `inbox.undelivered` webhook see it. */
export interface UndeliveredMessage {
  readonly id: string;
  /** Its place in the user's inbox order. */
  readonly seq: number;
  /** The payload. */
  readonly data: unknown;
  /** When it was delivered, and when it expires (ms since the Unix epoch). */
  readonly time: number;
  readonly expiresAt: number;
}

/**
 * Log an application hook's failure: at error, with the hook's name and the connection it ran for, as
 * every hook failure is (`onConnect`, `onDisconnect`, `onMessage`, `authorize`).
 */
export function hookFailed(
  logger: Logger,
  hook: string,
  connectionId: string,
  error: unknown,
  context?: Readonly<Record<string, unknown>>,
): void {
  logger.error({ err: error, hook, connectionId, ...context }, 'hook failed');
}

/** Run an application hook: whatever it throws or rejects with is logged, never let through. */
export function runHook(logger: Logger, name: string, connectionId: string, call: () => unknown): void {
  try {
    const result = call();
    if (result instanceof Promise) {
      result.catch((error: unknown) => hookFailed(logger, name, connectionId, error));
    }
  } catch (error) {
    hookFailed(logger, name, connectionId, error);
  }
}
