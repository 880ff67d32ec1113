/**
 * Switchboard's zero-SDK Server-Sent Events streams (`GET /sse/:channel?token=`, docs/protocol.md), read
 * by {@link SseStream}. A stream is usable once its first `id:` event arrives (the hub writes it after
 * joining the channel). SSE is push only, so:
 * - a connection opened by `connect` streams the channel {@link SSE_IDLE_CHANNEL} (a stream must name
 *   one; every connection shares it, so idle figures hold one subscription per stream);
 * - a subscribe replaces the stream with one on the room's channel; its first `id:` event is the ack;
 * - what a client sends (the fan-out publisher's messages) goes up over one Switchboard WebSocket per
 *   generator process, the {@link Uplink}, so the target's publish path is the WebSocket target's.
 * Keep-alive comments count as pings (nothing answers them).
 */
import { SignJWT } from 'jose';
import WebSocket from 'ws';
import { startsWith } from './dialect.js';
import type { Dialect, FrameKind } from './dialect.js';

/** The channel every SSE connection streams until it subscribes to a room. */
export const SSE_IDLE_CHANNEL = 'bench-idle';

const COMMENT = 0x3a; // ':'
const ID = Buffer.from('id: ');
const RETRY = Buffer.from('retry:');
const DATA = Buffer.from('\ndata: ');
const MESSAGE = Buffer.from('event: message\n');

/** A signed token for user `user`. */
async function token(key: Uint8Array, user: string): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(user)
    .setIssuedAt()
    .setExpirationTime('2h')
    .sign(key);
}

/** The SSE dialect: `subscribe` returns the path of the room's stream (without the query). */
export function sseDialect(secret: string): Dialect {
  const key = new TextEncoder().encode(secret);
  return {
    async path(index) {
      return `/sse/${SSE_IDLE_CHANNEL}?token=${await token(key, `user-${index}`)}`;
    },
    readyOnOpen: false,
    classify(event: Buffer): FrameKind {
      if (event[0] === COMMENT) return 'ping';
      // `id: ...\nevent: message\ndata: {...}` (ids precede the event; ephemeral messages have none).
      const data = event.indexOf(DATA);
      if (data < 0) {
        if (startsWith(event, ID)) return 'ready';
        // The stream's first event, the reconnection delay: nothing to count.
        return startsWith(event, RETRY) ? 'handshake' : 'other';
      }
      return event.includes(MESSAGE) ? 'message' : 'other';
    },
    answer: () => null,
    subscribe: (room) => `/sse/${encodeURIComponent(room)}`,
    publish: (room, data) => `{"type":"publish","channel":${JSON.stringify(room)},"data":${data}}`,
    newlineBatches: false,
    streams: true,
  };
}

/**
 * The generator's one WebSocket for what its SSE clients send: opened on first use, messages queued
 * until the server's `connected` push, pings answered.
 */
export class Uplink {
  private ws: WebSocket | null = null;
  private ready = false;
  private opening = false;
  private closed = false;
  private queue: string[] = [];

  constructor(
    private readonly url: string,
    private readonly secret: string,
    private readonly localAddress: string,
  ) {}

  send(data: string): void {
    if (this.ready && this.ws !== null) {
      this.ws.send(data);
      return;
    }
    this.queue.push(data);
    if (!this.opening) {
      // One socket at a time: signing the token is asynchronous, and sends keep coming meanwhile.
      this.opening = true;
      void this.open();
    }
  }

  private async open(): Promise<void> {
    const jwt = await token(new TextEncoder().encode(this.secret), 'bench-uplink');
    if (this.closed) return;
    const ws = new WebSocket(`${this.url}/ws?token=${jwt}`, {
      localAddress: this.localAddress,
      perMessageDeflate: false,
    });
    this.ws = ws;
    ws.on('message', (data: Buffer) => {
      const text = data.toString();
      if (text.startsWith('{"type":"ping"')) ws.send('{"type":"pong"}');
      else if (!this.ready && text.startsWith('{"type":"connected"')) {
        this.ready = true;
        for (const queued of this.queue) ws.send(queued);
        this.queue = [];
      }
    });
    ws.on('error', () => {
      // 'close' follows
    });
    ws.on('close', () => {
      this.ws = null;
      this.ready = false;
      this.opening = false;
    });
  }

  close(): void {
    this.closed = true;
    this.ws?.terminate();
  }
}

/** An SSE stream seen as a client socket by the pool: sends go up the uplink, closing cuts the stream. */
export class StreamSocket {
  private listeners: (() => void)[] = [];
  closed = false;

  constructor(
    readonly stream: { terminate(): void },
    private readonly uplink: Uplink,
  ) {}

  send(data: string): void {
    this.uplink.send(data);
  }
  /** SSE has no close handshake: the client ends a stream by closing its connection. */
  close(): void {
    this.stream.terminate();
  }
  terminate(): void {
    this.stream.terminate();
  }
  once(_event: 'close', listener: () => void): void {
    if (this.closed) listener();
    else this.listeners.push(listener);
  }
  /** Called by the pool when the stream is gone. */
  emitClose(): void {
    this.closed = true;
    const listeners = this.listeners;
    this.listeners = [];
    for (const listener of listeners) listener();
  }
}
