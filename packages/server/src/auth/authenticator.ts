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
}

/** The authenticator's decision. */
export type AuthOutcome =
  | { readonly ok: true; readonly principal: Principal }
  | { readonly ok: false; readonly status: 401 | 403; readonly code: ErrorCode; readonly message: string };

/** Decides who a connection belongs to, or refuses it. */
export interface Authenticator {
  authenticate(request: HandshakeRequest): Promise<AuthOutcome>;
}

/** Accepts everyone as anonymous: the default when nothing else is configured. */
export class AnonymousAuthenticator implements Authenticator {
  authenticate(): Promise<AuthOutcome> {
    return Promise.resolve({ ok: true, principal: { userId: null } });
  }
}
