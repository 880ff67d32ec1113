/**
 * Tokens verified recently, so that the same token presented again (a reconnect storm, several tabs, an
 * `auth` frame after a dropped connection) costs a lookup instead of a signature check. Used for public
 * keys and JWKS, where a check costs 50-250 µs of CPU (or a JWKS fetch); HMAC tokens skip it, their
 * check costs ~3 µs (see hmac-jwt.ts), less than the memory a cached token would hold.
 *
 * Safe because:
 * - the key is the whole token string, so a hit is for exactly the bytes whose signature was verified;
 * - only successes are kept, with the principal they produced (claims never change for the same bytes);
 * - the only checks that depend on time, `nbf` and `exp`, are run again on every hit, with the same rule
 *   and clock tolerance as jose's, so a hit accepts exactly what a fresh verification would;
 * - an entry lives at most `ttlMs`: a key withdrawn from a JWKS stops accepting its tokens by then;
 * - the size is bounded: past `maxEntries`, the oldest entry goes.
 */
import type { Principal } from './authenticator.js';

/** Options for {@link VerifiedTokenCache}. */
export interface VerifiedTokenCacheOptions {
  /** Most tokens kept. */
  readonly maxEntries: number;
  /** Longest an entry is trusted (ms). */
  readonly ttlMs: number;
  /** Clock tolerance applied to `exp` and `nbf` (seconds), as the verifier's. */
  readonly clockToleranceSeconds: number;
}

interface Entry {
  readonly principal: Principal;
  /** The token's `nbf` and `exp` claims (seconds since the epoch), when it had them. */
  readonly nbf: number | undefined;
  readonly exp: number | undefined;
  /** When the entry stops being trusted (ms since the epoch). */
  readonly until: number;
}

/** Verified tokens and their principals, bounded in size and age. */
export class VerifiedTokenCache {
  /** Insertion order is age order: the first entry is the oldest. */
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly options: VerifiedTokenCacheOptions) {}

  /** Tokens held. */
  get size(): number {
    return this.entries.size;
  }

  /** The principal of `token` if it was verified and still passes its time checks at `nowMs`; else null. */
  get(token: string, nowMs: number): Principal | null {
    const entry = this.entries.get(token);
    if (entry === undefined) return null;
    if (nowMs >= entry.until || !this.timeClaimsPass(entry, nowMs)) {
      // A failing token is verified again, so that the refusal (expired, not yet valid) is the verifier's.
      this.entries.delete(token);
      return null;
    }
    return entry.principal;
  }

  /** Remember that `token` verified at `nowMs`, giving `principal`; `nbf` and `exp` are its claims. */
  set(token: string, principal: Principal, nbf: unknown, exp: unknown, nowMs: number): void {
    this.entries.delete(token);
    this.evict(nowMs);
    this.entries.set(token, {
      principal,
      nbf: typeof nbf === 'number' ? nbf : undefined,
      exp: typeof exp === 'number' ? exp : undefined,
      until: nowMs + this.options.ttlMs,
    });
  }

  /** Forget everything. */
  clear(): void {
    this.entries.clear();
  }

  /** Drop the oldest entries while they are stale, and one more if the cache is full. */
  private evict(nowMs: number): void {
    for (const [token, entry] of this.entries) {
      if (entry.until > nowMs && this.entries.size < this.options.maxEntries) return;
      this.entries.delete(token);
    }
  }

  /** jose's rule: `nbf <= now + tolerance` and `exp > now - tolerance`, `now` in whole seconds. */
  private timeClaimsPass(entry: Entry, nowMs: number): boolean {
    const now = Math.floor(nowMs / 1000);
    const tolerance = this.options.clockToleranceSeconds;
    if (entry.nbf !== undefined && entry.nbf > now + tolerance) return false;
    return entry.exp === undefined || entry.exp > now - tolerance;
  }
}
