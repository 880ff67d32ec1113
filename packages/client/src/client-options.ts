/** Options of {@link SwitchboardClient}, their defaults and their validation. */
import { MAX_TOKEN_LENGTH } from '@switchboard/protocol';
import { Backoff } from './backoff.js';
import type { BackoffOptions } from './backoff.js';
import type { Clock } from './clock.js';
import { systemClock } from './clock.js';
import { InvalidOptionError } from './errors.js';
import { resolveInboxOptions } from './inbox-options.js';
import type { InboxOptions, ResolvedInboxOptions } from './inbox-options.js';
import { checkServerUrls } from './endpoints.js';
import type { ServerUrls } from './endpoints.js';
import type { NetworkEvents } from './reconnector.js';
import type { SendQueueLimits } from './send-queue.js';
import type { TokenSource, TokenTransport } from './token-source.js';
import type { WebSocketConstructor } from './websocket-like.js';
import type { FetchLike } from './http-socket.js';
import { TRANSPORT_NAMES, isTransportList } from './transport-picker.js';
import type { TransportName } from './transport-picker.js';
import type { WireFormat } from './wire-format.js';

/** Options of a {@link SwitchboardClient}. */
export interface ClientOptions {
  /**
   * The WebSocket constructor to use. Default: `globalThis.WebSocket` (browsers, Deno, Bun, Node 22+);
   * on Node 20, which has none, pass the `ws` package's default export.
   */
  readonly WebSocket?: WebSocketConstructor;
  /**
   * The transports to use, best first. Default `['websocket', 'sse', 'polling']`: a transport that fails
   * twice in a row before connecting (1006: a proxy refusing the upgrade) gives way to the next; the
   * first is tried again after {@link transportRetryMs}. `sse` and `polling` speak protocol v1 over plain
   * HTTP (docs/protocol.md#http-transports).
   */
  readonly transports?: readonly TransportName[];
  /** The `fetch` of the HTTP transports. Default: `globalThis.fetch`. */
  readonly fetch?: FetchLike;
  /**
   * The wire format over WebSocket. `json`: text frames. `msgpack`: MessagePack binary frames
   * (subprotocol `switchboard.v1.msgpack`), in which a `Uint8Array` anywhere in a payload travels as
   * bytes and arrives as a `Uint8Array`; everything else is sent as JSON would send it (a `Date` as its
   * ISO string). JSON is offered beside it: a server without MessagePack answers in JSON, and the SSE and
   * polling transports always use JSON (`connected` says which format is in use: `ConnectedInfo.format`).
   * Default `json`.
   */
  readonly format?: WireFormat;
  /**
   * While connected on a fallback, how often WebSocket is probed (ms); once a probe opens, the client
   * reconnects over it, resuming its session. Default 60000.
   */
  readonly transportRetryMs?: number;
  /** How long a request waits for its reply before it fails with `request_timeout` (ms). Default 10000. */
  readonly requestTimeoutMs?: number;
  /**
   * How long an attempt may take from opening the socket to the server's `connected` push (ms); a slower
   * attempt is abandoned and counts as failed. Default 10000.
   */
  readonly connectTimeoutMs?: number;
  /**
   * Reconnect by itself after a lost connection, unless the close code forbids it (4500-4999, see
   * `shouldReconnect` of the protocol). Default true.
   */
  readonly reconnect?: boolean;
  /**
   * Delays between attempts: full jitter from 0 to a cap that starts at `minDelayMs` (500) and doubles up
   * to `maxDelayMs` (20000), `maxAttempts` (unlimited) per outage, reset once a connection stayed up
   * `minUptimeMs` (5000). Default: those defaults (`BACKOFF_DEFAULTS`). Subscriptions refused with a
   * temporary error are retried on the same schedule.
   */
  readonly backoff?: BackoffOptions;
  /**
   * Resume the session on reconnect (`/ws?session=<id>`): within the server's grace period the server
   * restores the subscriptions and session data itself. Default true.
   */
  readonly resume?: boolean;
  /**
   * A session to resume on the first connect, for example one a page kept in `sessionStorage` across a
   * reload. Another connection holding that session is closed by the server with 4500. Default: none.
   */
  readonly sessionId?: string;
  /**
   * Bounds of the queue holding `publish`, `send` and `notify` calls made while the client is not
   * connected: `maxItems` (100), `maxAgeMs` (no limit), `overflow` (`drop-oldest`). Dropped calls are
   * reported by the `dropped` event and their promises reject with `MessageDroppedError`.
   * Default: those defaults (`SEND_QUEUE_DEFAULTS`).
   */
  readonly offlineQueue?: SendQueueLimits;
  /**
   * Where `online` events come from: when one fires during a backoff delay, the client retries at once.
   * Default: `globalThis` when it has `addEventListener` (browsers, workers), else none; null for none.
   */
  readonly networkEvents?: NetworkEvents | null;
  /**
   * Credentials for a server with `auth`: a token (a JWT), or an async provider called before every
   * connection attempt and before every refresh, which should return a token good for a while. A provider
   * that throws fails the attempt, which is retried with backoff (`tokenError` event). With a provider,
   * the client renews the credentials in-band before they expire (`refreshMarginMs`); a static string is
   * never renewed, so once it expires the server closes with 4004 and then refuses it (4504).
   * Default: none (no credentials).
   */
  readonly token?: TokenSource;
  /**
   * How the token reaches the server. `first-message`: an `auth` command as the first frame, refused with
   * an error and close 4504, which the client reports (`unauthorized`) and stops on. `subprotocol`: in the
   * handshake as `switchboard.bearer.<token>` beside `switchboard.v1`, refused with HTTP 401, which a
   * browser reports as a plain 1006 drop, so a bad token is retried like a network failure. Use
   * `subprotocol` with a server that accepts anonymous connections (`allowAnonymous`), which takes a
   * handshake without credentials as anonymous instead of waiting for `auth`. Default `first-message`.
   */
  readonly tokenTransport?: TokenTransport;
  /**
   * Renew the credentials this long before they expire (ms), or at half their remaining lifetime when that
   * is sooner (short-lived tokens). Only with a token provider. Default 30000.
   */
  readonly refreshMarginMs?: number;
  /** Time and timers. Default: the system clock; tests pass a fake one. */
  readonly clock?: Clock;
  /**
   * Called when an event listener throws. Default: rethrow it from a microtask (an uncaught error, as
   * from a WebSocket listener), after the other listeners ran.
   */
  readonly onListenerError?: (error: unknown, event: PropertyKey) => void;
  /**
   * The inbox (`client.inbox`): `device` (default: a random id, kept in `localStorage` in a browser),
   * `prefetch` (10), `autoAck` (true), `dedupeSize` (10000). See {@link InboxOptions}.
   */
  readonly inbox?: InboxOptions;
}

