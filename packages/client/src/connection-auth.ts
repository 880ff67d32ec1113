/**
 * The credentials half of a client connection: a token for every attempt (resumes included), presented
 * the way the `tokenTransport` option says, and renewed in-band once connected (token-refresher.ts).
 *
 * - `first-message`: the socket opens without credentials and the `auth` command is its first frame. Its
 *   reply comes before the `connected` push; an error reply is followed by close 4504, and the two are
 *   reported together as an `unauthorized` event. Until the reply, the client sends nothing else, not
 *   even a pong: the server takes any other frame as a refusal to authenticate.
 * - `subprotocol`: the token is offered in the handshake (`switchboard.bearer.<token>` beside
 *   `switchboard.v1`); no reply says when it expires, so its own `exp` claim does.
 *
 * A provider that fails fails the attempt (retried with backoff); one that never answers runs into the
 * connect timeout, like a silent server.
 */
import { ErrorCode } from '@switchboard/protocol';
import type { ResolvedClientOptions } from './client-options.js';
import type { TokenErrorEvent, TokenRefreshedEvent } from './client-events.js';
import { ServerError } from './errors.js';
import type { ReplyCallback } from './request-table.js';
import { TokenRefresher, expiresAtOf } from './token-refresher.js';
import { bearerSubprotocols, fetchToken, jwtExpiry } from './token-source.js';
import type { OpenEventTarget, WebSocketLike } from './websocket-like.js';

/** What the credentials half needs from its connection. */
export interface ConnectionAuthHost {
  /** Send `auth` with `token` and a fresh id on the current socket; `settle` hears its reply. */
  sendAuth(token: string, settle: ReplyCallback): void;
  /** Send `refresh` with `token` on the current connection; resolves with the reply's `result`. */
  sendRefresh(token: string): Promise<unknown>;
  /** Whether the connection is up (the `connected` push arrived). */
  isConnected(): boolean;
  tokenRefreshed(event: TokenRefreshedEvent): void;
  tokenError(event: TokenErrorEvent): void;
}

/** The attempt's token is here (null: connect without credentials). */
export type TokenReady = (token: string | null) => void;

/** Credentials for one connection attempt at a time. */
export class ConnectionAuth {
  /** Only with a provider: a static token cannot be renewed. */
  private readonly refresher: TokenRefresher | null;
  /** The provider is being asked for the current attempt's token; the object tells attempts apart. */
  private fetching: object | null = null;
  private replyPending = false;
  /** When the current connection's credentials expire (server time, ms), as far as the client knows. */
  private expiresAt: number | null = null;
  private refused: ServerError | null = null;

  constructor(
    private readonly options: Pick<
      ResolvedClientOptions,
      'token' | 'tokenTransport' | 'refreshMarginMs' | 'clock' | 'backoff'
    >,
    private readonly host: ConnectionAuthHost,
  ) {
    const provider = options.token;
    const random = options.backoff.random;
    this.refresher =
      typeof provider === 'function'
        ? new TokenRefresher(
            {
              provider,
              marginMs: options.refreshMarginMs,
              clock: options.clock,
              ...(random === undefined ? {} : { random }),
            },
            {
              send: (token) => host.sendRefresh(token),
              refreshed: (expiresAt) => host.tokenRefreshed({ expiresAt }),
              failed: (error, retry) => host.tokenError({ error, during: 'refresh', retry }),
            },
          )
        : null;
  }

  /** Whether the current attempt waits for the token provider. */
  get fetchingToken(): boolean {
    return this.fetching !== null;
  }

  /** Whether the attempt authenticates with `auth` and its reply has not come: nothing else may be sent. */
  get awaitingReply(): boolean {
    return this.replyPending;
  }

  /** The server's error reply to this attempt's `auth`; the close that follows it (4504) reports it. */
  get refusal(): ServerError | null {
    return this.refused;
  }

  /**
   * Get the attempt's token and call `ready` with it: at once without credentials or with a static token,
   * once the provider answers otherwise. A provider that fails calls `failed` with a TokenProviderError.
   * Neither is called once {@link reset} ended the attempt.
   */
  fetch(ready: TokenReady, failed: (error: Error) => void): void {
    const token = this.options.token;
    if (typeof token !== 'function') {
      ready(token);
      return;
    }
    const fetching = {};
    this.fetching = fetching;
    fetchToken(token).then(
      (value) => {
        if (this.fetching !== fetching) return;
        this.fetching = null;
        ready(value);
      },
      (error: Error) => {
        if (this.fetching !== fetching) return;
        this.fetching = null;
        failed(error);
      },
    );
  }

  /** The subprotocols the attempt's socket offers: the bearer with the `subprotocol` transport, else none. */
  protocols(token: string | null): string[] | undefined {
    return token !== null && this.options.tokenTransport === 'subprotocol'
      ? bearerSubprotocols(token)
      : undefined;
  }

  /** The attempt's socket was created with `token`: present it on `open` (first message), or note its expiry. */
  present(socket: WebSocketLike, token: string | null, isCurrent: () => boolean): void {
    if (token === null) return;
    if (this.options.tokenTransport === 'subprotocol') {
      this.expiresAt = jwtExpiry(token);
      return;
    }
    this.replyPending = true;
    // The cast: `open` is not part of WebSocketLike (see OpenEventTarget), but browsers and `ws` emit it.
    (socket as WebSocketLike & OpenEventTarget).addEventListener('open', () => {
      if (isCurrent()) this.host.sendAuth(token, (error, result) => this.settled(isCurrent, error, result));
    });
  }

  /** The `connected` push arrived; the server's clock read `serverTime`. Schedules the refresh. */
  connected(serverTime: number): void {
    this.replyPending = false;
    this.refresher?.start(this.expiresAt, serverTime);
  }

  /** The attempt or connection is over: forget it, and stop refreshing. */
  reset(): void {
    this.fetching = null;
    this.replyPending = false;
    this.expiresAt = null;
    this.refused = null;
    this.refresher?.stop();
  }

  private settled(isCurrent: () => boolean, error: Error | null, result: unknown): void {
    if (!isCurrent()) return;
    this.replyPending = false;
    if (error === null) this.expiresAt = expiresAtOf(result);
    else if (error instanceof ServerError) {
      if (!this.host.isConnected()) this.refused = error;
      // Connected already: the server accepted the connection without waiting for `auth` (it has no auth,
      // or takes a handshake without credentials as anonymous), and then refused the late `auth`.
      else this.host.tokenError({ error, during: 'connect', retry: false });
    }
    // A timeout or a close: the connect timeout or the close event reports the attempt.
  }
}

/** The error of an `unauthorized` event: the server's reply to `auth`, or one made from the close reason. */
export function unauthorizedError(refusal: ServerError | null, reason: string): ServerError {
  return (
    refusal ??
    new ServerError({
      code: ErrorCode.Unauthorized,
      message: reason === '' ? 'the server refused the credentials' : reason,
      temporary: false,
    })
  );
}
