/**
 * Deadlines of the HTTP server Switchboard owns, against slowloris: a client that opens TCP and sends its
 * request head one byte at a time (or never) holds a socket and a parser for as long as it likes unless
 * the server cuts it off.
 *
 * Node (>= 18) enforces `headersTimeout` and `requestTimeout` by sweeping its list of incomplete requests
 * every `connectionsCheckingInterval` (default 30 s, so a 10 s deadline could take 40 s); the sweep is
 * one timer per server, not per socket. Upgraded sockets leave that list when the upgrade is handed over,
 * so neither deadline ever applies to an open WebSocket (checked on Node 20, and by the limits tests).
 * `keepAliveTimeout` closes idle keep-alive sockets between HTTP API requests.
 */
import type { Server as HttpServer, ServerOptions as HttpServerOptions } from 'node:http';

/** The deadline settings (a subset of the server's resolved limits). */
export interface HttpDeadlines {
  /** Time to receive a request's complete head (ms). */
  readonly headersTimeoutMs: number;
  /** Time to receive a complete request, head and body (ms); not less than `headersTimeoutMs`. */
  readonly requestTimeoutMs: number;
  /** Time an idle keep-alive socket is kept between requests (ms). */
  readonly keepAliveTimeoutMs: number;
}

/** The sweep interval: a quarter of the shortest deadline, between 10 ms and 1 s. */
export function checkingIntervalMs(deadlines: HttpDeadlines): number {
  const shortest = Math.min(deadlines.headersTimeoutMs, deadlines.requestTimeoutMs);
  return Math.max(10, Math.min(1000, Math.floor(shortest / 4)));
}

/**
 * Options for `http.createServer` / `https.createServer`. The sweep interval can only be given at
 * creation, so a server Switchboard creates should be created with these.
 */
export function httpServerOptions(deadlines: HttpDeadlines): HttpServerOptions {
  return {
    headersTimeout: deadlines.headersTimeoutMs,
    requestTimeout: deadlines.requestTimeoutMs,
    keepAliveTimeout: deadlines.keepAliveTimeoutMs,
    connectionsCheckingInterval: checkingIntervalMs(deadlines),
  };
}

/**
 * Apply the deadlines to a server Switchboard owns but did not create with {@link httpServerOptions}
 * (the sweep interval then stays Node's), and report each request cut off by a deadline to
 * `onTimeout`.
 *
 * The report listens on each socket's `error`: Node destroys a timed-out socket with
 * ERR_HTTP_REQUEST_TIMEOUT after writing its own 408, and a `clientError` listener would replace that
 * answer instead of observing it. One shared function, so a socket costs no closure.
 */
export function enforceDeadlines(server: HttpServer, deadlines: HttpDeadlines, onTimeout: () => void): void {
  server.headersTimeout = deadlines.headersTimeoutMs;
  server.requestTimeout = deadlines.requestTimeoutMs;
  server.keepAliveTimeout = deadlines.keepAliveTimeoutMs;
  function onSocketError(error: Error & { code?: string }): void {
    if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') onTimeout();
  }
  const onConnection = (socket: NodeJS.EventEmitter): void => {
    socket.on('error', onSocketError);
  };
  // Over TLS the HTTP parser runs on the TLS socket, which `secureConnection` hands out; plain HTTP never
  // emits that event.
  server.on('connection', onConnection);
  server.on('secureConnection', onConnection);
}
