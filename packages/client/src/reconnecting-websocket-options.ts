/**
 * Options of {@link ReconnectingWebSocket}, their defaults and validation, the WebSocket seam it needs
 * (wider than the Switchboard client's: binary frames, subprotocols, `open`), and the default reconnect
 * verdict for close codes.
 */
import type { BackoffOptions } from './backoff.js';
import { validateTimeout } from './client-options.js';
import type { Clock } from './clock.js';
import { systemClock } from './clock.js';
import { InvalidOptionError } from './errors.js';
import type { ReceivedMessage, OutgoingData } from './reconnecting-websocket-events.js';
import type { SendQueueLimits } from './send-queue.js';

/** A WebSocket as {@link ReconnectingWebSocket} uses it; the browser's and `ws`'s both satisfy it. */
export interface ExternalWebSocket {
  /** 1 when open (the same constant everywhere). */
  readonly readyState: number;
  /** The subprotocol the server chose, '' for none. */
  readonly protocol: string;
  binaryType: string;
  send(data: OutgoingData): void;
  close(code?: number, reason?: string): void;
  /** `ws` only: destroy the TCP socket without a close handshake (which a dead peer never finishes). */
  terminate?(): void;
  addEventListener(type: 'open', listener: () => void): void;
  addEventListener(type: 'message', listener: (event: { readonly data: unknown }) => void): void;
  addEventListener(
    type: 'close',
    listener: (event: { readonly code: number; readonly reason: string }) => void,
  ): void;
  addEventListener(type: 'error', listener: (event: unknown) => void): void;
}

/**
 * A WebSocket constructor: `globalThis.WebSocket` in browsers (and Node 22+), or `ws`'s default export.
 * The third argument, `{ headers }`, is passed only when the `headers` option is set; `ws` accepts it.
 */
export type ExternalWebSocketConstructor = new (
  url: string,
  protocols?: string | string[],
  options?: { headers: Record<string, string> },
) => ExternalWebSocket;

/** The URL, or a function that makes a fresh one (with a new token) before every attempt. */
export type UrlSource = string | (() => Promise<string>);

/** Application-level pings: the service's own ping message, since browsers cannot send protocol pings. */
export interface PingOptions {
  /** The ping message to send. Required. */
  readonly message: () => OutgoingData;
  /** Whether a received message is the pong; pongs are not delivered as messages. Required. */
  readonly isPong: (message: ReceivedMessage) => boolean;
  /** How long after a socket opens, and after each ping was sent, the next ping goes out (ms). Default 30000. */
  readonly intervalMs?: number;
  /**
   * How long to wait for the pong (ms) before the connection counts as dead: it is then closed with 4000
   * and replaced. Default 10000.
   */
  readonly timeoutMs?: number;
}

/** Options of a {@link ReconnectingWebSocket}. */
export interface ReconnectingWebSocketOptions {
  /**
   * The WebSocket constructor. Default: `globalThis.WebSocket` (browsers, Deno, Bun, Node 22+); on Node 20
   * pass the `ws` package's default export.
   */
  readonly WebSocket?: ExternalWebSocketConstructor;
  /** Subprotocols to offer (`Sec-WebSocket-Protocol`). Default: none. */
  readonly protocols?: string | readonly string[];
  /**
   * Extra handshake headers, passed as `new WebSocket(url, protocols, { headers })`: Node with `ws` only.
   * Browsers cannot send headers, so setting this while using the runtime's global WebSocket throws
   * InvalidOptionError; put the token in the URL (see `url` providers) or the first message instead.
   * Default: none.
   */
  readonly headers?: Readonly<Record<string, string>>;
  /** Reconnect delays. Default: the {@link Backoff} defaults (500 ms to 20 s, full jitter, unlimited). */
  readonly backoff?: BackoffOptions;
  /** Limits of the queue that holds messages sent while not open. Default: 100 items, no age limit, drop-oldest. */
  readonly queue?: SendQueueLimits;
  /**
   * Whether to reconnect after a socket closed with `code` (not called after `close()`, which never
   * reconnects). Default {@link defaultShouldReconnect}.
   */
  readonly shouldReconnect?: (event: { readonly code: number; readonly reason: string }) => boolean;
  /**
   * How long an attempt may take to open (ms) before it is abandoned and retried: a handshake lost in
   * a black hole fires no event for minutes. Default 10000.
   */
  readonly connectTimeoutMs?: number;
  /** Application-level ping/pong for latency and dead-connection detection. Default: none. */
  readonly ping?: PingOptions;
  /**
   * How many received messages each async iterator buffers for a consumer that has fallen behind; when
   * full, the oldest buffered message is discarded and the next one handed out says how many it missed.
   * Default 1000.
   */
  readonly iteratorBufferSize?: number;
  /** Time and timers. Default: the system clock; tests pass a fake one. */
  readonly clock?: Clock;
  /**
   * Called when an event listener or a callback option (`ping`, `shouldReconnect`) throws. Default:
   * rethrow it from a microtask, after the other listeners ran.
   */
  readonly onListenerError?: (error: unknown, event: PropertyKey) => void;
}

