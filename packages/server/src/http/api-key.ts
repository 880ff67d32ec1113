/**
 * The HTTP API key check (`/api/...` and `/stats`). Without a key the API answers only clients on this
 * machine (loopback), unless the operator opened it with `apiInsecure`. With one, failed attempts are
 * throttled per client address: an
 * address gets `failureBurst` wrong or missing keys, then one more every `1 / failureRefillPerSecond`
 * seconds; past that it is answered 429 with `Retry-After` and its key is not even compared, so a guess
 * can neither succeed nor be confirmed until the address has an attempt again, and the right key from
 * another address keeps working. Every refusal is counted and logged at a bounded rate.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode } from '@switchboard/protocol';
import type { ApiKeyRejection, Metrics } from '../metrics/metrics.js';
import { limitKey } from '../limits/connection-limits.js';
import { KeyedBuckets, secondsUntilToken } from '../limits/keyed-buckets.js';
import { ThrottledLog } from '../limits/throttled-log.js';
import { clientAddress, normalizeAddress } from '../transports/client-ip.js';
import type { TrustedProxies } from '../transports/client-ip.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { sendError } from './http-utils.js';
import type { RequestGuard, RequestRefusal } from './http-utils.js';

/** What {@link ApiKeyGuard} is built from. */
export interface ApiKeyGuardOptions {
  /** The key; undefined leaves the API to loopback clients (or to everyone with `insecure`). */
  readonly key: string | undefined;
  /** Without a key, answer clients from the network too (`apiInsecure`). */
  readonly insecure: boolean;
  /** Failed attempts (wrong or missing key) one client address may make at once. */
  readonly failureBurst: number;
  /** Failed attempts an address regains per second. */
  readonly failureRefillPerSecond: number;
  /** The client address is computed as the handshake does: X-Forwarded-For from these proxies only. */
  readonly trustedProxies: TrustedProxies;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly clock: Clock;
}

/** Why a request may not use the API: answer it with {@link refuseRequest}. */
export interface ApiKeyRefusal extends RequestRefusal {
  readonly status: 401 | 403 | 429;
  readonly reason: ApiKeyRejection;
}

/** Log lines about refused keys: bursts of 20, then one a second, the rest counted in the next line. */
const LOG_RATE = { burst: 20, perSecond: 1 } as const;

const MISSING: ApiKeyRefusal = Object.freeze({
  status: 401,
  code: ErrorCode.Unauthorized,
  message: 'missing or wrong API key',
  reason: 'missing',
});
const WRONG: ApiKeyRefusal = Object.freeze({ ...MISSING, reason: 'wrong' });
const NOT_LOOPBACK: ApiKeyRefusal = Object.freeze({
  status: 403,
  code: ErrorCode.PermissionDenied,
  message:
    'the HTTP API has no API key, so it answers only clients on this machine; set SWITCHBOARD_API_KEY (apiKey) to use it from the network, or SWITCHBOARD_API_INSECURE=1 (apiInsecure) to open it without a key',
  reason: 'not_loopback',
});

/** Headers a proxy adds: a request carrying one was forwarded, whatever its socket's peer. */
const FORWARDING_HEADERS = ['x-forwarded-for', 'forwarded', 'x-real-ip'] as const;

/**
 * Checks the server API key in constant time. Both sides are hashed first so that the comparison does not
 * leak the key's length either.
 */
export class ApiKeyGuard implements RequestGuard {
  private readonly expected: Buffer | null;
  private readonly failures: KeyedBuckets;
  private readonly log: ThrottledLog;

  constructor(private readonly options: ApiKeyGuardOptions) {
    this.expected = options.key === undefined ? null : digest(options.key);
    const now = options.clock.now();
    this.failures = new KeyedBuckets(options.failureBurst, options.failureRefillPerSecond, now);
    this.log = new ThrottledLog(options.logger, 'HTTP API request refused: API key', LOG_RATE, now);
  }

  /** Whether a key is configured at all. */
  get enabled(): boolean {
    return this.expected !== null;
  }

