/**
 * Options of the built-in token authentication (`createServer({ auth })`) and their validation. Validation
 * is pure (no I/O) and runs once, at construction; every problem is an {@link InvalidOptionError} naming
 * the option as `auth.<name>`, and a secret never appears in one.
 */
import { createPublicKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { InvalidOptionError } from '../errors.js';
import type { TicketStore } from './ticket-store.js';

/** A JWS algorithm Switchboard can verify. `none` is not one of them, and never will be. */
export type JwtAlgorithm =
  | 'HS256'
  | 'HS384'
  | 'HS512'
  | 'RS256'
  | 'RS384'
  | 'RS512'
  | 'PS256'
  | 'PS384'
  | 'PS512'
  | 'ES256'
  | 'ES384'
  | 'ES512'
  | 'EdDSA'
  | 'Ed25519';

/**
 * Options of `createServer({ auth })`: JWT verification plus the ways a client may present credentials.
 * Exactly one of `secret`, `publicKey` and `jwksUrl` is required.
 */
export interface AuthOptions {
  /** HMAC secret for HS256/HS384/HS512 tokens, at least 32 bytes. Default: none. */
  readonly secret?: string | Uint8Array;
  /** Public key (PEM SPKI text or a KeyObject) for RS*, PS*, ES* or EdDSA tokens. Default: none. */
  readonly publicKey?: string | KeyObject;
  /**
   * URL of a JSON Web Key Set (the identity provider's `jwks_uri`); https, or http on localhost only.
   * Keys are cached and refetched when a token names an unknown `kid`. Default: none.
   */
  readonly jwksUrl?: string | URL;
  /**
   * Algorithms accepted, a subset of those the key can verify. Default: every algorithm of the key's type
   * (a secret: HS256/384/512; an RSA key: RS* and PS*; an EC key: the ES* of its curve; Ed25519: EdDSA).
   */
  readonly algorithms?: readonly JwtAlgorithm[];
  /** Accepted `aud` values (one must match). Default: `aud` is not checked. Set it with a shared IdP. */
  readonly audience?: string | readonly string[];
  /** Accepted `iss` values (one must match). Default: `iss` is not checked. */
  readonly issuer?: string | readonly string[];
  /** Tolerance when checking `exp` and `nbf` (ms), for clocks that disagree. Default 5000. */
  readonly clockSkewMs?: number;
  /** Refuse tokens without an `exp` claim. Default true. */
  readonly requireExpiry?: boolean;
  /**
   * Accept a handshake that presents no credentials at all as anonymous (`userId: null`). Invalid
   * credentials are still refused. Excludes `firstMessageAuth`. Default false.
   */
  readonly allowAnonymous?: boolean;
  /**
   * A handshake without credentials must send `{"type":"auth","token":...}` as its first frame
   * (within `authTimeoutMs`); when false it is refused with 401 instead. Default true (false when
   * `allowAnonymous` is set).
   */
  readonly firstMessageAuth?: boolean;
  /** Accept a token in the `token` query parameter (a last resort: URLs end up in logs). Default true. */
  readonly queryToken?: boolean;
  /** How long a ticket from `POST <base>/auth/ticket` may be redeemed (ms). Default 30000. */
  readonly ticketTtlMs?: number;
  /**
   * The name of a cookie that carries the JWT (an SSE `EventSource` or a WebSocket from a page of the
   * same site sends it by itself). Read only when the handshake presents no other credential, and only on
   * a server with an explicit `allowedOrigins` list (a cookie comes with cross-site requests too). Default:
   * none, cookies are not read.
   */
  readonly cookie?: string;
  /** Where tickets wait to be redeemed. Default: this process's memory (one node, or sticky sessions). */
  readonly ticketStore?: TicketStore;
  /** After a JWKS fetch, the least time before an unknown `kid` may trigger another (ms). Default 30000. */
  readonly jwksCooldownMs?: number;
  /** Refetch the JWKS at the next verification once it is this old (ms). Default 600000 (10 minutes). */
  readonly jwksCacheMaxAgeMs?: number;
  /** Give up on a JWKS fetch after this long (ms). Default 5000. */
  readonly jwksTimeoutMs?: number;
}

/** Where verification keys come from, after validation. */
export type KeySource =
  | { readonly kind: 'secret'; readonly key: Uint8Array }
  | { readonly kind: 'public-key'; readonly key: KeyObject }
  | {
      readonly kind: 'jwks';
      readonly url: URL;
      readonly cooldownMs: number;
      readonly cacheMaxAgeMs: number;
      readonly timeoutMs: number;
    };

/** {@link AuthOptions} after defaults and validation (the ticket store is kept apart: it is an object). */
export interface ResolvedAuthOptions {
  readonly key: KeySource;
  readonly algorithms: readonly JwtAlgorithm[];
  /** Empty: not checked. */
  readonly audience: readonly string[];
  /** Empty: not checked. */
  readonly issuer: readonly string[];
  readonly clockSkewMs: number;
  readonly requireExpiry: boolean;
  readonly allowAnonymous: boolean;
  readonly firstMessageAuth: boolean;
  readonly queryToken: boolean;
  readonly ticketTtlMs: number;
  /** The JWT cookie's name; null: cookies are not read. */
  readonly cookie: string | null;
}

/** The numeric auth options. */
export type AuthLimit =
  'clockSkewMs' | 'ticketTtlMs' | 'jwksCooldownMs' | 'jwksCacheMaxAgeMs' | 'jwksTimeoutMs';

/** Defaults of the numeric auth options. */
export const DEFAULT_AUTH_LIMITS: Readonly<Record<AuthLimit, number>> = {
  clockSkewMs: 5000,
  ticketTtlMs: 30_000,
  // jose's own defaults for createRemoteJWKSet, restated so that the docs can say them.
  jwksCooldownMs: 30_000,
  jwksCacheMaxAgeMs: 600_000,
  jwksTimeoutMs: 5000,
};

/** Inclusive bounds of the numeric auth options (integers). */
export const AUTH_LIMIT_BOUNDS: Readonly<Record<AuthLimit, { readonly min: number; readonly max: number }>> =
  {
    clockSkewMs: { min: 0, max: 300_000 },
    // At least a second: `expires_in` is announced in whole seconds.
    ticketTtlMs: { min: 1000, max: 300_000 },
    jwksCooldownMs: { min: 0, max: 3_600_000 },
    jwksCacheMaxAgeMs: { min: 1000, max: 86_400_000 },
    jwksTimeoutMs: { min: 100, max: 60_000 },
  };

/** HMAC keys shorter than the hash are guessable offline from one token (RFC 7518 section 3.2). */
export const MIN_SECRET_BYTES = 32;

const HMAC: readonly JwtAlgorithm[] = ['HS256', 'HS384', 'HS512'];
const RSA: readonly JwtAlgorithm[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
const ASYMMETRIC: readonly JwtAlgorithm[] = [...RSA, 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];
const EC_BY_CURVE: Readonly<Record<string, JwtAlgorithm>> = {
  prime256v1: 'ES256',
  secp384r1: 'ES384',
  secp521r1: 'ES512',
};
const REDACTED = '<redacted>';

/**
 * The algorithms a key can verify. This is the defence against algorithm confusion: a secret never
 * verifies an RS/ES/EdDSA token (and so a public key can never be used as an HMAC secret), a public key
 * never verifies an HS token, and `none` is in no list.
 */
export function algorithmsForKey(key: KeySource): readonly JwtAlgorithm[] {
  switch (key.kind) {
    case 'secret':
      return HMAC;
    case 'jwks':
      // jose matches each JWK to the token's alg by key type; symmetric keys are never fetched.
      return ASYMMETRIC;
    case 'public-key':
      return publicKeyAlgorithms(key.key) ?? [];
  }
}

function publicKeyAlgorithms(key: KeyObject): readonly JwtAlgorithm[] | null {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return RSA;
    case 'rsa-pss':
      return ['PS256', 'PS384', 'PS512'];
    case 'ec': {
      const alg = EC_BY_CURVE[key.asymmetricKeyDetails?.namedCurve ?? ''];
      return alg === undefined ? null : [alg];
    }
    case 'ed25519':
      return ['EdDSA', 'Ed25519'];
    default:
      return null;
  }
}

/** Apply defaults and validate; throws {@link InvalidOptionError} naming `auth.<option>`. */
export function resolveAuthOptions(options: AuthOptions): ResolvedAuthOptions {
  const key = resolveKey(options);
  const supported = algorithmsForKey(key);
  let algorithms = supported;
  if (options.algorithms !== undefined) {
    const wanted: unknown = options.algorithms;
    if (
      !Array.isArray(wanted) ||
      wanted.length === 0 ||
      !wanted.every((a) => supported.includes(a as JwtAlgorithm))
    ) {
      throw new InvalidOptionError(
        'auth.algorithms',
        Array.isArray(wanted) ? wanted.join(',') : String(wanted),
        `a non-empty list from ${supported.join(', ')} (the algorithms this key can verify)`,
      );
    }
    algorithms = [...new Set(wanted as JwtAlgorithm[])];
  }
  const allowAnonymous = flag(options, 'allowAnonymous', false);
  if (allowAnonymous && options.firstMessageAuth === true) {
    throw new InvalidOptionError(
      'auth.firstMessageAuth',
      true,
      'false or unset while auth.allowAnonymous is true (a handshake without credentials is then anonymous)',
    );
  }
  return {
    key,
    algorithms,
    audience: names(options.audience, 'auth.audience'),
    issuer: names(options.issuer, 'auth.issuer'),
    clockSkewMs: limit(options, 'clockSkewMs'),
    requireExpiry: flag(options, 'requireExpiry', true),
    allowAnonymous,
    firstMessageAuth: flag(options, 'firstMessageAuth', !allowAnonymous),
    queryToken: flag(options, 'queryToken', true),
    ticketTtlMs: limit(options, 'ticketTtlMs'),
    cookie: cookieName(options.cookie),
  };
}

function resolveKey(options: AuthOptions): KeySource {
  const given = (['secret', 'publicKey', 'jwksUrl'] as const).filter((name) => options[name] !== undefined);
  if (given.length !== 1) {
    throw new InvalidOptionError(
      given.length === 0 ? 'auth' : `auth.${given[1] ?? ''}`,
      given.length === 0 ? 'no key' : given.map((name) => `auth.${name}`).join(' and '),
      'exactly one of auth.secret, auth.publicKey and auth.jwksUrl',
    );
  }
  if (options.secret !== undefined) return { kind: 'secret', key: resolveSecret(options.secret) };
  if (options.publicKey !== undefined)
    return { kind: 'public-key', key: resolvePublicKey(options.publicKey) };
  return {
    kind: 'jwks',
    url: resolveJwksUrl(options.jwksUrl),
    cooldownMs: limit(options, 'jwksCooldownMs'),
    cacheMaxAgeMs: limit(options, 'jwksCacheMaxAgeMs'),
    timeoutMs: limit(options, 'jwksTimeoutMs'),
  };
}

function resolveSecret(secret: unknown): Uint8Array {
  const bytes =
    typeof secret === 'string'
      ? new TextEncoder().encode(secret)
      : secret instanceof Uint8Array
        ? Uint8Array.from(secret)
        : null;
  if (bytes === null || bytes.length < MIN_SECRET_BYTES) {
    throw new InvalidOptionError(
      'auth.secret',
      REDACTED,
      `a string or bytes of at least ${MIN_SECRET_BYTES} bytes (RFC 7518 section 3.2)`,
    );
  }
  return bytes;
}

/**
 * Why a PEM text cannot serve as `auth.publicKey`, or null when it can (exported for the CLI, which
 * reports a bad key file under the file's own option name).
 */
export function publicKeyProblem(key: string | KeyObject): string | null {
  return checkPublicKey(key).problem;
}

function resolvePublicKey(key: string | KeyObject): KeyObject {
  const checked = checkPublicKey(key);
  if (checked.problem !== null)
    throw new InvalidOptionError('auth.publicKey', '<public key>', checked.problem);
  return checked.key;
}

function checkPublicKey(
  input: string | KeyObject,
): { readonly key: KeyObject; readonly problem: null } | { readonly problem: string } {
  // A private key would work (Node derives the public half) but should never sit in a server's config.
  if (typeof input === 'string' && /PRIVATE KEY-----/.test(input))
    return { problem: 'a public key, not a private key: give the server only the public half' };
  let key: KeyObject;
  try {
    key = typeof input === 'string' ? createPublicKey(input) : input;
  } catch {
    return { problem: 'a PEM public key (-----BEGIN PUBLIC KEY-----) or certificate' };
  }
  if (typeof key !== 'object' || key === null || key.type !== 'public')
    return { problem: 'a PEM public key (-----BEGIN PUBLIC KEY-----) or a public KeyObject' };
  if (publicKeyAlgorithms(key) === null) {
    return { problem: 'an RSA, RSA-PSS, EC (P-256, P-384, P-521) or Ed25519 public key' };
  }
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (bits !== undefined && bits < 2048) return { problem: `an RSA key of at least 2048 bits (got ${bits})` };
  return { key, problem: null };
}

function resolveJwksUrl(input: unknown): URL {
  let url: URL | null;
  try {
    url = new URL(String(input));
  } catch {
    url = null;
  }
  // Keys fetched in the clear could be swapped by anyone on the path, who could then sign any token.
  const loopback = url !== null && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (url === null || !(url.protocol === 'https:' || (url.protocol === 'http:' && loopback))) {
    throw new InvalidOptionError(
      'auth.jwksUrl',
      String(input),
      'an https URL (http only for localhost, 127.0.0.1 or [::1])',
    );
  }
  return url;
}

function names(value: unknown, option: string): readonly string[] {
  if (value === undefined) return [];
  const list: unknown[] = typeof value === 'string' ? [value] : Array.isArray(value) ? value : [];
  if (list.length === 0 || !list.every((v) => typeof v === 'string' && v.length > 0)) {
    throw new InvalidOptionError(option, String(value), 'a non-empty string or a non-empty list of them');
  }
  return list as string[];
}

function limit(options: AuthOptions, name: AuthLimit): number {
  const value: unknown = options[name] ?? DEFAULT_AUTH_LIMITS[name];
  const { min, max } = AUTH_LIMIT_BOUNDS[name];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw new InvalidOptionError(`auth.${name}`, value, `an integer from ${min} to ${max}`);
  return value;
}

function flag(
  options: AuthOptions,
  name: 'requireExpiry' | 'allowAnonymous' | 'firstMessageAuth' | 'queryToken',
  fallback: boolean,
): boolean {
  const value: unknown = options[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new InvalidOptionError(`auth.${name}`, value, 'true or false');
  return value;
}

/** A cookie name (RFC 6265's token), or null when none is set. */
function cookieName(name: unknown): string | null {
  if (name === undefined) return null;
  if (typeof name !== 'string' || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,128}$/.test(name))
    throw new InvalidOptionError('auth.cookie', String(name), 'a cookie name (RFC 6265 token characters)');
  return name;
}