/** Defaults of {@link ReconnectingWebSocketOptions} and {@link PingOptions}. */
export const RECONNECTING_WEBSOCKET_DEFAULTS = {
  connectTimeoutMs: 10_000,
  iteratorBufferSize: 1000,
  pingIntervalMs: 30_000,
  pingTimeoutMs: 10_000,
} as const;

/**
 * Close codes after which the same client would fail the same way again: the server objected to what
 * this client sends or is (RFC 6455, section 7.4.1). 1010 is sent by clients, but a server echoing it
 * means the same.
 */
const TERMINAL_CLOSE_CODES: ReadonlySet<number> = new Set([1002, 1003, 1007, 1008, 1009, 1010]);

/**
 * The default reconnect verdict, for services that are not Switchboard (whose own rule is the protocol
 * package's `shouldReconnect`):
 * - reconnect after 1000 and 1001 from the server (a restart, a deploy, an idle timeout: keeping a
 *   connection up is this class's whole job), 1005, 1006 (a dropped or refused connection), 1011-1015,
 *   and every application code (3000-4999), whose meaning only the service knows;
 * - stop after 1002, 1003, 1007, 1008, 1009 and 1010: the server objected to this client's frames or
 *   policy, and retrying would fail the same way.
 * A user's `close()` never reconnects and does not consult this function.
 */
export function defaultShouldReconnect(event: { readonly code: number }): boolean {
  return !TERMINAL_CLOSE_CODES.has(event.code);
}

/** The options after defaults and validation. */
export interface ResolvedReconnectingOptions {
  readonly url: UrlSource;
  readonly WebSocket: ExternalWebSocketConstructor;
  readonly protocols: string[] | undefined;
  readonly headers: Record<string, string> | undefined;
  readonly shouldReconnect: (event: { readonly code: number; readonly reason: string }) => boolean;
  readonly connectTimeoutMs: number;
  readonly ping: Required<PingOptions> | undefined;
  readonly iteratorBufferSize: number;
  readonly clock: Clock;
}

/** An RFC 7230 token: what a subprotocol name may be (browsers throw SyntaxError for anything else). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Apply defaults and validate; throws {@link InvalidOptionError}. */
export function resolveReconnectingOptions(
  url: UrlSource,
  options: ReconnectingWebSocketOptions,
): ResolvedReconnectingOptions {
  if (typeof url === 'string') checkUrl(url);
  else if (typeof url !== 'function') {
    throw new InvalidOptionError('url', url, 'a ws: or wss: URL, or a function returning a promise of one');
  }
  const globalWebSocket = (globalThis as { WebSocket?: ExternalWebSocketConstructor }).WebSocket;
  const WebSocket = options.WebSocket ?? globalWebSocket;
  if (typeof WebSocket !== 'function') {
    throw new InvalidOptionError(
      'WebSocket',
      WebSocket,
      "a WebSocket constructor (this runtime has no global WebSocket; on Node 20 pass `WebSocket` from 'ws')",
    );
  }
  return {
    url,
    WebSocket,
    protocols: resolveProtocols(options.protocols),
    headers: resolveHeaders(options.headers, WebSocket === globalWebSocket),
    shouldReconnect: checkFunction('shouldReconnect', options.shouldReconnect) ?? defaultShouldReconnect,
    connectTimeoutMs: validateTimeout(
      'connectTimeoutMs',
      options.connectTimeoutMs ?? RECONNECTING_WEBSOCKET_DEFAULTS.connectTimeoutMs,
    ),
    ping: resolvePing(options.ping),
    iteratorBufferSize: resolveBufferSize(options.iteratorBufferSize),
    clock: options.clock ?? systemClock,
  };
}

