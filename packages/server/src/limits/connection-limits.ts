/**
 * Admission of new connections, before the WebSocket upgrade: new connections per address per second,
 * open connections per address, and the node's own admission cap (open connections and new connections
 * per second). Counts are this node's; a cluster-wide limit needs a shared store and is not done here.
 *
 * Pure: the caller passes the time. No timer either: the per-address buckets live in two generations of
 * maps, and a generation is dropped once every bucket in it would have refilled anyway (see `bucketFor`).
 */
import { isIP } from 'node:net';
import { ErrorCode } from '@switchboard/protocol';
import { TokenBucket } from './token-bucket.js';

/** The numeric settings admission reads (a subset of the server's resolved limits). */
export interface ConnectionLimitSettings {
  /** Open connections (and handshakes in flight) on this node; 0 means unlimited. */
  readonly maxConnections: number;
  /** New connections per second this node admits, across every address; 0 means unlimited. */
  readonly connectionRate: number;
  /** Open connections (and handshakes in flight) per client address; 0 means unlimited. */
  readonly maxConnectionsPerIp: number;
  /** New connections per second per client address; 0 means unlimited. */
  readonly connectionRatePerIp: number;
  /** New connections one address may open at once before `connectionRatePerIp` applies. */
  readonly connectionBurstPerIp: number;
}

/** Which admission limit refused a connection. */
export type AdmissionLimit = 'ip_rate' | 'ip_connections' | 'node_connections' | 'node_rate';

/** Why a connection was refused: the HTTP answer and the limit behind it. */
export interface AdmissionRefusal {
  readonly limit: AdmissionLimit;
  readonly status: 429 | 503;
  readonly code: ErrorCode;
  readonly message: string;
  /** Seconds until a retry can succeed, for a `Retry-After` header; absent when nobody can tell. */
  readonly retryAfterSeconds?: number;
}

/** Extra knobs of {@link ConnectionLimits}. */
export interface ConnectionLimitsOptions {
  /**
   * Addresses whose buckets are kept per generation. Past it the older generation is dropped early, which
   * only hands some addresses a fresh bucket: memory stays bounded when many addresses connect (a botnet,
   * or IPv6 privacy addresses beyond the /64 grouping). Default 100000.
   */
  readonly maxTrackedAddresses?: number;
}

const DEFAULT_MAX_TRACKED = 100_000;

/**
 * The key an address is counted under: the address itself, except that IPv6 addresses are grouped by their
 * /64 prefix. One subscriber usually holds a whole /64 and picks addresses in it freely (RFC 4941 privacy
 * addresses), so a per-address limit on full IPv6 addresses would limit nobody.
 */
