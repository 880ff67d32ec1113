/**
 * The authentication seam. It runs before a connection is accepted (before the WebSocket upgrade), so a
 * rejection is an HTTP status, never a half-open connection. JWT, tickets and first-message auth arrive in
 * their own issue behind this same interface.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { ErrorCode } from '@switchboard/protocol';

/** What an authenticator may look at. */
export interface HandshakeRequest {
  readonly url: URL;
  readonly headers: IncomingHttpHeaders;
  readonly remoteAddress: string;
}

/** Who a connection belongs to. */
export interface Principal {
  /** The user id, or null for an anonymous connection. */
  readonly userId: string | null;
  /** Anything the application wants to keep with the connection (claims, display name). */
  readonly info?: unknown;
  /**
   * When the credentials expire (ms since the Unix epoch). The server closes the connection with 4004
   * shortly after, unless the client sends `refresh` with new credentials first.
   */
  readonly expiresAt?: number;
  /** Scopes the credentials grant (for example from a JWT `scope` claim), for per-message checks. */
  readonly scopes?: readonly string[];
  /** Channels (or patterns) the credentials grant, for the `claims` permission (a JWT `channels` claim). */
  readonly channels?: readonly string[];
}

/** A refusal: the HTTP status before an upgrade, the error code (and close code) after one. */
export interface AuthRefusal {
  readonly ok: false;
  readonly status: 401 | 403;
  readonly code: ErrorCode;
  readonly message: string;
}

/**
 * The authenticator's decision. `deferred`: the handshake carries no credentials but the client may send
 * them as its first frame (`{"type":"auth","token":...}`) before a deadline.
 */
export type AuthOutcome =
  { readonly ok: true; readonly principal: Principal } | AuthRefusal | { readonly ok: 'deferred' };

/** Decides who a connection belongs to, or refuses it. */
export interface Authenticator {
  authenticate(request: HandshakeRequest): Promise<AuthOutcome>;
  /**
   * Verify a bare token (first-message `auth`, in-band `refresh`). Authenticators that do not verify
   * tokens leave it out; the server then answers those commands with `not_available`.
   */
  verifyToken?(token: string): Promise<{ readonly ok: true; readonly principal: Principal } | AuthRefusal>;
}

/** Accepts everyone as anonymous: the default when nothing else is configured. */
export class AnonymousAuthenticator implements Authenticator {
  authenticate(): Promise<AuthOutcome> {
    return Promise.resolve({ ok: true, principal: { userId: null } });
  }
}
