/**
 * JWT verification with jose: the signature against the configured key and algorithm allow-list, then
 * `exp`, `nbf`, `aud` and `iss` with a clock skew, then the claims become a {@link Principal}. A token's
 * fault is a refusal (401); a fault of ours (the JWKS endpoint is down) is thrown, so it becomes a 500 and
 * the client retries, instead of a 401 that would make it drop credentials that are fine.
 */
import { createRemoteJWKSet, errors, jwtVerify } from 'jose';
import type { JWTPayload, JWTVerifyOptions, JWTVerifyResult } from 'jose';
import { ErrorCode } from '@switchboard/protocol';
import type { AuthRefusal, Principal } from './authenticator.js';
import type { ResolvedAuthOptions } from './auth-options.js';
import type { Clock } from '../util/clock.js';
import { HmacJwtVerifier } from './hmac-jwt.js';
import { VerifiedTokenCache } from './verified-token-cache.js';

/** Tokens kept by the verified-token cache (public keys and JWKS only), and for how long (ms). */
export const VERIFIED_TOKEN_CACHE = { maxEntries: 10_000, ttlMs: 60_000 } as const;

/** The outcome of verifying a token. */
export type VerifyOutcome = { readonly ok: true; readonly principal: Principal } | AuthRefusal;

/**
 * Verifies JWTs against one key source. HMAC tokens that jose would accept are accepted by a synchronous
 * fast path first (hmac-jwt.ts); tokens signed with a public key or a JWKS key are remembered once
 * verified (verified-token-cache.ts). jose has the last word on every token either one does not accept.
 */
export class JwtVerifier {
  private readonly verifyWith: (token: string, options: JWTVerifyOptions) => Promise<JWTVerifyResult>;
  private readonly requiredClaims: string[];
  private readonly hmac: HmacJwtVerifier | null = null;
  private readonly cache: VerifiedTokenCache | null = null;

  constructor(
    private readonly options: ResolvedAuthOptions,
    private readonly clock: Clock,
  ) {
    const key = options.key;
    switch (key.kind) {
      case 'secret':
        this.verifyWith = (token, o) => jwtVerify(token, key.key, o);
        this.hmac = new HmacJwtVerifier(key.key, {
          algorithms: options.algorithms,
          requiredClaims: options.requireExpiry ? ['sub', 'exp'] : ['sub'],
          audience: options.audience,
          issuer: options.issuer,
          clockToleranceSeconds: options.clockSkewMs / 1000,
        });
        break;
      case 'public-key':
        this.verifyWith = (token, o) => jwtVerify(token, key.key, o);
        break;
      case 'jwks': {
        // Cached; refetched when stale, or when a token names an unknown kid (key rotation) and the last
        // fetch is older than the cooldown, so a flood of made-up kids cannot hammer the IdP.
        const keySet = createRemoteJWKSet(key.url, {
          cooldownDuration: key.cooldownMs,
          cacheMaxAge: key.cacheMaxAgeMs,
          timeoutDuration: key.timeoutMs,
        });
        this.verifyWith = (token, o) => jwtVerify(token, keySet, o);
        break;
      }
    }
    this.requiredClaims = options.requireExpiry ? ['sub', 'exp'] : ['sub'];
    if (this.hmac === null) {
      this.cache = new VerifiedTokenCache({
        ...VERIFIED_TOKEN_CACHE,
        clockToleranceSeconds: options.clockSkewMs / 1000,
      });
    }
  }

