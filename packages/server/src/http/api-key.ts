/**
 * The HTTP API key check (`/api/...` and `/stats`), with failed attempts throttled per client address: an
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
import { clientAddress } from '../transports/client-ip.js';
import type { TrustedProxies } from '../transports/client-ip.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { sendError } from './http-utils.js';

/** What {@link ApiKeyGuard} is built from. */
export interface ApiKeyGuardOptions {
  /** The key; undefined leaves the API open (and nothing is throttled). */
  readonly key: string | undefined;
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
export interface ApiKeyRefusal {
  readonly status: 401 | 429;
  readonly code: ErrorCode;
  readonly message: string;
  readonly reason: ApiKeyRejection;
  /** Seconds until the address may try again (429 only). */
  readonly retryAfterSeconds?: number;
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

/**
 * Checks the server API key in constant time. Both sides are hashed first so that the comparison does not
 * leak the key's length either.
 */
export class ApiKeyGuard {
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
   * Whether the request may use the API: null when it may (or no key is configured), else the refusal,
   * already counted and logged. The key travels as `Authorization: Bearer <key>` or `X-API-Key: <key>`.
   */
  check(req: IncomingMessage): ApiKeyRefusal | null {
    if (this.expected === null) return null;
    const { clock, failureRefillPerSecond } = this.options;
    const now = clock.now();
    const address = clientAddress(
      req.socket.remoteAddress ?? '',
      req.headers['x-forwarded-for'],
      this.options.trustedProxies,
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

/** Answer a refused request (its body, if any, is drained unread). */
export function refuseRequest(req: IncomingMessage, res: ServerResponse, refusal: ApiKeyRefusal): void {
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
