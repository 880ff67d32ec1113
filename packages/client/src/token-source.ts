/**
 * Where a client's credentials come from and how they travel: a static token or an async provider, sent
 * as the first frame (`auth`) or as a subprotocol in the handshake (docs/security.md, "Presenting
 * credentials"). Pure: no socket and no timer.
 */
import { MAX_TOKEN_LENGTH } from '@switchboard/protocol';
import { TokenProviderError } from './errors.js';

/**
 * Returns a token (a JWT) good for a while: called before every connection attempt and before every
 * refresh, so it should return a cached token while that has time left and fetch a new one otherwise.
 */
export type TokenProvider = () => Promise<string>;

/** The `token` option: a static token, or a provider. */
export type TokenSource = string | TokenProvider;

/** How the token reaches the server (see the `tokenTransport` option). */
export type TokenTransport = 'first-message' | 'subprotocol';

/** The application subprotocol, offered beside a bearer: the server selects it, never the token. */
export const APP_SUBPROTOCOL = 'switchboard.v1';

/** Prefix of the subprotocol that carries a bearer token: `switchboard.bearer.<token>`. */
export const BEARER_SUBPROTOCOL_PREFIX = 'switchboard.bearer.';

/**
 * Ask `provider` for a token. Never throws: a provider that throws (synchronously or not) or returns
 * anything but a non-empty string of at most MAX_TOKEN_LENGTH characters rejects with TokenProviderError.
 */
export function fetchToken(provider: TokenProvider): Promise<string> {
  return new Promise<unknown>((resolve) => resolve(provider())).then(
    (token) => {
      if (typeof token === 'string' && token !== '' && token.length <= MAX_TOKEN_LENGTH) return token;
      // The value is not quoted: it might be a credential after all.
      throw new TokenProviderError(
        `the token provider returned ${typeof token === 'string' ? `a string of ${token.length} characters` : typeof token}, not a token of 1 to ${MAX_TOKEN_LENGTH} characters`,
      );
    },
    (error: unknown) => {
      const detail = error instanceof Error ? error.message : String(error);
      throw new TokenProviderError(`the token provider failed: ${detail}`, { cause: error });
    },
  );
}

/** The subprotocols a handshake offers to carry `token` (docs/security.md, "The bearer subprotocol"). */
export function bearerSubprotocols(token: string): string[] {
  return [APP_SUBPROTOCOL, `${BEARER_SUBPROTOCOL_PREFIX}${token}`];
}

/**
 * The `exp` claim of a JWT in ms since the Unix epoch, read without verifying anything (the server
 * verifies); null when `token` is not a JWT with a numeric `exp`. Only the subprotocol transport needs
 * it: there, no `auth` reply says when the credentials expire.
 */
export function jwtExpiry(token: string): number | null {
  const payload = token.split('.')[1];
  if (payload === undefined || !/^[\w-]+$/.test(payload)) return null;
  try {
    const base64 = payload.replaceAll('-', '+').replaceAll('_', '/');
    const bytes = Uint8Array.from(atob(base64.padEnd(Math.ceil(base64.length / 4) * 4, '=')), (c) =>
      c.charCodeAt(0),
    );
    const claims: unknown = JSON.parse(new TextDecoder().decode(bytes));
    const exp = typeof claims === 'object' && claims !== null ? (claims as { exp?: unknown }).exp : undefined;
    return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : null;
  } catch {
    return null;
  }
}
