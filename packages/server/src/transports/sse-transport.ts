/**
 * The Server-Sent Events transport: one HTTP response held open as a `text/event-stream`
 * (https://html.spec.whatwg.org/multipage/server-sent-events.html). Push only: the hub writes whole
 * events (it renders them, see hub/sse-stream.ts) and nothing ever arrives, so the handle hears only the
 * close. The response's own queue is what waits, so the bounded outbound buffer and the slow-consumer
 * rule apply as they do to a WebSocket; pings cannot prove reads (there is no answer).
 */
import type { ServerResponse } from 'node:http';
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

function destroyResponse(res: ServerResponse): void {
  res.destroy();
}

type TaggedResponse = ServerResponse & { [HANDLE]?: SseTransportSocket | undefined };

// Shared listener: no closure per stream.
function onClose(this: TaggedResponse): void {
  const socket = this[HANDLE];
  this[HANDLE] = undefined;
  socket?.ended();
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

  constructor(private readonly res: ServerResponse) {}

  send(frame: Buffer): void {
    if (this.closeCode === 0 && !this.res.destroyed) this.res.write(frame);
  }
  sendPrepared(frame: PreparedFrame): void {
    // The hub's SSE frames are the wire bytes already: nothing to frame.
    if (this.closeCode === 0 && !this.res.destroyed) this.res.write(frame.payload);
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
      this.endTimer = setTimeout(destroyResponse, SSE_CLOSE_TIMEOUT_MS, this.res);
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
 */
export function openSseStream(
  res: ServerResponse,
  headers: Readonly<Record<string, string>>,
  retryMs: number,
  accept: (socket: TransportSocket) => ConnectionHandle,
): void {
  const tagged = res as TaggedResponse;
  const socket = new SseTransportSocket(res);
  tagged[HANDLE] = socket;
  res.on('close', onClose);
  // Node's socket timeout does not apply to a stream: keep-alives are the traffic.
  res.socket?.setTimeout(0);
  res.writeHead(200, { ...SSE_HEADERS, ...headers });
  res.cork();
  res.write(`retry: ${retryMs}\n\n`);
  socket.handle = accept(socket);
  res.uncork();
}