/** Create a socket for `url` with the resolved options. Throws what the constructor throws. */
export function createSocket(options: ResolvedReconnectingOptions, url: string): ExternalWebSocket {
  const { WebSocket, protocols, headers } = options;
  let socket: ExternalWebSocket;
  if (headers !== undefined) socket = new WebSocket(url, protocols, { headers });
  else if (protocols !== undefined) socket = new WebSocket(url, protocols);
  else socket = new WebSocket(url);
  // The same type in both runtimes (ws would hand out Buffers), and no Blob to read asynchronously.
  socket.binaryType = 'arraybuffer';
  return socket;
}

/** Check a URL the WebSocket constructor will get: absolute, ws: or wss:, no fragment (RFC 6455, 3). */
export function checkUrl(url: unknown): string {
  let parsed: URL | null = null;
  try {
    parsed = typeof url === 'string' ? new URL(url) : null;
  } catch {
    // reported below
  }
  if (parsed === null || (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') || parsed.hash !== '') {
    throw new InvalidOptionError('url', url, 'an absolute ws: or wss: URL without a fragment');
  }
  return url as string;
}

function resolveProtocols(protocols: unknown): string[] | undefined {
  if (protocols === undefined) return undefined;
  const list: unknown[] =
    typeof protocols === 'string' ? [protocols] : Array.isArray(protocols) ? protocols : [];
  const valid =
    (typeof protocols === 'string' || Array.isArray(protocols)) &&
    list.every((p) => typeof p === 'string' && TOKEN.test(p)) &&
    new Set(list).size === list.length;
  if (!valid) {
    throw new InvalidOptionError('protocols', protocols, 'a subprotocol name or a list of distinct ones');
  }
  return list as string[];
}

function resolveHeaders(headers: unknown, usingGlobal: boolean): Record<string, string> | undefined {
  if (headers === undefined) return undefined;
  if (
    typeof headers !== 'object' ||
    headers === null ||
    Array.isArray(headers) ||
    !Object.values(headers).every((v) => typeof v === 'string')
  ) {
    throw new InvalidOptionError('headers', headers, 'an object of header names to string values');
  }
  if (usingGlobal) {
    // The WHATWG WebSocket constructor has no way to send headers; failing here beats a server that
    // mysteriously never sees its Authorization header.
    throw new InvalidOptionError(
      'headers',
      headers,
      "none with the runtime's global WebSocket (browsers cannot send handshake headers); pass `WebSocket` from 'ws'",
    );
  }
  return { ...(headers as Record<string, string>) };
}

function resolvePing(ping: PingOptions | undefined): Required<PingOptions> | undefined {
  if (ping === undefined) return undefined;
  if (typeof ping !== 'object' || ping === null) {
    throw new InvalidOptionError('ping', ping, 'an object with message and isPong functions');
  }
  return {
    message: checkRequiredFunction('ping.message', ping.message),
    isPong: checkRequiredFunction('ping.isPong', ping.isPong),
    intervalMs: validateTimeout(
      'ping.intervalMs',
      ping.intervalMs ?? RECONNECTING_WEBSOCKET_DEFAULTS.pingIntervalMs,
    ),
    timeoutMs: validateTimeout(
      'ping.timeoutMs',
      ping.timeoutMs ?? RECONNECTING_WEBSOCKET_DEFAULTS.pingTimeoutMs,
    ),
  };
}

function resolveBufferSize(size: unknown): number {
  const value = size ?? RECONNECTING_WEBSOCKET_DEFAULTS.iteratorBufferSize;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new InvalidOptionError('iteratorBufferSize', value, 'an integer at least 1');
  }
  return value;
}

function checkFunction<F>(option: string, value: F | undefined): F | undefined {
  if (value !== undefined && typeof value !== 'function') {
    throw new InvalidOptionError(option, value, 'a function');
  }
  return value;
}

function checkRequiredFunction<F>(option: string, value: F | undefined): F {
  if (typeof value !== 'function') throw new InvalidOptionError(option, value, 'a function');
  return value;
}
