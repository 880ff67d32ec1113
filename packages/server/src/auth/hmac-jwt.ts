/**
 * A synchronous fast path for HMAC-signed JWTs (HS256/384/512), in front of jose. jose verifies through
 * WebCrypto, which imports the secret as a CryptoKey and runs the HMAC as an async job for every token:
 * ~45 µs of CPU per handshake on the benchmark machine, against ~3 µs for node:crypto's HMAC
 * (packages/bench/src/micro/hmac-jwt.bench.ts). That was a fifth of a connection's server CPU.
 *
 * The fast path only ever *accepts*: it returns claims when the token is one jose would accept with the
 * same options, and null whenever it is not certain, for any token it does not like; the caller then asks
 * jose, whose answer (and refusal message) stands. So a refusal always comes from jose, and acceptance
 * follows jose's rules, restated here for the plain case only (see `verify` below, and the differential
 * test in test/hmac-jwt.unit.test.ts that runs both on every edge case).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { JWTPayload } from 'jose';

/** What a token must satisfy besides its signature: the options jose is given for the same check. */
export interface HmacClaimRules {
  /** Allowed `alg` values (only the HS* ones take the fast path). */
  readonly algorithms: readonly string[];
  /** Claims that must be present (`sub`, and `exp` unless expiry is optional). */
  readonly requiredClaims: readonly string[];
  /** Accepted audiences; empty: `aud` is not checked. */
  readonly audience: readonly string[];
  /** Accepted issuers; empty: `iss` is not checked. */
  readonly issuer: readonly string[];
  /** Clock tolerance for `exp` and `nbf`, in seconds. */
  readonly clockToleranceSeconds: number;
}

const HASH_OF: Readonly<Record<string, string>> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' };

/** Three non-empty base64url segments. Anything else (even a valid JWS jose would read) goes to jose. */
const PLAIN_COMPACT_JWS = /^[\w-]+\.[\w-]+\.[\w-]+$/;

/** Header segments whose verdict is remembered; past this many the memory starts over. */
const MAX_HEADERS = 64;

/** jose decodes segments as strict UTF-8 (`fatal`), so does this. */
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The claims of HMAC-signed tokens jose would certainly accept; null for every other token. */
export class HmacJwtVerifier {
  /** A copy of the secret (createHmac takes bytes with less work per call than a KeyObject). */
  private readonly key: Buffer;
  private readonly hashes: ReadonlyMap<string, string>;
  /**
   * The hash each header segment calls for (null: not for the fast path). An issuer sends the same
   * header in every token, so this saves decoding and parsing it each time.
   */
  private readonly headers = new Map<string, string | null>();

  constructor(
    secret: Uint8Array,
    private readonly rules: HmacClaimRules,
  ) {
    this.key = Buffer.from(secret);
    this.hashes = new Map(
      rules.algorithms.flatMap((alg) => (HASH_OF[alg] === undefined ? [] : [[alg, HASH_OF[alg]] as const])),
    );
  }

  /**
   * The claims of `token` at `nowMs` when jose's `jwtVerify` would accept it with the same rules, or null
   * (the caller asks jose). The checks mirror jose 6's, in its order:
   * - three segments, each valid base64url (jose's decoder rejects a length of 4n+1);
   * - the header: strict UTF-8 JSON of a plain object, without `crit` (jose's extension handling, and the
   *   `b64: false` refusal, only apply with `crit`), whose `alg` is an allowed HS* algorithm;
   * - the HMAC of `header.payload` equals the signature (constant-time comparison, as WebCrypto's);
   * - the payload: strict UTF-8 JSON of a plain object; the required claims, `aud` and `iss` present;
   *   `iss` one of the issuers, `aud` (a string or a list) naming one of the audiences; `iat`, `nbf` and
   *   `exp` numbers when present; `nbf <= now + tolerance` and `exp > now - tolerance`, with `now` in
   *   whole seconds.
   */
  verify(token: string, nowMs: number): JWTPayload | null {
    if (!PLAIN_COMPACT_JWS.test(token)) return null;
    const dot1 = token.indexOf('.');
    const dot2 = token.indexOf('.', dot1 + 1);
    if (dot1 % 4 === 1 || (dot2 - dot1 - 1) % 4 === 1 || (token.length - dot2 - 1) % 4 === 1) return null;
    const hash = this.hashOf(token.slice(0, dot1));
    if (hash === null) return null;
    const expected = createHmac(hash, this.key).update(token.slice(0, dot2)).digest();
    const signature = Buffer.from(token.slice(dot2 + 1), 'base64url');
    if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) return null;
    const claims = parseObject(token.slice(dot1 + 1, dot2));
    if (claims === null || !this.claimsPass(claims, nowMs)) return null;
    return claims;
  }

  /** The hash an encoded header calls for, when the fast path may take it. */
  private hashOf(segment: string): string | null {
    let hash = this.headers.get(segment);
    if (hash === undefined) {
      const header = parseObject(segment);
      const alg = header === null || header['crit'] !== undefined ? undefined : header['alg'];
      hash = (typeof alg === 'string' ? this.hashes.get(alg) : undefined) ?? null;
      if (this.headers.size >= MAX_HEADERS) this.headers.clear();
      this.headers.set(segment, hash);
    }
    return hash;
  }

  private claimsPass(claims: JWTPayload, nowMs: number): boolean {
    const { requiredClaims, audience, issuer, clockToleranceSeconds: tolerance } = this.rules;
    for (const claim of requiredClaims) if (!Object.hasOwn(claims, claim)) return false;
    if (issuer.length > 0 && (!Object.hasOwn(claims, 'iss') || !issuer.includes(claims.iss as string)))
      return false;
    if (audience.length > 0 && (!Object.hasOwn(claims, 'aud') || !namesAudience(claims.aud, audience)))
      return false;
    const now = Math.floor(nowMs / 1000);
    const { iat, nbf, exp } = claims;
    if (iat !== undefined && typeof iat !== 'number') return false;
    if (nbf !== undefined && (typeof nbf !== 'number' || nbf > now + tolerance)) return false;
    if (exp !== undefined && (typeof exp !== 'number' || exp <= now - tolerance)) return false;
    return true;
  }
}

/** jose's audience rule: a string among the accepted ones, or a list sharing one with them. */
function namesAudience(aud: unknown, accepted: readonly string[]): boolean {
  if (typeof aud === 'string') return accepted.includes(aud);
  return Array.isArray(aud) && accepted.some((a) => aud.includes(a));
}

/** A base64url segment as a plain JSON object, or null. */
function parseObject(segment: string): JWTPayload | null {
  let value: unknown;
  try {
    value = JSON.parse(STRICT_UTF8.decode(Buffer.from(segment, 'base64url')));
  } catch {
    return null;
  }
  // jose's isObject: an object whose prototype is Object.prototype (what JSON.parse makes) or null.
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  return value as JWTPayload;
}