  /**
   * Whether the request may use the API: null when it may, else the refusal, already counted and logged.
   * The key travels as `Authorization: Bearer <key>` or `X-API-Key: <key>`; without a key configured,
   * the client must be on this machine ({@link isLocalRequest}) unless `insecure` is set.
   */
  check(req: IncomingMessage): ApiKeyRefusal | null {
    const { clock, failureRefillPerSecond, trustedProxies } = this.options;
    if (this.expected === null) {
      if (this.options.insecure || isLocalRequest(req, trustedProxies)) return null;
      const peer = req.socket.remoteAddress ?? '';
      const address = clientAddress(peer, req.headers['x-forwarded-for'], trustedProxies);
      return this.refused(NOT_LOOPBACK, req, address, clock.now());
    }
    const now = clock.now();
    const address = clientAddress(
      req.socket.remoteAddress ?? '',
      req.headers['x-forwarded-for'],
      trustedProxies,
    );
    const key = limitKey(address);
    // Only failures create a bucket: the right key costs no memory per address.
    const bucket = this.failures.find(key, now);
    if (bucket !== undefined && bucket.available(now) < 1) {
      const refusal: ApiKeyRefusal = {
        status: 429,
        code: ErrorCode.RateLimited,
        message: 'too many failed API key attempts from this address; retry later',
        reason: 'throttled',
        retryAfterSeconds: secondsUntilToken(bucket, failureRefillPerSecond, now),
      };
      this.options.metrics.limitRejected('api_key_failures');
      return this.refused(refusal, req, address, now);
    }
    const presented = presentedKey(req);
    if (presented !== undefined && timingSafeEqual(digest(presented), this.expected)) return null;
    this.failures.get(key, now).take(now);
    return this.refused(presented === undefined ? MISSING : WRONG, req, address, now);
  }

  private refused(refusal: ApiKeyRefusal, req: IncomingMessage, address: string, now: number): ApiKeyRefusal {
    this.options.metrics.apiKeyRejected(refusal.reason);
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    this.log.warn(
      {
        address,
        method: req.method,
        path: query === -1 ? url : url.slice(0, query),
        reason: refusal.reason,
        ...(refusal.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: refusal.retryAfterSeconds }),
      },
      now,
    );
    return refusal;
  }
}

/**
 * Whether a request comes from this machine: its client address (X-Forwarded-For read only from trusted
 * proxies, as for every other decision) is a loopback address, and, when the socket's peer is not a
 * trusted proxy, it carries no forwarding header. A proxy on the same host that nobody declared in
 * `trustedProxies` connects from 127.0.0.1 but adds X-Forwarded-For (nginx, Caddy, Traefik do), so its
 * requests from the network are not mistaken for local ones; a proxy that adds no such header cannot
 * be told apart (docs/security.md).
 */
export function isLocalRequest(req: IncomingMessage, trustedProxies: TrustedProxies): boolean {
  const peer = normalizeAddress(req.socket.remoteAddress ?? '');
  const address = clientAddress(peer, req.headers['x-forwarded-for'], trustedProxies);
  if (!isLoopback(address)) return false;
  if (trustedProxies.has(peer)) return true;
  return FORWARDING_HEADERS.every((name) => req.headers[name] === undefined);
}

/** 127.0.0.0/8 and ::1 (an IPv4-mapped address arrives normalized). */
function isLoopback(address: string): boolean {
  return address === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address);
}

/** Answer a refused request (its body, if any, is drained unread). */
export function refuseRequest(req: IncomingMessage, res: ServerResponse, refusal: RequestRefusal): void {
  req.resume();
  const headers: Record<string, string> =
    refusal.retryAfterSeconds === undefined ? {} : { 'retry-after': String(refusal.retryAfterSeconds) };
  sendError(res, refusal.code, refusal.message, refusal.status, headers);
}

/** The key a request presents: X-API-Key, else an `Authorization: Bearer` token. */
function presentedKey(req: IncomingMessage): string | undefined {
  const header = req.headers['x-api-key'];
  if (typeof header === 'string') return header;
  const auth = req.headers.authorization;
  if (auth !== undefined && /^bearer /i.test(auth)) return auth.slice(7).trim();
  return undefined;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