export function limitKey(address: string): string {
  // Every IPv6 address has a colon: IPv4 ones (nearly all, and four lookups per connection) skip the regex.
  if (!address.includes(':') || isIP(address) !== 6) return address;
  const groups = ipv6Groups(address);
  return groups === null ? address : `${groups.slice(0, 4).join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address in lower-case hex without leading zeros, or null. */
function ipv6Groups(address: string): string[] | null {
  const zone = address.indexOf('%');
  const bare = zone === -1 ? address : address.slice(0, zone);
  const halves = bare.split('::');
  if (halves.length > 2) return null;
  const side = (text: string | undefined): string[] => {
    if (text === undefined || text === '') return [];
    const out: string[] = [];
    for (const part of text.split(':')) {
      // An embedded IPv4 address (`::ffff:1.2.3.4`, `64:ff9b::1.2.3.4`) fills the last two groups.
      if (part.includes('.')) out.push('v4', 'v4');
      else out.push(part);
    }
    return out;
  };
  const head = side(halves[0]);
  const tail = side(halves[1]);
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 0) return null;
  const groups = [...head, ...new Array<string>(missing).fill('0'), ...tail];
  return groups.map((g) => (g === 'v4' ? g : parseInt(g, 16).toString(16)));
}

/** Open connections per address, new-connection buckets per address, and the node-wide admission cap. */
export class ConnectionLimits {
  private readonly counts = new Map<string, number>();
  private total = 0;
  private readonly nodeBucket: TokenBucket | null;
  private current = new Map<string, TokenBucket>();
  private previous = new Map<string, TokenBucket>();
  private rotatedAt: number;
  /** How long an idle address bucket takes to refill completely (ms): a generation's lifetime. */
  private readonly generationMs: number;
  private readonly maxTracked: number;

  constructor(
    private readonly settings: ConnectionLimitSettings,
    now: number,
    options: ConnectionLimitsOptions = {},
  ) {
    this.nodeBucket =
      settings.connectionRate > 0
        ? new TokenBucket(settings.connectionRate, settings.connectionRate, now)
        : null;
    this.generationMs =
      settings.connectionRatePerIp > 0
        ? (settings.connectionBurstPerIp / settings.connectionRatePerIp) * 1000
        : 0;
    this.maxTracked = options.maxTrackedAddresses ?? DEFAULT_MAX_TRACKED;
    this.rotatedAt = now;
  }

  /** Connections counted on this node: open ones plus handshakes admitted and not yet settled. */
  get size(): number {
    return this.total;
  }

  /** Connections counted for `address` (grouped as {@link limitKey} does). */
  countFor(address: string): number {
    return this.counts.get(limitKey(address)) ?? 0;
  }

  /** Addresses whose new-connection buckets are currently kept (both generations). */
  get trackedAddresses(): number {
    return this.current.size + this.previous.size;
  }

  /**
   * Decide on a new connection from `address`. On admission (null) the handshake is counted until
   * {@link settle} is called for it, so concurrent handshakes cannot all slip under a cap while each one
   * waits for its authenticator.
   */
  admit(address: string, now: number): AdmissionRefusal | null {
    const s = this.settings;
    const key = limitKey(address);
    if (s.connectionRatePerIp > 0) {
      const bucket = this.bucketFor(key, now);
      if (!bucket.take(now)) {
        return {
          limit: 'ip_rate',
          status: 429,
          code: ErrorCode.RateLimited,
          message: 'too many new connections from this address; retry later',
          retryAfterSeconds: secondsUntilToken(bucket, s.connectionRatePerIp, now),
        };
      }
    }
    const count = this.counts.get(key) ?? 0;
    if (s.maxConnectionsPerIp > 0 && count >= s.maxConnectionsPerIp) {
      return {
        limit: 'ip_connections',
        status: 429,
        code: ErrorCode.RateLimited,
        message: 'too many open connections from this address',
      };
    }
    if (s.maxConnections > 0 && this.total >= s.maxConnections) {
      return {
        limit: 'node_connections',
        status: 503,
        code: ErrorCode.Unavailable,
        message: 'this server is at its connection limit; retry later or elsewhere',
      };
    }
    if (this.nodeBucket !== null && !this.nodeBucket.take(now)) {
      return {
        limit: 'node_rate',
        status: 503,
        code: ErrorCode.Unavailable,
        message: 'this server is admitting too many connections at once; retry later',
        retryAfterSeconds: secondsUntilToken(this.nodeBucket, s.connectionRate, now),
      };
    }
    this.counts.set(key, count + 1);
    this.total++;
    return null;
  }

  /** An admitted handshake ended, accepted or not: it no longer counts as in flight. */
  settle(address: string): void {
    this.release(limitKey(address));
  }

  /** A connection from `address` was opened (the transport completed its upgrade). */
  opened(address: string): void {
    const key = limitKey(address);
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    this.total++;
  }

  /** A connection opened with {@link opened} is gone. */
  closed(address: string): void {
    this.release(limitKey(address));
  }

  private release(key: string): void {
    const count = this.counts.get(key) ?? 0;
    // Never below zero: a stray release must not hand an address extra room.
    if (count === 0) return;
    if (count === 1) this.counts.delete(key);
    else this.counts.set(key, count - 1);
    this.total--;
  }

  /**
   * The bucket of `key`, created full when unknown. A bucket left alone for a whole generation is full
   * again by then, so dropping it is the same as keeping it: each generation lasts as long as an empty
   * bucket takes to refill, and a bucket unused for one generation is not carried into the next.
   */
  private bucketFor(key: string, now: number): TokenBucket {
    if (now - this.rotatedAt >= this.generationMs || this.current.size >= this.maxTracked) {
      this.previous = this.current;
      this.current = new Map();
      this.rotatedAt = now;
    }
    let bucket = this.current.get(key);
    if (bucket === undefined) {
      bucket = this.previous.get(key);
      if (bucket === undefined) {
        bucket = new TokenBucket(this.settings.connectionBurstPerIp, this.settings.connectionRatePerIp, now);
      } else {
        this.previous.delete(key);
      }
      this.current.set(key, bucket);
    }
    return bucket;
  }
}

/** Whole seconds until `bucket` holds a token again, at least 1 (Retry-After has one-second resolution). */
function secondsUntilToken(bucket: TokenBucket, perSecond: number, now: number): number {
  return Math.max(1, Math.ceil((1 - bucket.available(now)) / perSecond));
}
