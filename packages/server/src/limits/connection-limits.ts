/**
 * Admission of new connections, before the WebSocket upgrade: new connections per address per second,
 * open connections per address, and the node's own admission cap (open connections and new connections
 * per second). Counts are this node's; a cluster-wide limit needs a shared store and is not done here.
 * Sockets that have not sent a request head yet are counted per address too (`holdSocket`).
 *
 * Pure: the caller passes the time. No timer either: the per-address buckets are {@link KeyedBuckets}.
 */
import { isIP } from 'node:net';
import { ErrorCode } from '@switchboard/protocol';
import { TokenBucket } from './token-bucket.js';
import { DEFAULT_MAX_TRACKED_KEYS, KeyedBuckets, secondsUntilToken } from './keyed-buckets.js';

/** The numeric settings admission reads (a subset of the server's resolved limits). */
export interface ConnectionLimitSettings {
  /** Open connections (and handshakes in flight) on this node; 0 means unlimited. */
  readonly maxConnections: number;
  /** New connections per second this node admits, across every address; 0 means unlimited. */
  readonly connectionRate: number;
  /** New connections this node admits at once before `connectionRate` applies. */
  readonly connectionBurst: number;
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
  /** Per address: open connections, handshakes in flight and sockets held by {@link holdSocket}. */
  private readonly counts = new Map<string, number>();
  /** Per address: the sockets held by {@link holdSocket} alone. */
  private readonly sockets = new Map<string, number>();
  private total = 0;
  private readonly nodeBucket: TokenBucket | null;
  private readonly addressBuckets: KeyedBuckets | null;

  constructor(
    private readonly settings: ConnectionLimitSettings,
    now: number,
    options: ConnectionLimitsOptions = {},
  ) {
    this.nodeBucket =
      settings.connectionRate > 0
        ? new TokenBucket(settings.connectionBurst, settings.connectionRate, now)
        : null;
    this.addressBuckets =
      settings.connectionRatePerIp > 0
        ? new KeyedBuckets(
            settings.connectionBurstPerIp,
            settings.connectionRatePerIp,
            now,
            options.maxTrackedAddresses ?? DEFAULT_MAX_TRACKED_KEYS,
          )
        : null;
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
    return this.addressBuckets?.size ?? 0;
  }

  /**
   * Decide on a new connection from `address`. On admission (null) the handshake is counted until
   * {@link settle} is called for it, so concurrent handshakes cannot all slip under a cap while each one
   * waits for its authenticator.
   */
  admit(address: string, now: number): AdmissionRefusal | null {
    const s = this.settings;
    const key = limitKey(address);
    if (this.addressBuckets !== null) {
      const bucket = this.addressBuckets.get(key, now);
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

  /**
   * A socket from `address` was accepted and has not delivered a request head yet. While held it counts
   * against `maxConnectionsPerIp` like an open connection (handshakes from the address see it), but not
   * against the node's cap. Refused when the address already holds `maxConnectionsPerIp` such sockets:
   * the cap bounds them on their own, so that an address whose WebSocket connections fill its cap can
   * still reach the HTTP API and the health checks. No token is taken from the new-connection rate: the
   * handshake that may follow takes one.
   */
  holdSocket(address: string): AdmissionRefusal | null {
    const cap = this.settings.maxConnectionsPerIp;
    if (cap === 0) return null;
    const key = limitKey(address);
    const held = this.sockets.get(key) ?? 0;
    if (held >= cap) return SOCKETS_AT_CAP;
    this.sockets.set(key, held + 1);
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    return null;
  }

  /** A socket held by {@link holdSocket} delivered its request head, or closed. */
  releaseSocket(address: string): void {
    if (this.settings.maxConnectionsPerIp === 0) return;
    const key = limitKey(address);
    if (decrement(this.sockets, key)) decrement(this.counts, key);
  }

  /** Sockets from `address` held by {@link holdSocket} (grouped as {@link limitKey} does). */
  heldSocketsFor(address: string): number {
    return this.sockets.get(limitKey(address)) ?? 0;
  }

  private release(key: string): void {
    if (decrement(this.counts, key)) this.total--;
  }
}

const SOCKETS_AT_CAP: AdmissionRefusal = Object.freeze({
  limit: 'ip_connections',
  status: 429,
  code: ErrorCode.RateLimited,
  message: 'too many connections from this address have not sent a request yet',
});

/**
 * Take one from `key`'s count; false when it was already zero (never below zero: a stray release must not
 * hand an address extra room).
 */
function decrement(counts: Map<string, number>, key: string): boolean {
  const count = counts.get(key) ?? 0;
  if (count === 0) return false;
  if (count === 1) counts.delete(key);
  else counts.set(key, count - 1);
  return true;
}