/** Default of {@link ClientOptions.requestTimeoutMs}. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

/** Default of {@link ClientOptions.connectTimeoutMs}. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** Default of {@link ClientOptions.tokenTransport}. */
export const DEFAULT_TOKEN_TRANSPORT: TokenTransport = 'first-message';

/** Default of {@link ClientOptions.refreshMarginMs}. */
export const DEFAULT_REFRESH_MARGIN_MS = 30_000;

/** Default of {@link ClientOptions.format}. */
export const DEFAULT_FORMAT: WireFormat = 'json';

/** Default of {@link ClientOptions.transportRetryMs}. */
export const DEFAULT_TRANSPORT_RETRY_MS = 60_000;

/** The options after defaults and validation. */
export interface ResolvedClientOptions {
  /** Undefined when no transport needs one. */
  readonly WebSocket: WebSocketConstructor | undefined;
  readonly transports: readonly TransportName[];
  readonly fetch: FetchLike | undefined;
  readonly format: WireFormat;
  readonly transportRetryMs: number;
  readonly requestTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly reconnect: boolean;
  readonly backoff: BackoffOptions;
  readonly resume: boolean;
  readonly sessionId: string | null;
  readonly offlineQueue: SendQueueLimits;
  readonly networkEvents: NetworkEvents | null;
  /** Null: connect without credentials. */
  readonly token: TokenSource | null;
  readonly tokenTransport: TokenTransport;
  readonly refreshMarginMs: number;
  readonly clock: Clock;
  readonly inbox: ResolvedInboxOptions;
}