  /** Verify `token`; resolves a refusal for every fault of the token, rejects only for faults of ours. */
  async verify(token: string): Promise<VerifyOutcome> {
    const o = this.options;
    const now = this.clock.now();
    const fast = this.hmac?.verify(token, now);
    if (fast !== undefined && fast !== null) return outcomeOf(fast);
    const cached = this.cache?.get(token, now);
    if (cached !== undefined && cached !== null) return { ok: true, principal: cached };
    let claims: JWTPayload;
    try {
      const result = await this.verifyWith(token, {
        algorithms: [...o.algorithms],
        clockTolerance: o.clockSkewMs / 1000,
        currentDate: new Date(now),
        requiredClaims: this.requiredClaims,
        ...(o.audience.length === 0 ? {} : { audience: [...o.audience] }),
        ...(o.issuer.length === 0 ? {} : { issuer: [...o.issuer] }),
      });
      claims = result.payload;
    } catch (error) {
      const refusal = refusalFor(error);
      if (refusal === null) throw error;
      return refusal;
    }
    const outcome = outcomeOf(claims);
    if (outcome.ok) this.cache?.set(token, outcome.principal, claims.nbf, claims.exp, now);
    return outcome;
  }
}

function outcomeOf(claims: JWTPayload): VerifyOutcome {
  const principal = principalFromClaims(claims);
  return typeof principal === 'string' ? unauthorized(principal) : { ok: true, principal };
}

/**
 * The principal of verified claims: `sub` is the user, `exp` the expiry, `scope` (space-separated, RFC
 * 8693) or `scopes` (a list) the scopes, `channels` (a list of channels or patterns) what the `claims`
 * permission grants, and `info` (any JSON) what others see of this user in presence and join/leave
 * pushes. Only the `info` claim is shown to others: the rest of the token (emails, roles) never is.
 * A string is the problem.
 */
export function principalFromClaims(claims: JWTPayload): Principal | string {
  const sub = claims.sub;
  if (typeof sub !== 'string' || sub.length === 0) return 'token has no subject (sub)';
  const scopes = scopesOf(claims);
  const channels = stringList(claims['channels']);
  return {
    userId: sub,
    ...(claims['info'] === undefined ? {} : { info: claims['info'] }),
    ...(typeof claims.exp === 'number' ? { expiresAt: claims.exp * 1000 } : {}),
    ...(scopes === undefined ? {} : { scopes }),
    ...(channels === undefined ? {} : { channels }),
  };
}

function stringList(value: unknown): readonly string[] | undefined {
  return Array.isArray(value) && value.every((s) => typeof s === 'string') ? (value as string[]) : undefined;
}

function scopesOf(claims: JWTPayload): readonly string[] | undefined {
  const scope = claims['scope'];
  if (typeof scope === 'string') return scope.split(' ').filter((s) => s.length > 0);
  const scopes = claims['scopes'];
  if (Array.isArray(scopes) && scopes.every((s) => typeof s === 'string')) return scopes as string[];
  // A malformed scope claim grants nothing rather than refusing the token: fewer rights is the safe side.
  return undefined;
}

/** The refusal for a jose error that is the token's fault; null for any other error. */
export function refusalFor(error: unknown): AuthRefusal | null {
  if (error instanceof errors.JWTExpired)
    return { ok: false, status: 401, code: ErrorCode.TokenExpired, message: 'token expired' };
  if (error instanceof errors.JWTClaimValidationFailed) return unauthorized(claimProblem(error));
  if (error instanceof errors.JOSEAlgNotAllowed) return unauthorized('token algorithm is not allowed');
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return unauthorized('token signature is invalid');
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys)
    return unauthorized('no key matches the token');
  if (
    error instanceof errors.JWSInvalid ||
    error instanceof errors.JWTInvalid ||
    error instanceof errors.JOSENotSupported
  )
    return unauthorized('token is malformed');
  return null;
}

function claimProblem(error: InstanceType<typeof errors.JWTClaimValidationFailed>): string {
  if (error.reason === 'missing') return `token has no ${error.claim} claim`;
  switch (error.claim) {
    case 'nbf':
      return 'token is not valid yet (nbf)';
    case 'aud':
      return 'token audience (aud) is not accepted';
    case 'iss':
      return 'token issuer (iss) is not accepted';
    default:
      return `token claim ${error.claim} is invalid`;
  }
}

function unauthorized(message: string): AuthRefusal {
  return { ok: false, status: 401, code: ErrorCode.Unauthorized, message };
}
