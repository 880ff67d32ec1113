/**
 * The admin dashboard's sign-in, stateless so that any node behind a load balancer accepts it
 * (docs/admin.md, "Security"): a session is a cookie sealed with the admin key (admin-credentials.ts),
 * HttpOnly, SameSite=Strict, scoped to `<base>/admin`; a POST also needs the session's CSRF token in
 * `X-CSRF-Token` and a same-origin `Origin` (or `Sec-Fetch-Site: same-origin`). Failed sign-ins are
 * throttled per client address like wrong API keys. Pure parts only: the time comes from the clock.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ErrorCode } from '@switchboard/protocol';
import { csrfToken, openCookie, safeEqual, sealCookie } from '../auth/admin-credentials.js';
import { KeyedBuckets, secondsUntilToken } from '../limits/keyed-buckets.js';
import type { TrustedProxies } from '../transports/client-ip.js';
import { normalizeAddress } from '../transports/client-ip.js';
import type { Clock } from '../util/clock.js';
import type { RequestGuard, RequestRefusal } from './http-utils.js';

/** The session cookie's name. */
export const ADMIN_COOKIE = 'switchboard_admin';

/** Failed sign-ins an address may make at once. */
export const LOGIN_FAILURE_BURST = 5;
/** Failed sign-ins an address regains per second: one per 10 s. */
export const LOGIN_FAILURE_REFILL_PER_SECOND = 0.1;

/** A signed-in session: when it ends, and its nonce (which its CSRF token is made from). */
export interface AdminSession {
  readonly expiresAt: number;
  readonly nonce: string;
}

/** No valid, unexpired session cookie: the page shows its sign-in form. */
export const NO_SESSION: RequestRefusal = Object.freeze({
  status: 401,
  code: ErrorCode.Unauthorized,
  message: 'sign in to the admin dashboard first (no valid session)',
});
/** A POST whose origin is not this server's. */
export const CROSS_ORIGIN: RequestRefusal = Object.freeze({
  status: 403,
  code: ErrorCode.Forbidden,
  message: 'cross-origin request refused',
});
/** A POST without the session's CSRF token. */
export const BAD_CSRF: RequestRefusal = Object.freeze({
  status: 403,
  code: ErrorCode.Forbidden,
  message: 'missing or wrong CSRF token',
});

/** Sessions sealed with the admin key. */
export class AdminSessions {
  constructor(
    private readonly key: Buffer,
    private readonly ttlMs: number,
    private readonly clock: Clock,
  ) {}

  /** How long a session lasts (ms). */
  get ttl(): number {
    return this.ttlMs;
  }

  /** A new session and its cookie value. */
  issue(): { session: AdminSession; value: string } {
    const session = {
      expiresAt: this.clock.now() + this.ttlMs,
      nonce: randomBytes(16).toString('base64url'),
    };
    return { session, value: sealCookie(this.key, { exp: session.expiresAt, nonce: session.nonce }) };
  }

  /** The session of a request's `Cookie` header; null without a valid, unexpired one. */
  read(cookieHeader: string | undefined): AdminSession | null {
    const value = cookieValue(cookieHeader, ADMIN_COOKIE);
    if (value === null) return null;
    const seal = openCookie(this.key, value);
    if (seal === null || seal.exp <= this.clock.now()) return null;
    return { expiresAt: seal.exp, nonce: seal.nonce };
  }

  /** The session's CSRF token. */
  csrf(session: AdminSession): string {
    return csrfToken(this.key, session.nonce);
  }

  /** Whether `presented` is the session's CSRF token (constant time). */
  csrfMatches(session: AdminSession, presented: string | undefined): boolean {
    return presented !== undefined && safeEqual(presented, this.csrf(session));
  }
}

/**
 * The guard of `/admin/api/*` and `/admin/logout`: a valid session, and on a POST a same-origin request
 * with the session's CSRF token. The session it found is kept for the route ({@link session}).
 */
