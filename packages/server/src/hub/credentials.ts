/**
 * A connection's credentials after the handshake: first-message authentication (a handshake without
 * credentials must send `{"type":"auth","token":...}` before a deadline), in-band `refresh` before expiry,
 * and the close of a connection whose credentials expired (4004). Deadlines sit in one AuthClock.
 */
import { CloseCode, ErrorCode } from '@switchboard/protocol';
import type { DecodeResult } from '@switchboard/protocol';
import type { Authenticator, Principal } from '../auth/authenticator.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Clock } from '../util/clock.js';
import type { AcceptOptions } from './accept-options.js';
import { AuthClock } from './auth-clock.js';
import { NO_STRINGS } from './connection.js';
import type { Connection } from './connection.js';
import type { Closer, Delivery } from './delivery.js';
import type { ErrorReplies } from './error-replies.js';

/** What a command answered at once returns. */
const ANSWERED: Promise<void> = Promise.resolve();

/** What credentials handling needs. */
export interface CredentialsOptions {
  /** How long a connection without credentials has to send `auth` (ms); then 4506. */
  readonly authTimeoutMs: number;
  /** How long after its credentials expire a connection is closed with 4004, unless refreshed (ms). */
  readonly tokenExpiryGraceMs: number;
  readonly authenticator: Authenticator;
  readonly delivery: Delivery;
  readonly errors: ErrorReplies;
  readonly close: Closer;
  /** Whether a user already holds its maximum of connections on this node. */
  readonly userAtLimit: (userId: string) => boolean;
  /** Completes the set-up of a connection whose first-message `auth` named its user. */
  readonly authenticated: (connection: Connection, principal: Principal, options: AcceptOptions) => void;
  readonly metrics: Metrics;
  readonly clock: Clock;
}

/** First-message authentication, refresh and expiry of every connection. */
export class Credentials {
  private readonly clock: AuthClock<Connection>;
  /** Accept options of connections waiting for first-message authentication. */
  private readonly pendingSetup = new WeakMap<Connection, AcceptOptions>();

  constructor(private readonly options: CredentialsOptions) {
    this.clock = new AuthClock<Connection>(options.clock, options.tokenExpiryGraceMs, (connection, kind) => {
      if (kind === 'auth') options.close(connection, CloseCode.HandshakeTimeout, 'no auth message in time');
      else options.close(connection, CloseCode.TokenExpired, 'token expired');
    });
  }

  start(): void {
    this.clock.start();
  }

  stop(): void {
    this.clock.stop();
  }

  /**
   * The handshake carried no credentials: nothing but an `auth` frame is accepted until the deadline; the
   * session, the room and the `connected` push wait for the identity.
   */
  awaitAuth(connection: Connection, options: AcceptOptions, now: number): void {
    connection.authDeadline = now + this.options.authTimeoutMs;
    this.clock.watch(connection);
    this.pendingSetup.set(connection, options);
  }

  /** Record when the connection's credentials expire, and watch for it. */
  assign(connection: Connection, principal: Principal): void {
    this.clock.unwatch(connection);
    connection.authDeadline = 0;
    connection.expiresAt = principal.expiresAt ?? 0;
    connection.scopes = principal.scopes ?? NO_STRINGS;
    connection.grants = principal.channels ?? NO_STRINGS;
    this.clock.watch(connection);
  }

  /** Stop watching a connection that is closing. */
  forget(connection: Connection): void {
    this.clock.unwatch(connection);
  }

  /**
   * Before authentication only `{"type":"auth","token":...}` is accepted, in either wire format and
   * either encoding. `decoded` is the first frame as the connection's codec read it.
   */
  firstFrame(connection: Connection, decoded: DecodeResult): void {
    // Heartbeat traffic is not "something else first": a client answering our ping while its `auth` is
    // being verified (a slow identity provider) must not be refused for it.
    if (decoded.ok && (decoded.command.type === 'pong' || decoded.command.type === 'ping')) return;
    if (decoded.ok && decoded.command.type === 'auth') {
      void this.command(connection, 'auth', decoded.command.token, decoded.command.id);
      return;
    }
    this.refuseUnauthenticated(connection, decoded.ok ? decoded.command.id : decoded.id);
  }

  /**
   * `auth` (first-message authentication) and `refresh` (new credentials before expiry, same user).
   * A failed first-message `auth` closes with 4504; a failed `refresh` is an error reply and the old
   * credentials keep their expiry. Settles once the command is answered.
   */
  command(
    connection: Connection,
    type: 'auth' | 'refresh',
    token: string,
    id: number | undefined,
  ): Promise<void> {
    const { authenticator, errors, close } = this.options;
    const verify = authenticator.verifyToken?.bind(authenticator);
    if (verify === undefined) {
      errors.send(
        connection,
        ErrorCode.NotAvailable,
        `${type} is not available: this server does not verify tokens`,
        id,
      );
      if (connection.authDeadline !== 0)
        close(connection, CloseCode.Unauthorized, 'authentication is not available');
      return ANSWERED;
    }
    const pending = connection.authDeadline !== 0;
    if (type === 'auth' && !pending) {
      errors.send(
        connection,
        ErrorCode.BadRequest,
        'already authenticated; use refresh to renew credentials',
        id,
      );
      return ANSWERED;
    }
    if (type === 'refresh' && pending) {
      this.refuseUnauthenticated(connection, id);
      return ANSWERED;
    }
    return verify(token).then(
      (outcome) => {
        if (connection.state !== 'open') return;
        if (!outcome.ok) {
          errors.send(connection, outcome.code, outcome.message, id);
          if (pending) close(connection, CloseCode.Unauthorized, outcome.message);
          return;
        }
        const principal = outcome.principal;
        if (type === 'refresh' && principal.userId !== connection.userId) {
          errors.send(connection, ErrorCode.PermissionDenied, 'refresh must be for the same user', id);
          return;
        }
        // A handshake with credentials is held to the per-user cap before its upgrade (HTTP 429); this
        // connection learns its user only now, so the same cap is a close.
        if (type === 'auth' && principal.userId !== null && this.options.userAtLimit(principal.userId)) {
          this.options.metrics.limitRejected('user_connections');
          errors.send(connection, ErrorCode.RateLimited, 'too many open connections for this user', id);
          close(connection, CloseCode.ConnectionLimit, 'too many open connections for this user');
          return;
        }
        if (id !== undefined) {
          this.options.delivery.reply(connection, id, {
            userId: principal.userId,
            expiresAt: principal.expiresAt ?? null,
          });
        }
        if (type === 'refresh') {
          connection.info = principal.info;
          this.assign(connection, principal);
          return;
        }
        const options = this.pendingSetup.get(connection) ?? {};
        this.pendingSetup.delete(connection);
        this.options.authenticated(connection, principal, options);
      },
      (error: unknown) => {
        errors.failed(connection, id, error);
        // The credentials were not refused, the check could not run (an identity provider outage): 1011
        // tells the client to retry, instead of waiting out the deadline for a terminal 4506.
        if (pending) close(connection, CloseCode.InternalError, 'authentication is unavailable; retry');
      },
    );
  }

  private refuseUnauthenticated(connection: Connection, id: number | undefined): void {
    this.options.errors.send(
      connection,
      ErrorCode.Unauthorized,
      'the first message must be {"type":"auth","token":...}',
      id,
    );
    this.options.close(connection, CloseCode.Unauthorized, 'authentication required');
  }
}
