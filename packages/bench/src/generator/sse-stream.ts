/**
 * One Server-Sent Events stream read over a raw TCP socket: the request written by hand, the response
 * head checked for a 200, the body de-chunked when the server used chunked encoding, and split into
 * events (blank-line separated, docs/protocol.md#server-sent-events). No `http.ClientRequest`, no
 * `EventSource` polyfill: a generator process holds thousands of these, and its CPU per event must stay
 * small beside a WebSocket client's.
 */
import { connect } from 'node:net';
import type { Socket } from 'node:net';

const HEAD_END = Buffer.from('\r\n\r\n');
const EVENT_END = Buffer.from('\n\n');
const CRLF = Buffer.from('\r\n');
const STATUS_200 = Buffer.from('HTTP/1.1 200');

/** What a stream reports to its owner. */
export interface SseSink {
  /** One whole event (without its blank line), a view of the stream's buffer: read it before returning. */
  event(stream: SseStream, event: Buffer): void;
  /** The stream is gone (refused, cut, ended); called once. */
  closed(stream: SseStream): void;
}

/** One stream: `GET path` on `host:port`, bound to `localAddress`. */
export class SseStream {
  readonly socket: Socket;
  private inHead = true;
  private chunked = false;
  /** Chunked encoding: body bytes left in the current chunk, then the CRLF after it. */
  private dataLeft = 0;
  private crlfLeft = 0;
  /** Bytes not consumed yet: an unfinished head, chunk-size line or event. */
  private rest: Buffer | null = null;
  private body: Buffer | null = null;
  private done = false;
  /** The pool's records of this stream (its client and the socket it sees): no closure per stream. */
  client: unknown = null;
  handle: unknown = null;

  constructor(
    host: string,
    port: number,
    path: string,
    localAddress: string,
    timeoutMs: number,
    private readonly sink: SseSink,
  ) {
    const socket = connect({ host, port, localAddress, noDelay: true });
    this.socket = socket;
    socket.setTimeout(timeoutMs, () => {
      // Only the head has a deadline: once the stream is open, keep-alives are the traffic.
      if (this.inHead) socket.destroy();
    });
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n`,
    );
    socket.on('data', (data: Buffer) => this.onData(data));
    socket.on('error', () => {
      // 'close' follows
    });
    socket.on('close', () => this.finish());
  }

  /** Cut the stream now (a TCP reset: no TIME_WAIT left behind). */
  terminate(): void {
    if (!this.socket.destroyed) this.socket.resetAndDestroy();
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.sink.closed(this);
  }

  private onData(data: Buffer): void {
    let input = this.rest === null ? data : Buffer.concat([this.rest, data]);
    this.rest = null;
    if (this.inHead) {
      const end = input.indexOf(HEAD_END);
      if (end < 0) {
        this.rest = input;
        return;
      }
      if (input.compare(STATUS_200, 0, STATUS_200.length, 0, STATUS_200.length) !== 0) {
        this.terminate();
        return;
      }
      this.chunked = /\r\ntransfer-encoding:\s*chunked/i.test(input.toString('latin1', 0, end));
      this.inHead = false;
      this.socket.setTimeout(0);
      input = input.subarray(end + HEAD_END.length);
    }
    if (!this.chunked) {
      this.onBody(input);
      return;
    }
    let at = 0;
    while (at < input.length) {
      if (this.dataLeft > 0) {
        const take = Math.min(this.dataLeft, input.length - at);
        this.onBody(input.subarray(at, at + take));
        this.dataLeft -= take;
        at += take;
        if (this.dataLeft === 0) this.crlfLeft = 2;
      } else if (this.crlfLeft > 0) {
        const take = Math.min(this.crlfLeft, input.length - at);
        this.crlfLeft -= take;
        at += take;
      } else {
        const eol = input.indexOf(CRLF, at);
        if (eol < 0) {
          this.rest = input.subarray(at);
          return;
        }
        const size = parseInt(input.toString('latin1', at, eol), 16);
        at = eol + 2;
        if (!(size > 0)) {
          // The last chunk (or garbage): the stream ended.
          this.terminate();
          return;
        }
        this.dataLeft = size;
      }
    }
  }

  /** Body bytes: split into events at blank lines. */
  private onBody(bytes: Buffer): void {
    const input = this.body === null ? bytes : Buffer.concat([this.body, bytes]);
    this.body = null;
    let start = 0;
    for (;;) {
      const end = input.indexOf(EVENT_END, start);
      if (end < 0) break;
      if (end > start) this.sink.event(this, input.subarray(start, end));
      start = end + EVENT_END.length;
    }
    // Keep the unfinished tail (copied: `bytes` may be a view of a socket buffer reused later).
    if (start < input.length) this.body = Buffer.from(input.subarray(start));
  }
}