export class AdminGuard implements RequestGuard {
  private readonly sessions = new WeakMap<IncomingMessage, AdminSession>();

  constructor(private readonly store: AdminSessions) {}

  check(req: IncomingMessage): RequestRefusal | null {
    const session = this.store.read(req.headers.cookie);
    if (session === null) return NO_SESSION;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      if (!sameOrigin(req)) return CROSS_ORIGIN;
      const presented = req.headers['x-csrf-token'];
      if (!this.store.csrfMatches(session, typeof presented === 'string' ? presented : undefined))
        return BAD_CSRF;
    }
    this.sessions.set(req, session);
    return null;
  }

  /** The session {@link check} admitted `req` with. */
  session(req: IncomingMessage): AdminSession | undefined {
    return this.sessions.get(req);
  }
}

/** Failed sign-ins per client address (only failures make a bucket). */
export class LoginThrottle {
  private readonly failures: KeyedBuckets;

  constructor(private readonly clock: Clock) {
    this.failures = new KeyedBuckets(LOGIN_FAILURE_BURST, LOGIN_FAILURE_REFILL_PER_SECOND, clock.now());
  }

  /** Seconds until `key` may try again; 0 when it may now. */
  retryAfter(key: string): number {
    const now = this.clock.now();
    const bucket = this.failures.find(key, now);
    if (bucket === undefined || bucket.available(now) >= 1) return 0;
    return secondsUntilToken(bucket, LOGIN_FAILURE_REFILL_PER_SECOND, now);
  }

  /** `key` failed a sign-in. */
  failed(key: string): void {
    const now = this.clock.now();
    this.failures.get(key, now).take(now);
  }
}

/**
 * Whether a request comes from a page of this server: its `Origin` names the host it was sent to (the
 * `Host` header, or HTTP/2's `:authority`); without an `Origin`, `Sec-Fetch-Site: same-origin` will do.
 * A request with neither is refused: every browser that runs the dashboard sends one of them.
 */
export function sameOrigin(req: IncomingMessage): boolean {
  const host = req.headers.host ?? req.headers[':authority'];
  if (typeof host !== 'string' || host === '') return false;
  const origin = req.headers.origin;
  if (origin === undefined) return req.headers['sec-fetch-site'] === 'same-origin';
  try {
    return new URL(origin).host === new URL(`http://${host}`).host;
  } catch {
    return false;
  }
}

/**
 * Whether the request reached the client over TLS: this server's own, or a trusted proxy's that says
 * so with `X-Forwarded-Proto: https`. The cookie is then `Secure`.
 */
export function overTls(req: IncomingMessage, trustedProxies: TrustedProxies): boolean {
  if ((req.socket as { encrypted?: boolean }).encrypted === true) return true;
  const proto = req.headers['x-forwarded-proto'];
  const first = typeof proto === 'string' ? proto.split(',')[0]?.trim().toLowerCase() : undefined;
  return first === 'https' && trustedProxies.has(normalizeAddress(req.socket.remoteAddress ?? ''));
}

/** The `Set-Cookie` of a session (`value`), or of its removal (`value` null). */
export function sessionCookie(
  value: string | null,
  options: { readonly path: string; readonly maxAgeSeconds: number; readonly secure: boolean },
): string {
  const parts = [
    `${ADMIN_COOKIE}=${value ?? ''}`,
    'HttpOnly',
    'SameSite=Strict',
    `Path=${options.path}`,
    `Max-Age=${value === null ? 0 : options.maxAgeSeconds}`,
  ];
  if (options.secure) parts.push('Secure');
  return parts.join('; ');
}

/** The value of cookie `name` in a `Cookie` header (RFC 6265 section 5.4), or null. */
function cookieValue(header: string | undefined, name: string): string | null {
  if (header === undefined) return null;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq !== -1 && pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim();
  }
  return null;
}
