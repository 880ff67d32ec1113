/**
 * The Server-Sent Events transport: one HTTP response held open as a `text/event-stream`
 * (https://html.spec.whatwg.org/multipage/server-sent-events.html). Push only: the hub writes whole
 * events (it renders them, see hub/sse-stream.ts) and nothing ever arrives, so the handle hears only the
 * close. The response's own queue is what waits, so the bounded outbound buffer and the slow-consumer
 * rule apply as they do to a WebSocket; pings cannot prove reads (there is no answer).
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Writable } from 'node:stream';
import type { ConnectionHandle, PreparedFrame, TransportSocket } from './transport.js';

/**
 * The code reported when the client ends the stream: SSE has no close handshake, so a closed tab, an
 * `EventSource.close()` and a vanished peer look the same (the WebSocket code for "no close frame").
 */
export const SSE_CLIENT_GONE = 1006;

/** The response headers of every stream (CORS headers are added by the endpoint). */
export const SSE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'text/event-stream; charset=utf-8',
  // Never cached, never transformed (a compressing proxy would hold events back).
  'cache-control': 'no-cache, no-transform',
  // nginx buffers proxied responses unless told not to.
  'x-accel-buffering': 'no',
});

/** How long a closed stream may take to hand its last bytes over before it is dropped (ws's close timeout). */
export const SSE_CLOSE_TIMEOUT_MS = 30_000;

const HANDLE = Symbol('switchboard.sseHandle');

/**
 * Where a stream's bytes go: the response itself (HTTP/2's `Http2ServerResponse`, or a response that
 * cannot be taken over), or, on HTTP/1.1, the raw TCP socket under it once the stream took it over (see
 * {@link takeOverSocket}). Both are writable streams with the same members.
 */
export type SseOutput = Pick<
  Writable,
  | 'write'
  | 'end'
  | 'destroy'
  | 'cork'
  | 'uncork'
  | 'on'
  | 'writableLength'
  | 'writableFinished'
  | 'writableCorked'
  | 'destroyed'
>;

function destroyOutput(out: SseOutput): void {
  out.destroy();
}

type TaggedOutput = SseOutput & { [HANDLE]?: SseTransportSocket | undefined };

// Shared listener: no closure per stream.
function onClose(this: TaggedOutput): void {
  const socket = this[HANDLE];
  this[HANDLE] = undefined;
  socket?.ended();
}

/** Outputs corked during this event-loop turn, uncorked together at its end. */
let corkedInTurn: SseOutput[] = [];

function uncorkTurn(): void {
  const outputs = corkedInTurn;
  corkedInTurn = [];
  for (const out of outputs) out.uncork();
}

/**
 * Write `bytes`, coalesced with the stream's other writes of this event-loop turn into one write to the
 * kernel at its end (as a WebSocket's batched frames are; the `setImmediate` runs after this turn's I/O
 * callbacks). One timer per turn for every stream, none per stream.
 */
function writeInTurn(out: SseOutput, bytes: Buffer): void {
  if (out.writableCorked === 0) {
    out.cork();
    if (corkedInTurn.push(out) === 1) setImmediate(uncorkTurn);
  }
  out.write(bytes);
}

/** One SSE response seen through the transport seam. */
class SseTransportSocket implements TransportSocket {
  readonly kind = 'sse' as const;
  /** Nothing can prove reads: the client never answers. */
  readonly pingsProveReads = false;
  handle: ConnectionHandle | undefined;
  private closeCode = 0;
  private closeReason = '';
  /** Drops a closed stream whose last bytes are never read; null unless one is waiting. */
  private endTimer: NodeJS.Timeout | null = null;

  constructor(private readonly res: SseOutput) {}

  send(frame: Buffer): void {
    if (this.closeCode === 0 && !this.res.destroyed) writeInTurn(this.res, frame);
  }
  sendPrepared(frame: PreparedFrame): void {
    // The hub's SSE frames are the wire bytes already: nothing to frame.
    if (this.closeCode === 0 && !this.res.destroyed) writeInTurn(this.res, frame.payload);
  }
  get bufferedAmount(): number {
    // The response's own queue and its socket's (what Node has not handed to the kernel).
    return this.res.writableLength;
  }
  ping(): void {
    // Heartbeat keep-alives are frames of their own (SSE_KEEPALIVE); there is no transport-level ping.
  }
  close(code: number, reason: string): void {
    if (this.closeCode !== 0) return;
    this.closeCode = code;
    this.closeReason = reason;
    // The end waits for what is queued: a stream that ends after its last message delivers it. A peer
    // that never reads it is dropped after ws's close timeout, as a WebSocket would be.
    this.res.end();
    if (!this.res.writableFinished) {
      this.endTimer = setTimeout(destroyOutput, SSE_CLOSE_TIMEOUT_MS, this.res);
      this.endTimer.unref();
    }
  }
  terminate(): void {
    if (this.closeCode === 0) this.closeCode = SSE_CLIENT_GONE;
    this.res.destroy();
  }
  /** The response is gone: report it once, under the code the server closed with, if it did. */
  ended(): void {
    if (this.endTimer !== null) clearTimeout(this.endTimer);
    const handle = this.handle;
    this.handle = undefined;
    if (this.closeCode === 0) handle?.closed(SSE_CLIENT_GONE, 'stream closed by the client');
    else handle?.closed(this.closeCode, this.closeReason);
  }
}

