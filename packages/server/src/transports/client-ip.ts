/**
 * The client's IP address: the socket's peer, unless that peer is a proxy the operator trusts, in which case
 * X-Forwarded-For is read from the right, skipping trusted proxies, and the first address that is not one
 * is the client. Everything to the left of it was written by the client and can be forged, so it is never
 * read (the "rightmost untrusted" rule; MDN, X-Forwarded-For, "Selecting an IP address"). Pure: no I/O.
 */
import { BlockList, isIP } from 'node:net';

/** The allowed forms of one trusted-proxy entry, in the words of option errors and the docs. */
export const TRUSTED_PROXY_FORMS = 'an IP address or a CIDR range (10.0.0.0/8, fd00::/8)';

/** Why `entry` is not a trusted-proxy address or range, or null when it is one. */
export function trustedProxyProblem(entry: string): string | null {
  const parsed = parseEntry(entry);
  return parsed === null ? `expected ${TRUSTED_PROXY_FORMS}` : null;
}

/** The proxies whose X-Forwarded-For is believed: exact addresses and CIDR ranges, IPv4 and IPv6. */
export class TrustedProxies {
  private readonly list = new BlockList();
  /** How many entries were given; 0 means X-Forwarded-For is never read. */
  readonly size: number;

  /** @throws TypeError for an entry {@link trustedProxyProblem} rejects (options are validated before). */
  constructor(entries: readonly string[] = []) {
    for (const entry of entries) {
      const parsed = parseEntry(entry);
      if (parsed === null) throw new TypeError(`not a trusted proxy entry: ${entry}`);
      if (parsed.prefix === null) this.list.addAddress(parsed.address, parsed.family);
      else this.list.addSubnet(parsed.address, parsed.prefix, parsed.family);
    }
    this.size = entries.length;
  }

  /** Whether `address` (as {@link normalizeAddress} returns it) is one of the trusted proxies. */
  has(address: string): boolean {
    if (this.size === 0) return false;
    const family = isIP(address);
    if (family === 0) return false;
    return this.list.check(address, family === 4 ? 'ipv4' : 'ipv6');
  }
}

/** A socket address without the IPv4-mapped IPv6 prefix (`::ffff:1.2.3.4` is `1.2.3.4`) or a zone. */
export function normalizeAddress(address: string): string {
  const bare = address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
  const zone = bare.indexOf('%');
  return zone === -1 ? bare : bare.slice(0, zone);
}

/**
 * The client address of a request from `peer` carrying `forwardedFor` (the X-Forwarded-For header, one
 * string or one per header line). The header counts only when `peer` is trusted; a malformed entry stops
 * the walk at the last trusted hop, and when every hop is trusted the leftmost one is the client.
 */
export function clientAddress(
  peer: string,
  forwardedFor: string | readonly string[] | undefined,
  trusted: TrustedProxies,
): string {
  let client = normalizeAddress(peer);
  if (forwardedFor === undefined || !trusted.has(client)) return client;
  const hops = (typeof forwardedFor === 'string' ? forwardedFor : forwardedFor.join(',')).split(',');
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = parseHop(hops[i] ?? '');
    if (hop === null) return client;
    client = hop;
    if (!trusted.has(hop)) return hop;
  }
  return client;
}

/** One X-Forwarded-For entry as an address: `1.2.3.4`, `1.2.3.4:80`, `::1`, `[::1]` or `[::1]:80`. */
function parseHop(raw: string): string | null {
  let text = raw.trim();
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    if (end === -1) return null;
    text = text.slice(1, end);
  } else if (text.includes('.') && text.indexOf(':') === text.lastIndexOf(':')) {
    // An IPv4 address with a port (some proxies append it); an IPv6 address has more than one colon.
    const colon = text.indexOf(':');
    if (colon !== -1) text = text.slice(0, colon);
  }
  const address = normalizeAddress(text);
  return isIP(address) === 0 ? null : address;
}

interface ParsedEntry {
  readonly address: string;
  readonly family: 'ipv4' | 'ipv6';
  readonly prefix: number | null;
}

function parseEntry(entry: string): ParsedEntry | null {
  const slash = entry.indexOf('/');
  const address = normalizeAddress((slash === -1 ? entry : entry.slice(0, slash)).trim());
  const version = isIP(address);
  if (version === 0) return null;
  const family = version === 4 ? 'ipv4' : 'ipv6';
  if (slash === -1) return { address, family, prefix: null };
  const bits = entry.slice(slash + 1).trim();
  const prefix = Number(bits);
  if (!/^\d{1,3}$/.test(bits) || prefix > (version === 4 ? 32 : 128)) return null;
  return { address, family, prefix };
}
