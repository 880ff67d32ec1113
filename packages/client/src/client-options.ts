/** Options of {@link SwitchboardClient}, their defaults and their validation. */
import type { Clock } from './clock.js';
import { systemClock } from './clock.js';
import { InvalidOptionError } from './errors.js';
import type { WebSocketConstructor } from './websocket-like.js';

/** Options of a {@link SwitchboardClient}. */
export interface ClientOptions {
  /**
   * The WebSocket constructor to use. Default: `globalThis.WebSocket` (browsers, Deno, Bun, Node 22+);
   * on Node 20, which has none, pass the `ws` package's default export.
   */
  readonly WebSocket?: WebSocketConstructor;
  /** How long a request waits for its reply before it fails with `request_timeout` (ms). Default 10000. */
  readonly requestTimeoutMs?: number;
  /** Time and timers. Default: the system clock; tests pass a fake one. */
  readonly clock?: Clock;
  /**
   * Called when an event listener throws. Default: rethrow it from a microtask (an uncaught error, as
   * from a WebSocket listener), after the other listeners ran.
   */
  readonly onListenerError?: (error: unknown, event: PropertyKey) => void;
}

/** Default of {@link ClientOptions.requestTimeoutMs}. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

/** The options after defaults and validation. */
export interface ResolvedClientOptions {
  readonly WebSocket: WebSocketConstructor;
  readonly requestTimeoutMs: number;
  readonly clock: Clock;
}

/** Apply defaults and validate; throws {@link InvalidOptionError}. */
export function resolveClientOptions(url: string, options: ClientOptions): ResolvedClientOptions {
  let parsed: URL | null = null;
  try {
    parsed = new URL(url);
  } catch {
    // reported below with the other checks
  }
  if (parsed === null || (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:')) {
    throw new InvalidOptionError('url', url, 'an absolute ws: or wss: URL');
  }
  const WebSocket = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (typeof WebSocket !== 'function') {
    throw new InvalidOptionError(
      'WebSocket',
      WebSocket,
      "a WebSocket constructor (this runtime has no global WebSocket; on Node 20 pass `WebSocket` from 'ws')",
    );
  }
  const requestTimeoutMs = validateTimeout(
    'requestTimeoutMs',
    options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
  );
  return { WebSocket, requestTimeoutMs, clock: options.clock ?? systemClock };
}

/** Check a timeout in ms: positive, finite, and within what setTimeout accepts (2^31 - 1). */
export function validateTimeout(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 1 || value > 2_147_483_647) {
    throw new InvalidOptionError(option, value, 'a number of milliseconds from 1 to 2147483647');
  }
  return value;
}