/** Apply defaults and validate; throws {@link InvalidOptionError}. */
export function resolveClientOptions(url: ServerUrls, options: ClientOptions): ResolvedClientOptions {
  checkServerUrls(url);
  const transports = options.transports ?? TRANSPORT_NAMES;
  if (!isTransportList(transports)) {
    throw new InvalidOptionError(
      'transports',
      transports,
      "distinct names among 'websocket', 'sse', 'polling'",
    );
  }
  const WebSocket = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  // Bound: a browser's fetch called as another object's method throws "Illegal invocation".
  const fetchFn = options.fetch ?? (globalThis as { fetch?: FetchLike }).fetch?.bind(globalThis);
  const http = transports.some((t) => t !== 'websocket');
  if (typeof WebSocket !== 'function' && transports.includes('websocket')) {
    throw new InvalidOptionError(
      'WebSocket',
      WebSocket,
      "a WebSocket constructor (this runtime has no global WebSocket; on Node 20 pass `WebSocket` from 'ws')",
    );
  }
  const backoff = options.backoff ?? {};
  // Validated here, where a mistake is reported at construction rather than at the first disconnect.
  new Backoff(backoff);
  const sessionId = options.sessionId ?? null;
  if (sessionId !== null && (typeof sessionId !== 'string' || sessionId === '' || sessionId.length > 64)) {
    throw new InvalidOptionError('sessionId', sessionId, 'a string of 1 to 64 characters');
  }
  if (http && typeof fetchFn !== 'function') {
    throw new InvalidOptionError(
      'fetch',
      fetchFn,
      'a fetch function (the sse and polling transports use it)',
    );
  }
  return {
    WebSocket: typeof WebSocket === 'function' ? WebSocket : undefined,
    transports,
    fetch: http ? fetchFn : undefined,
    format: validateFormat(options.format ?? DEFAULT_FORMAT),
    transportRetryMs: validateTimeout(
      'transportRetryMs',
      options.transportRetryMs ?? DEFAULT_TRANSPORT_RETRY_MS,
    ),
    requestTimeoutMs: validateTimeout(
      'requestTimeoutMs',
      options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    ),
    connectTimeoutMs: validateTimeout(
      'connectTimeoutMs',
      options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    ),
    reconnect: validateBoolean('reconnect', options.reconnect ?? true),
    backoff,
    resume: validateBoolean('resume', options.resume ?? true),
    sessionId,
    offlineQueue: options.offlineQueue ?? {},
    networkEvents: options.networkEvents === undefined ? defaultNetworkEvents() : options.networkEvents,
    token: validateToken(options.token),
    tokenTransport: validateTransport(options.tokenTransport ?? DEFAULT_TOKEN_TRANSPORT),
    refreshMarginMs: validateTimeout('refreshMarginMs', options.refreshMarginMs ?? DEFAULT_REFRESH_MARGIN_MS),
    clock: options.clock ?? systemClock,
    inbox: resolveInboxOptions(options.inbox),
  };
}

/** Check a timeout in ms: positive, finite, and within what setTimeout accepts (2^31 - 1). */
export function validateTimeout(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 1 || value > 2_147_483_647) {
    throw new InvalidOptionError(option, value, 'a number of milliseconds from 1 to 2147483647');
  }
  return value;
}

function validateBoolean(option: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new InvalidOptionError(option, value, 'true or false');
  return value;
}

function validateToken(value: unknown): TokenSource | null {
  if (value === undefined) return null;
  if (typeof value === 'function') return value as TokenSource;
  if (typeof value === 'string' && value !== '' && value.length <= MAX_TOKEN_LENGTH) return value;
  throw new InvalidOptionError(
    'token',
    // A credential never appears in an error message (they end up in logs and bug reports).
    typeof value === 'string' ? '<redacted>' : value,
    `a string of 1 to ${MAX_TOKEN_LENGTH} characters, or a function returning a promise of one`,
  );
}

function validateFormat(value: unknown): WireFormat {
  if (value === 'json' || value === 'msgpack') return value;
  throw new InvalidOptionError('format', value, "'json' or 'msgpack'");
}

function validateTransport(value: unknown): TokenTransport {
  if (value === 'first-message' || value === 'subprotocol') return value;
  throw new InvalidOptionError('tokenTransport', value, "'first-message' or 'subprotocol'");
}

/** `globalThis` where it emits `online` (browsers, workers); Node has no such events. */
function defaultNetworkEvents(): NetworkEvents | null {
  const candidate = globalThis as Partial<NetworkEvents>;
  return typeof candidate.addEventListener === 'function' &&
    typeof candidate.removeEventListener === 'function'
    ? (candidate as NetworkEvents)
    : null;
}
