/**
 * Where a handshake carries its credentials. Pure: it reads the request and decides nothing about the
 * credential's validity. Four places, because browsers cannot set headers on a WebSocket
 * (https://websockets.spec.whatwg.org/#the-websocket-interface takes only a URL and protocols):
 *
 * - `Authorization: Bearer <token>` (servers, Node clients, anything that sets headers);
 * - the subprotocol `switchboard.bearer.<token>` offered beside `switchboard.v1` or
 *   `switchboard.v1.msgpack` (browsers; Phoenix's `auth_token` does the same); the server selects only
 *   one of those, so the token is never echoed;
 * - `?ticket=<ticket>` from `POST <base>/auth/ticket` (browsers; single use, 30 s);
 * - `?token=<token>`, the last resort: URLs land in access logs, proxies and browser history.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { JSON_SUBPROTOCOL, MAX_TOKEN_LENGTH, MSGPACK_SUBPROTOCOL } from '@switchboard/protocol';

/** The application subprotocol: the one the server selects, with or without a bearer beside it. */
export const APP_SUBPROTOCOL = JSON_SUBPROTOCOL;

/** Prefix of the subprotocol that carries a bearer token: `switchboard.bearer.<token>`. */
export const BEARER_SUBPROTOCOL_PREFIX = 'switchboard.bearer.';

/** Query parameter of a one-time ticket. */
export const TICKET_PARAM = 'ticket';

/** Query parameter of a bearer token (last resort). */
export const TOKEN_PARAM = 'token';

/** Where a bearer token was found. */
export type TokenSource = 'header' | 'subprotocol' | 'query' | 'cookie';

/** What a handshake presents. */
export type Credential =
  | { readonly kind: 'none' }
  | { readonly kind: 'token'; readonly token: string; readonly source: TokenSource }
  | { readonly kind: 'ticket'; readonly ticket: string }
  /** Something credential-shaped that cannot be used; `message` says why (it never quotes the value). */
  | { readonly kind: 'malformed'; readonly message: string };

/** No credential (shared: credentials are never mutated). */
const NONE: Credential = Object.freeze({ kind: 'none' });

/** The parts of a handshake request credentials can travel in. */
export interface CredentialCarrier {
  readonly url: URL;
  readonly headers: IncomingHttpHeaders;
}

/**
 * The credential a handshake presents. More than one is refused rather than ranked: two layers that
 * each read a different credential could disagree about who the connection belongs to.
 */
export function credentialOf(request: CredentialCarrier, cookie: string | null = null): Credential {
  // Runs once per handshake: nothing is allocated for a place that holds no credential.
  const labels: string[] = [];
  let found: Credential = NONE;
  const header = bearerFromAuthorization(request.headers.authorization);
  if (header !== NONE) {
    labels.push('Authorization header');
    found = header;
  }
  const protocol = bearerFromSubprotocols(request.headers['sec-websocket-protocol']);
  if (protocol !== NONE) {
    labels.push('bearer subprotocol');
    found = protocol;
  }
  const params = request.url.searchParams;
  if (params.has(TICKET_PARAM)) {
    const tickets = params.getAll(TICKET_PARAM);
    const ticket = tickets[0] ?? '';
    labels.push(`${TICKET_PARAM} parameter`);
    found =
      tickets.length > 1 || ticket === ''
        ? malformed(`give one non-empty ${TICKET_PARAM} parameter`)
        : { kind: 'ticket', ticket };
  }
  if (params.has(TOKEN_PARAM)) {
    const tokens = params.getAll(TOKEN_PARAM);
    labels.push(`${TOKEN_PARAM} parameter`);
    found = tokens.length > 1 ? malformed(`give one ${TOKEN_PARAM} parameter`) : checked(tokens[0], 'query');
  }
  if (labels.length > 1) {
    return malformed(`present one credential, not several (found: ${labels.join(', ')})`);
  }
  // The cookie comes with every request to the site whether the page meant it or not: it is the fallback
  // when nothing was presented on purpose, never a second credential that conflicts with one.
  if (labels.length === 0 && cookie !== null) return cookieToken(request.headers.cookie, cookie);
  return found;
}