/**
 * Start a stream on `res`: the 200 head (with `headers` beside {@link SSE_HEADERS}) and the `retry:` hint
 * in one write, then hand the socket to `accept`, which returns the handle that hears its close.
 *
 * On HTTP/1.1 the stream writes its head itself and takes the TCP socket over from Node's HTTP server
 * (as `ws` does after an upgrade): the `IncomingMessage`, `ServerResponse` and parser of the request are
 * let go, and events go out unchunked (the body ends when the connection does). Anything else (an
 * `Http2ServerResponse`) writes through the response.
 */
export function openSseStream(
  res: ServerResponse,
  headers: Readonly<Record<string, string>>,
  retryMs: number,
  accept: (socket: TransportSocket) => ConnectionHandle,
): void {
  const all = { ...SSE_HEADERS, ...headers };
  const retry = `retry: ${retryMs}\n\n`;
  let out: SseOutput | null = takeOverSocket(res, all, retry);
  if (out === null) {
    // Node's socket timeout does not apply to a stream: keep-alives are the traffic.
    res.socket?.setTimeout(0);
    res.writeHead(200, all);
    res.write(retry);
    out = res;
  }
  const tagged = out as TaggedOutput;
  const socket = new SseTransportSocket(out);
  tagged[HANDLE] = socket;
  out.on('close', onClose);
  out.cork();
  try {
    socket.handle = accept(socket);
  } catch (error) {
    // The head is out: the endpoint cannot answer with a status any more.
    out.destroy();
    throw error;
  } finally {
    out.uncork();
  }
}

/** The bits of Node's HTTP/1.1 parser a take-over releases (node:_http_server does the same on upgrade). */
interface NodeParser {
  _consumed?: boolean;
  incoming?: unknown;
  unconsume(): void;
  remove(): void;
  close(): void;
}

/** Events Node's HTTP server listens to on a connection's socket. */
const SERVER_SOCKET_EVENTS = [
  'data',
  'end',
  'close',
  'drain',
  'error',
  'timeout',
  'pause',
  'resume',
] as const;

function onPeerEnd(this: Socket): void {
  // The client closed its side (a closed tab, EventSource.close()): nothing more can be read, end ours.
  this.destroy();
}

function ignoreError(): void {
  // 'close' follows every 'error', and the stream's close handler reports it.
}

function releaseParser(parser: NodeParser, socket: Socket): void {
  if (parser._consumed === true) parser.unconsume();
  parser._consumed = false;
  parser.remove();
  parser.incoming = null;
  parser.close();
  // Read (and drop) whatever the client sends, so that its FIN is seen as soon as it comes.
  if (!socket.destroyed) socket.resume();
}

/**
 * Write the head and the retry hint on the raw socket of an HTTP/1.1 response and detach it from Node's
 * HTTP server; null (nothing written) when `res` is not a plain HTTP/1.1 response on a live socket.
 */
export function takeOverSocket(
  res: ServerResponse,
  headers: OutgoingHttpHeaders,
  retry: string,
): Socket | null {
  const req = (res as ServerResponse & { req?: IncomingMessage }).req;
  const socket = res.socket;
  const parser = (socket as (Socket & { parser?: NodeParser | null }) | null)?.parser;
  if (
    req === undefined ||
    req.httpVersionMajor !== 1 ||
    req.httpVersionMinor !== 1 ||
    socket === null ||
    socket.destroyed ||
    parser === undefined ||
    parser === null ||
    res.headersSent
  )
    return null;
  let head = 'HTTP/1.1 200 OK\r\n';
  for (const [name, value] of Object.entries({ ...res.getHeaders(), ...headers })) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) head += `${name}: ${String(one)}\r\n`;
  }
  // No length and no chunking: the body is every byte until the connection closes (RFC 9112 §6.3).
  head += `date: ${new Date().toUTCString()}\r\nconnection: close\r\n\r\n`;
  socket.write(head + retry);
  // Let Node's server forget the request: its listeners hold the request, the response and the parser.
  res.detachSocket(socket);
  for (const event of SERVER_SOCKET_EVENTS) socket.removeAllListeners(event);
  (socket as Socket & { parser?: NodeParser | null }).parser = null;
  (req as IncomingMessage & { parser?: unknown }).parser = null;
  socket.setTimeout(0);
  socket.on('error', ignoreError);
  socket.on('end', onPeerEnd);
  // The parser may be inside its execute() (this can run from the request handler): release it after.
  setImmediate(releaseParser, parser, socket);
  return socket;
}
