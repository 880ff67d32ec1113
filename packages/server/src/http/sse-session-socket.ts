/**
 * Protocol v1 over Server-Sent Events (`GET /v1/sse`): the SSE transport's stream carries every v1 frame
 * the hub writes as one `message` event, and the connection's commands arrive by `POST` (see
 * http/http-session-endpoint.ts). The stream opens with an `open` event (the connection's id and secret,
 * which the POSTs present) and ends, when the server closes the connection, with a `close` event (the
 * code and reason a WebSocket's close frame would carry). docs/protocol.md#http-transports.
 */
import { renderSseEvent } from '../hub/sse-stream.js';
import type { ConnectionHandle, PreparedFrame, TransportSocket } from '../transports/transport.js';

/** One v1 connection's SSE stream: each frame the hub writes becomes one event on `stream`. */
export class SseSessionSocket implements TransportSocket {
  readonly kind = 'sse' as const;
  readonly pingsProveReads = false;
  private closed = false;

  /** @param stream the SSE transport's socket of the response (it writes bytes as they are). */
  constructor(private readonly stream: TransportSocket) {}

  send(frame: Buffer): void {
    if (!this.closed) this.stream.send(Buffer.from(renderSseEvent('message', frame.toString('utf8'))));
  }
  sendPrepared(frame: PreparedFrame): void {
    if (this.closed) return;
    // Framed once per fan-out, like a WebSocket frame.
    frame.sseV1 ??= Buffer.from(renderSseEvent('message', frame.payload.toString('utf8')));
    this.stream.send(frame.sseV1);
  }
  get bufferedAmount(): number {
    return this.stream.bufferedAmount;
  }
  ping(): void {
    // The hub's v1 ping frames are the traffic; the client answers them by POST.
  }
  close(code: number, reason: string): void {
    if (this.closed) return;
    this.stream.send(Buffer.from(renderSseEvent('close', JSON.stringify({ code, reason }))));
    this.closed = true;
    this.stream.close(code, reason);
  }
  terminate(): void {
    this.closed = true;
    this.stream.terminate();
  }
}

/** The stream's first event: what the client's POSTs must present. */
export function openEvent(connection: string, secret: string): Buffer {
  return Buffer.from(renderSseEvent('open', JSON.stringify({ connection, secret })));
}

/** A handle that tells `onClosed` first (the endpoint forgets the connection), then the hub's handle. */
export class ClosingHandle implements ConnectionHandle {
  constructor(
    private readonly inner: ConnectionHandle,
    private readonly onClosed: () => void,
  ) {}
  receiveText(text: string): void {
    this.inner.receiveText(text);
  }
  receiveBinary(bytes: Uint8Array): void {
    this.inner.receiveBinary(bytes);
  }
  receiveUnsupported(): void {
    this.inner.receiveUnsupported();
  }
  receiveTransportPing(bytes: number): boolean {
    return this.inner.receiveTransportPing(bytes);
  }
  receiveTransportPong(bytes: number): void {
    this.inner.receiveTransportPong(bytes);
  }
  receiveInvalid(code: number, reason: string): void {
    this.inner.receiveInvalid(code, reason);
  }
  closed(code: number, reason: string): void {
    this.onClosed();
    this.inner.closed(code, reason);
  }
}
