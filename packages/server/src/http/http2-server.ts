/**
 * HTTP/2 on the https server Switchboard owns (`http2: true`, with `tls`): one TLS connection carries
 * every SSE stream and API request of an origin, past HTTP/1.1's six connections per origin in browsers.
 * `allowHTTP1` keeps HTTP/1.1 on the same port, chosen by ALPN: WebSocket needs it (the upgrade is an
 * HTTP/1.1 mechanism and `ws` has no RFC 8441 extended CONNECT), and so do clients without h2.
 *
 * Requests over h2 reach the same `request` listeners as the compat `Http2ServerRequest` and
 * `Http2ServerResponse` (https://nodejs.org/api/http2.html#compatibility-api), which carry every field
 * Switchboard reads (url, method, headers, socket.remoteAddress; writeHead, write, end, 'close').
 */
import { createSecureServer } from 'node:http2';
import type { Http2SecureServer, ServerHttp2Session, ServerHttp2Stream } from 'node:http2';
import { Server as HttpServer } from 'node:http';
import type { ServerOptions as HttpServerOptions } from 'node:http';
import type { Server as HttpsServer } from 'node:https';

/** How long a session told to go away (GOAWAY) may finish its streams when the server stops. */
export const HTTP2_CLOSE_GRACE_MS = 1000;

const SESSIONS = Symbol('switchboard.http2Sessions');
const STREAMS = Symbol('switchboard.http2OpenStreams');
const IDLE_MS = Symbol('switchboard.http2IdleMs');
const OF_SESSION = Symbol('switchboard.http2Session');

type TrackedServer = Http2SecureServer & { [SESSIONS]?: Set<ServerHttp2Session> };
/** A session's open streams and its idle timeout, on the session itself. */
type TrackedSession = ServerHttp2Session & { [STREAMS]: number; [IDLE_MS]: number };
type TrackedStream = ServerHttp2Stream & { [OF_SESSION]?: TrackedSession };

function forget(this: ServerHttp2Session): void {
  (this.server as TrackedServer | undefined)?.[SESSIONS]?.delete(this);
}

/**
 * A session with no open stream is closed after the keep-alive timeout, as Node closes an idle HTTP/1.1
 * keep-alive socket: else a client could hold file descriptors with sessions that made one request each
 * (the silent-socket watch lets a connection go once it has spoken). `session.setTimeout` counts socket
 * inactivity, which is what idleness is while no stream is open; it is off while one is (an SSE stream
 * is ended by its own rules: the heartbeat, the slow-consumer close). Shared functions, no closure per
 * stream.
 */
function onSessionIdle(this: ServerHttp2Session): void {
  if ((this as TrackedSession)[STREAMS] === 0) this.close();
}

function onStream(this: ServerHttp2Session, stream: ServerHttp2Stream): void {
  const session = this as TrackedSession;
  if (session[STREAMS]++ === 0) session.setTimeout(0);
  // A closed stream no longer knows its session: it is kept on the stream for the close.
  (stream as TrackedStream)[OF_SESSION] = session;
  stream.once('close', onStreamClose);
}

function onStreamClose(this: ServerHttp2Stream): void {
  const session = (this as TrackedStream)[OF_SESSION];
  if (session === undefined || session.destroyed) return;
  if (--session[STREAMS] === 0) session.setTimeout(session[IDLE_MS]);
}

function destroySession(session: ServerHttp2Session): void {
  session.destroy();
}

/**
 * An h2 + HTTP/1.1 TLS server with the HTTP deadlines of `options` (Node applies them to its HTTP/1.1
 * connections; an h2 stream has none, so an SSE stream is never cut by them). Typed as the https server
 * it stands in for: `setSecureContext`, `listen`, `close` and the request events are the same.
 */
export function createHttp2Server(options: HttpServerOptions): HttpsServer {
  const server: TrackedServer = createSecureServer({ allowHTTP1: true });
  // Read by the HTTP/1.1 fallback (Node's http listener runs on this server); the sweep interval must be
  // set before `listening`, when the fallback's connection tracking starts.
  const http1 = server as unknown as HttpServer & { connectionsCheckingInterval: number };
  http1.headersTimeout = options.headersTimeout ?? http1.headersTimeout;
  http1.requestTimeout = options.requestTimeout ?? http1.requestTimeout;
  http1.keepAliveTimeout = options.keepAliveTimeout ?? http1.keepAliveTimeout;
  http1.connectionsCheckingInterval =
    options.connectionsCheckingInterval ?? http1.connectionsCheckingInterval;
  const sessions = new Set<ServerHttp2Session>();
  server[SESSIONS] = sessions;
  const idleMs = options.keepAliveTimeout ?? 5000;
  server.on('session', (session) => {
    sessions.add(session);
    session.once('close', forget);
    const tracked = session as TrackedSession;
    tracked[STREAMS] = 0;
    tracked[IDLE_MS] = idleMs;
    session.on('stream', onStream);
    session.on('timeout', onSessionIdle);
    session.setTimeout(idleMs);
  });
  return server as unknown as HttpsServer;
}

/** Whether `server` is one {@link createHttp2Server} made. */
export function isHttp2Server(server: unknown): boolean {
  return typeof server === 'object' && server !== null && SESSIONS in server;
}

/**
 * Drop every connection of a stopping server: HTTP/1.1 ones at once (as `closeAllConnections` does on an
 * http server), h2 sessions with a GOAWAY (no new streams), destroyed after {@link HTTP2_CLOSE_GRACE_MS}
 * if a stream is still open by then. The graceful stop has already ended every SSE stream.
 */
export function closeHttp2Connections(server: unknown): void {
  const tracked = server as TrackedServer;
  HttpServer.prototype.closeAllConnections.call(tracked as unknown as HttpServer);
  for (const session of tracked[SESSIONS] ?? []) {
    session.close();
    setTimeout(destroySession, HTTP2_CLOSE_GRACE_MS, session).unref();
  }
}
