/**
 * The Origin allow-list for browser connections. CORS does not protect a WebSocket handshake (or an
 * EventSource): any page may open one to any server, with the user's cookies, so the server checks Origin
 * itself or it is open to cross-site WebSocket hijacking. Transport-neutral: the WebSocket upgrade calls
 * it today and an SSE route can call it with the same header. Pure: no I/O.
 *
 * Browsers always send Origin on a WebSocket handshake, serialized as `scheme://host[:port]` with a
 * lower-case host and no default port (RFC 6454 section 6.1), so an allowed origin is compared as a string
 * after the entry is normalized the same way. A request without Origin is not from a browser; a
 * non-browser client can send any Origin it likes, so refusing it would protect nothing.
 */

/** The allowed forms of one entry, in the words of option errors and the docs. */
export const ORIGIN_FORMS =
  "an origin such as https://app.example.com or http://localhost:3000, a wildcard such as https://*.example.com, or '*'";

/** Why `entry` is not an allowed-origin entry, or null when it is one. */
export function originPatternProblem(entry: string): string | null {
  return parsePattern(entry) === null ? `expected ${ORIGIN_FORMS}` : null;
}

interface WildcardPattern {
  /** `https:` */
  readonly protocol: string;
  /** `.example.com`: a host matches when it ends with this and has at least one more label. */
  readonly suffix: string;
  /** `''` for the scheme's default port. */
  readonly port: string;
}

type Pattern =
  | { readonly kind: 'any' }
  | { readonly kind: 'exact'; readonly origin: string }
  | ({ readonly kind: 'wildcard' } & WildcardPattern);

/** Which Origin headers may open a connection. */
export class OriginPolicy {
  /** True when every origin is allowed: no list was configured, or it contains `*`. */
  readonly open: boolean;
  private readonly exact = new Set<string>();
  private readonly wildcards: WildcardPattern[] = [];

  /**
   * @param allowed the allow-list; undefined allows every origin (the development default, which the CLI
   *   warns about). An empty list allows only clients that send no Origin (non-browser clients).
   * @throws TypeError for an entry {@link originPatternProblem} rejects (options are validated before).
   */
  constructor(
    allowed: readonly string[] | undefined,
    /** Refuse requests without an Origin header (browser-only deployments). Default false. */
    private readonly requireOrigin = false,
  ) {
    let open = allowed === undefined;
    for (const entry of allowed ?? []) {
      const pattern = parsePattern(entry);
      if (pattern === null) throw new TypeError(`not an allowed-origin entry: ${entry}`);
      if (pattern.kind === 'any') open = true;
      else if (pattern.kind === 'exact') this.exact.add(pattern.origin);
      else this.wildcards.push(pattern);
    }
    this.open = open;
  }

  /** Whether a request whose Origin header is `origin` (undefined when absent) may proceed. */
  allows(origin: string | undefined): boolean {
    if (origin === undefined) return !this.requireOrigin;
    if (this.open || this.exact.has(origin)) return true;
    if (this.wildcards.length === 0) return false;
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      return false;
    }
    const host = url.hostname;
    return this.wildcards.some(
      (w) =>
        w.protocol === url.protocol &&
        w.port === url.port &&
        host.length > w.suffix.length &&
        host.endsWith(w.suffix),
    );
  }
}

const WILDCARD = /^([a-z][a-z0-9+.-]*):\/\/\*\.(.+)$/i;

function parsePattern(entry: string): Pattern | null {
  const text = entry.trim();
  if (text === '*') return { kind: 'any' };
  const wildcard = WILDCARD.exec(text);
  if (wildcard !== null) {
    const url = parseOrigin(`${wildcard[1] ?? ''}://${wildcard[2] ?? ''}`);
    if (url === null || url.hostname.includes('*')) return null;
    return { kind: 'wildcard', protocol: url.protocol, suffix: `.${url.hostname}`, port: url.port };
  }
  const url = parseOrigin(text);
  if (url === null || url.hostname.includes('*')) return null;
  return { kind: 'exact', origin: url.origin };
}

/** An http(s) URL that is only an origin (a trailing `/` is tolerated), or null. */
function parseOrigin(text: string): URL | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '') return null;
  if (url.username !== '' || url.password !== '' || url.hostname === '') return null;
  // `https://app.example.com/x` parses with pathname '/x'; `https://app.example.com?` keeps search ''.
  if (/[?#]/.test(text)) return null;
  return url;
}
