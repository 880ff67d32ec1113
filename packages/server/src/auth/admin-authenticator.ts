/**
 * The admin decorator of the configured authenticator: a credential that is an admin connection token
 * (`sbadm1.`, from `POST /admin/api/connect`) opens an admin connection, wherever the SDK put it (the
 * `Authorization` header, the bearer subprotocol, the `token` parameter, or first-message `auth` when the
 * server waits for one); anything else goes to the configured authenticator unchanged. So the dashboard
 * connects over the product's own transports, with or without `auth`. Tokens are single use on each node:
 * a used nonce is remembered until the token expires.
 */
import { ErrorCode } from '@switchboard/protocol';
import type { Clock } from '../util/clock.js';
import type {
  AuthOutcome,
  AuthRefusal,
  Authenticator,
  HandshakeRequest,
  Principal,
} from './authenticator.js';
import { ADMIN_TOKEN_PREFIX, isAdminToken, openAdminToken } from './admin-credentials.js';
import { adminPrincipal } from './admin-principal.js';
import { credentialOf } from './token-sources.js';

/** Used nonces remembered at most; past it new tokens are refused until some expire (only admins mint them). */
export const MAX_USED_ADMIN_TOKENS = 10_000;

const REFUSED: AuthRefusal = Object.freeze({
  ok: false,
  status: 401,
  code: ErrorCode.Unauthorized,
  message: 'invalid, expired or already used admin connection token',
});

/** Verifies admin connection tokens, each once. */
export class AdminTokenVerifier {
  /** Used nonces and when their tokens expire, oldest first (every token lives as long). */
  private readonly used = new Map<string, number>();

  constructor(
    private readonly key: Buffer,
    private readonly clock: Clock,
  ) {}

  /** The admin principal of `token`, or the refusal; a token is accepted once. */
  verify(token: string): { readonly ok: true; readonly principal: Principal } | AuthRefusal {
    const now = this.clock.now();
    const claims = openAdminToken(this.key, token);
    if (claims === null || claims.exp <= now || claims.session <= now) return REFUSED;
    for (const [nonce, exp] of this.used) {
      if (exp > now) break;
      this.used.delete(nonce);
    }
    if (this.used.has(claims.nonce) || this.used.size >= MAX_USED_ADMIN_TOKENS) return REFUSED;
    this.used.set(claims.nonce, claims.exp);
    return { ok: true, principal: adminPrincipal(claims.session) };
  }
}

/**
 * `inner` with admin connection tokens recognised. It verifies bare tokens (`auth`, `refresh`) only when
 * `inner` does: a server that takes a handshake without credentials as anonymous never waits for `auth`.
 */
export function adminAuthenticator(inner: Authenticator, tokens: AdminTokenVerifier): Authenticator {
  const authenticate = (request: HandshakeRequest): Promise<AuthOutcome> => {
    if (!mayCarryAdminToken(request)) return inner.authenticate(request);
    const credential = credentialOf(request);
    if (credential.kind !== 'token' || !isAdminToken(credential.token)) return inner.authenticate(request);
    return Promise.resolve(tokens.verify(credential.token));
  };
  const verify = inner.verifyToken?.bind(inner);
  if (verify === undefined) return { authenticate };
  return {
    authenticate,
    verifyToken: (token) => (isAdminToken(token) ? Promise.resolve(tokens.verify(token)) : verify(token)),
  };
}

/** A cheap first look, so that an ordinary handshake pays three substring searches and nothing else. */
function mayCarryAdminToken(request: HandshakeRequest): boolean {
  const marker = `${ADMIN_TOKEN_PREFIX}.`;
  const { authorization } = request.headers;
  const protocols = request.headers['sec-websocket-protocol'];
  return (
    (authorization?.includes(marker) ?? false) ||
    (protocols !== undefined && String(protocols).includes(marker)) ||
    request.url.search.includes(marker)
  );
}