/** The token in cookie `name` of a `Cookie` header (RFC 6265 §5.4), or none. */
export function cookieToken(header: string | undefined, name: string): Credential {
  if (header === undefined) return NONE;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq === -1 || pair.slice(0, eq).trim() !== name) continue;
    let value = pair.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    return value === '' ? NONE : checked(value, 'cookie');
  }
  return NONE;
}

/** The bearer token of an `Authorization` header: none when absent, malformed for any other form. */
export function bearerFromAuthorization(header: string | undefined): Credential {
  if (header === undefined) return NONE;
  // RFC 6750 section 2.1: the scheme is case-insensitive; b64token allows no spaces.
  const match = /^bearer +(\S+) *$/i.exec(header);
  if (match === null) return malformed('the Authorization header must be "Bearer <token>"');
  return checked(match[1], 'header');
}

/**
 * The bearer token among the offered subprotocols. A bearer needs an application protocol offered
 * beside it (`switchboard.v1` or `switchboard.v1.msgpack`): the server may select only an offered
 * protocol and must never select the token, and a browser (Chrome) or ws client that offered protocols
 * fails the handshake when the server selects none.
 */
export function bearerFromSubprotocols(header: string | string[] | undefined): Credential {
  if (header === undefined) return NONE;
  const offered = offeredSubprotocols(header);
  const bearers = offered.filter((p) => p.startsWith(BEARER_SUBPROTOCOL_PREFIX));
  if (bearers.length === 0) return NONE;
  if (bearers.length > 1) return malformed(`offer one ${BEARER_SUBPROTOCOL_PREFIX}<token> subprotocol`);
  if (!offered.includes(APP_SUBPROTOCOL) && !offered.includes(MSGPACK_SUBPROTOCOL)) {
    return malformed(
      `offer the subprotocol ${APP_SUBPROTOCOL} (or ${MSGPACK_SUBPROTOCOL}) beside ${BEARER_SUBPROTOCOL_PREFIX}<token>`,
    );
  }
  return checked(bearers[0]?.slice(BEARER_SUBPROTOCOL_PREFIX.length), 'subprotocol');
}

/** The subprotocols of a `Sec-WebSocket-Protocol` header (RFC 6455 section 4.1: a comma-separated list). */
export function offeredSubprotocols(header: string | string[] | undefined): string[] {
  if (header === undefined) return [];
  const joined = Array.isArray(header) ? header.join(',') : header;
  return joined
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
}

/**
 * A URL fit for a log line: the values of `token` and `ticket` replaced with `REDACTED`. Takes a path
 * with its query (`req.url`) or an absolute URL and returns the same shape.
 */
export function redactUrl(url: string): string {
  const query = url.indexOf('?');
  if (query === -1) return url;
  const hash = url.indexOf('#', query);
  const end = hash === -1 ? url.length : hash;
  const redacted = url
    .slice(query + 1, end)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = safeDecode(eq === -1 ? pair : pair.slice(0, eq));
      return name === TOKEN_PARAM || name === TICKET_PARAM
        ? `${pair.slice(0, eq === -1 ? pair.length : eq)}=REDACTED`
        : pair;
    })
    .join('&');
  return `${url.slice(0, query + 1)}${redacted}${url.slice(end)}`;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '));
  } catch {
    return text;
  }
}

/** A JWS compact serialization: three base64url parts (the signature part is empty for `alg: none`). */
const COMPACT_JWS = /^[\w-]+\.[\w-]+\.[\w-]*$/;

function checked(token: string | undefined, source: TokenSource): Credential {
  if (token === undefined || token === '') return malformed(`the ${describeSource(source)} is empty`);
  if (token.length > MAX_TOKEN_LENGTH || !COMPACT_JWS.test(token))
    return malformed(`the ${describeSource(source)} is not a JWT`);
  return { kind: 'token', token, source };
}

function malformed(message: string): Credential {
  return { kind: 'malformed', message };
}

function describeSource(source: TokenSource): string {
  switch (source) {
    case 'header':
      return 'bearer token';
    case 'subprotocol':
      return 'subprotocol token';
    case 'query':
      return 'token parameter';
    case 'cookie':
      return 'token cookie';
  }
}
