/**
 * The admin dashboard's credentials, all derived from the admin password and stateless, so that every
 * node with the same password accepts what any of them issued (docs/admin.md): one key from the password
 * (HKDF-SHA256), and values sealed with it: the session cookie, the connection token, the CSRF token.
 * Each seal's MAC covers a purpose label, so a value made for one purpose is refused for another. Pure:
 * the caller passes the time and the random nonce.
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

/** The first part of an admin connection token: `sbadm1.<payload>.<mac>` (shaped like a JWT, which the SDK and the token sources accept). */
export const ADMIN_TOKEN_PREFIX = 'sbadm1';

/** The first part of a session cookie's value: `v1.<payload>.<mac>`. */
const COOKIE_PREFIX = 'v1';

/** What a sealed value carries: when it expires (ms since the Unix epoch) and its random nonce. */
export interface AdminSeal {
  readonly exp: number;
  readonly nonce: string;
}

/** A connection token also carries when the session that asked for it ends (ms), which bounds the connection. */
export interface AdminTokenClaims extends AdminSeal {
  readonly session: number;
}

/** The admin key: HKDF-SHA256(password, salt 'switchboard-admin', info 'session'), 32 bytes. */
export function deriveAdminKey(password: string): Buffer {
  return Buffer.from(hkdfSync('sha256', password, 'switchboard-admin', 'session', 32));
}

/** A session cookie's value for `seal`. */
export function sealCookie(key: Buffer, seal: AdminSeal): string {
  return sealed(key, 'cookie', COOKIE_PREFIX, { exp: seal.exp, nonce: seal.nonce });
}

/** The seal of a session cookie's value, or null when it is not one this key made (expiry not checked). */
export function openCookie(key: Buffer, value: string): AdminSeal | null {
  const payload = opened(key, 'cookie', COOKIE_PREFIX, value);
  if (payload === null) return null;
  const { exp, nonce } = payload;
  return typeof exp === 'number' && typeof nonce === 'string' ? { exp, nonce } : null;
}

/** An admin connection token for `claims`. */
export function sealAdminToken(key: Buffer, claims: AdminTokenClaims): string {
  // Not `exp`: the SDK reads a JWT-shaped token's `exp` claim to schedule a refresh it does not need here.
  return sealed(key, 'token', ADMIN_TOKEN_PREFIX, { e: claims.exp, s: claims.session, n: claims.nonce });
}

/** The claims of an admin connection token, or null when it is not one this key made (expiry not checked). */
export function openAdminToken(key: Buffer, token: string): AdminTokenClaims | null {
  const payload = opened(key, 'token', ADMIN_TOKEN_PREFIX, token);
  if (payload === null) return null;
  const { e, s, n } = payload;
  if (typeof e !== 'number' || typeof s !== 'number' || typeof n !== 'string') return null;
  return { exp: e, session: s, nonce: n };
}

/** Whether `token` claims to be an admin connection token (its prefix only: nothing is verified). */
export function isAdminToken(token: string): boolean {
  return token.startsWith(`${ADMIN_TOKEN_PREFIX}.`);
}

/** The CSRF token of the session with `nonce`: base64url(HMAC(key, 'csrf.' + nonce)). */
export function csrfToken(key: Buffer, nonce: string): string {
  return mac(key, `csrf.${nonce}`);
}

/** Whether `a` and `b` are equal, in time independent of where they differ (and of their lengths). */
export function safeEqual(a: string, b: string): boolean {
  const x = createHmac('sha256', 'compare').update(a).digest();
  const y = createHmac('sha256', 'compare').update(b).digest();
  return timingSafeEqual(x, y);
}

function mac(key: Buffer, text: string): string {
  return createHmac('sha256', key).update(text).digest('base64url');
}

function sealed(key: Buffer, purpose: string, prefix: string, payload: object): string {
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return `${prefix}.${body}.${mac(key, `${purpose}.${body}`)}`;
}

function opened(key: Buffer, purpose: string, prefix: string, value: string): Record<string, unknown> | null {
  // Bounded before any work: a value is a few dozen bytes, and a header can be 16 KiB.
  if (value.length > 512) return null;
  const parts = value.split('.');
  if (parts.length !== 3 || parts[0] !== prefix) return null;
  const body = parts[1] as string;
  if (!safeEqual(parts[2] as string, mac(key, `${purpose}.${body}`))) return null;
  try {
    const payload: unknown = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    return typeof payload === 'object' && payload !== null ? (payload as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
