/**
 * permessage-deflate (RFC 7692) as Switchboard uses it: which offers a server takes, and the compression
 * of one message, shared by every recipient. Pure: no sockets and no ws internals.
 *
 * The server never keeps a compressor per connection: it always asks for `server_no_context_takeover`, so
 * each message is compressed on its own, once, and the same bytes fit every connection that negotiated
 * the extension (a fan-out compresses once, like gorilla/websocket's PreparedMessage). The client is asked
 * for `client_no_context_takeover` and a small window, so that the inflater ws keeps for a client that
 * sends compressed frames stays small (see docs/architecture.md, "Compression").
 */
import { constants, deflateRawSync } from 'node:zlib';

/** The window the server compresses with: zlib's largest, what every client accepts unless it says otherwise. */
export const SERVER_WINDOW_BITS = 15;

/**
 * The window a client that offers `client_max_window_bits` is asked to compress with: a 1 KiB window
 * (zlib allocates 2^bits bytes for it), which costs little ratio on the short commands clients send.
 */
export const CLIENT_WINDOW_BITS = 10;

/** Which negotiation an upgrade gets: `narrow` (the client's window set to CLIENT_WINDOW_BITS), `wide`, or none. */
export type DeflateNegotiation = 'narrow' | 'wide' | null;

type Params = Map<string, string | true>;

/**
 * The negotiation an upgrade with this `Sec-WebSocket-Extensions` header gets. A header that cannot be
 * parsed, or whose permessage-deflate offers all ask for what the server cannot do (a server window under
 * 15 bits: the shared frame is compressed with 15), gets none: the connection opens without compression
 * instead of failing (ws answers 400 to an offer it cannot accept).
 */
export function negotiationFor(header: string | undefined): DeflateNegotiation {
  if (header === undefined || header === '') return null;
  const offers = parseDeflateOffers(header);
  if (offers === null) return null;
  let wide = false;
  for (const params of offers) {
    const serverBits = params.get('server_max_window_bits');
    if (serverBits !== undefined && serverBits !== String(SERVER_WINDOW_BITS)) continue;
    const clientBits = params.get('client_max_window_bits');
    if (clientBits === true || (clientBits !== undefined && Number(clientBits) >= CLIENT_WINDOW_BITS)) {
      return 'narrow';
    }
    wide = true;
  }
  return wide ? 'wide' : null;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const WINDOW_BITS = /^(?:8|9|1[0-5])$/;

/**
 * The permessage-deflate offers of an extensions header, each a map of its parameters, or null when the
 * header is malformed or an offer has a parameter RFC 7692 does not define, twice, or with a bad value
 * (which ws would refuse with 400). Quoted values are unquoted (RFC 6455, section 9.1).
 */
export function parseDeflateOffers(header: string): Params[] | null {
  const offers: Params[] = [];
  for (const extension of splitOutsideQuotes(header, ',')) {
    const [name = '', ...rawParams] = splitOutsideQuotes(extension, ';').map((part) => part.trim());
    if (!TOKEN.test(name)) return null;
    const params: Params = new Map();
    for (const raw of rawParams) {
      const eq = raw.indexOf('=');
      const key = (eq < 0 ? raw : raw.slice(0, eq)).trim();
      let value: string | true = eq < 0 ? true : raw.slice(eq + 1).trim();
      if (typeof value === 'string' && value.startsWith('"')) {
        if (value.length < 2 || !value.endsWith('"')) return null;
        value = value.slice(1, -1);
      }
      if (!TOKEN.test(key) || (typeof value === 'string' && !TOKEN.test(value))) return null;
      if (params.has(key)) return null;
      params.set(key, value);
    }
    if (name !== 'permessage-deflate') continue;
    for (const [key, value] of params) {
      if (key === 'server_no_context_takeover' || key === 'client_no_context_takeover') {
        if (value !== true) return null;
      } else if (key === 'server_max_window_bits') {
        if (value === true || !WINDOW_BITS.test(value)) return null;
      } else if (key === 'client_max_window_bits') {
        if (value !== true && !WINDOW_BITS.test(value)) return null;
      } else return null;
    }
    offers.push(params);
  }
  return offers;
}

function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') quoted = !quoted;
    else if (c === separator && !quoted) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

const DEFLATE_OPTIONS = { finishFlush: constants.Z_SYNC_FLUSH, windowBits: SERVER_WINDOW_BITS };

/**
 * The compressed payload of one message (RFC 7692, section 7.2.1): raw DEFLATE with no context taken from
 * any earlier message, flushed with Z_SYNC_FLUSH, and the empty block's `00 00 ff ff` that ends the flush
 * removed (the receiver appends it again). Null when compression would not make it smaller.
 */
export function deflateMessage(payload: Buffer): Buffer | null {
  const out = deflateRawSync(payload, DEFLATE_OPTIONS);
  const length = out.length - 4;
  return length < payload.length ? out.subarray(0, length) : null;
}

/** Frames shorter than this (bytes of UTF-8) are sent uncompressed unless `thresholdBytes` says otherwise. */
export const DEFAULT_COMPRESSION_THRESHOLD = 512;

/** The largest `thresholdBytes` accepted (16 MiB: past any message the server sends whole). */
export const MAX_COMPRESSION_THRESHOLD = 16 * 1024 * 1024;

/** The `compression` option of createServer: permessage-deflate for WebSocket clients (docs/operations.md). */
export interface CompressionOptions {
  /** Negotiate permessage-deflate with the WebSocket clients that offer it. Default false. */
  readonly enabled?: boolean;
  /**
   * Frames shorter than this (bytes) go uncompressed, to every client: below it deflate saves a few dozen
   * bytes per message and still costs the client an inflate. Default 512.
   */
  readonly thresholdBytes?: number;
}

/** What the WebSocket transport needs of {@link CompressionOptions}: undefined when compression is off. */
export function resolveCompression(
  options: CompressionOptions | undefined,
): { readonly thresholdBytes: number } | undefined {
  if (options?.enabled !== true) return undefined;
  return { thresholdBytes: options.thresholdBytes ?? DEFAULT_COMPRESSION_THRESHOLD };
}
