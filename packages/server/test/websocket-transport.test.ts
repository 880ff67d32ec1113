// The transport contract against WebSocketTransport: ws in no-server mode on a node:http server on port
// 0, each peer a ws client on a TCP socket the fixture opens (so it can write before the handshake ends,
// reset the connection and count frames below the client library).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect as netConnect } from 'node:net';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { JSON_SUBPROTOCOL, MSGPACK_SUBPROTOCOL } from '@switchboard/protocol';
import { WebSocketTransport } from '../src/transports/websocket-transport.js';
import { PreparedFrame } from '../src/transports/transport.js';
import type { TransportSocket } from '../src/transports/transport.js';
import { HandleRecorder, transportContract } from './transport-contract.js';
import type {
  OpenOptions,
  TransportConnection,
  TransportFixture,
  TransportPeer,
} from './transport-contract.js';
import { Changes, until } from './helpers.js';
import type { CloseEvent } from './helpers.js';

/** The request header that tells the server which `open()` an upgrade belongs to. */
const CONNECTION_ID = 'x-test-connection';

/**
 * A masked client text frame (RFC 6455, 5.3: clients mask), for the peer's early frames: they are
 * written with the upgrade request, before ws has a socket to send them on.
 */
function clientTextFrame(text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  if (payload.length > 125) throw new RangeError('early frames use the 7-bit length');
  const mask = randomBytes(4);
  const masked = payload.map((byte, i) => byte ^ (mask[i & 3] ?? 0));
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]);
}

/**
 * Counts the server's frames on the peer's TCP stream after the 101 response, to see what a ws client
 * never shows: it stops reading frames at the close frame and drops the rest.
 */
class ServerFrameCounter {
  /** Frames seen after the first close frame. */
  afterClose = 0;
  private closeSeen = false;
  private header: number[] = [];
  private payloadLeft = 0;

  feed(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.payloadLeft > 0) {
        const skipped = Math.min(this.payloadLeft, chunk.length - at);
        this.payloadLeft -= skipped;
        at += skipped;
        continue;
      }
      this.header.push(chunk[at++] ?? 0);
      const length7 = (this.header[1] ?? 0) & 0x7f;
      const headerLength = this.header.length < 2 ? 2 : length7 === 127 ? 10 : length7 === 126 ? 4 : 2;
      if (this.header.length < headerLength) continue;
      const bytes = Buffer.from(this.header);
      this.payloadLeft =
        length7 === 127
          ? Number(bytes.readBigUInt64BE(2))
          : length7 === 126
            ? bytes.readUInt16BE(2)
            : length7;
      if (this.closeSeen) this.afterClose++;
      if (((this.header[0] ?? 0) & 0x0f) === 0x8) this.closeSeen = true;
      this.header = [];
    }
  }
}

/** A ws client on a TCP socket of the fixture's. */
class WebSocketPeer implements TransportPeer {
  readonly messages: string[] = [];
  readonly pongs: string[] = [];
  readonly closed: Promise<CloseEvent>;
  /** Resolves when the handshake is done; rejects if it fails. */
  readonly opened: Promise<void>;
  private readonly changes = new Changes();
  private readonly frames = new ServerFrameCounter();
  private error: Error | undefined;

  constructor(
    private readonly ws: WebSocket,
    private readonly tcp: Socket,
  ) {
    ws.on('message', (data: Buffer, isBinary) => {
      this.messages.push(isBinary ? '<binary>' : data.toString('utf8'));
      this.changes.notify();
    });
    ws.on('pong', (data: Buffer) => {
      this.pongs.push(data.toString('utf8'));
      this.changes.notify();
    });
    ws.on('error', (error) => (this.error = error));
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') })),
    );
    this.opened = new Promise((resolve, reject) => {
      ws.once('open', () => {
        // ws has just taken the socket over (and put back any bytes that came with the 101): from here
        // on every byte the socket reads is a frame, seen once by ws and once here.
        tcp.on('data', (chunk: Buffer) => this.frames.feed(chunk));
        resolve();
      });
      ws.once('close', () => reject(this.error ?? new Error('the peer closed before it opened')));
    });
  }

  received(count: number, timeoutMs = 5000): Promise<void> {
    return this.changes.until(
      () => this.messages.length >= count,
      () =>
        `${count} messages (${this.messages.length} so far${this.error ? `; ${this.error.message}` : ''})`,
      timeoutMs,
    );
  }

  until(predicate: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    return this.changes.until(predicate, what, timeoutMs);
  }

  framesAfterClose(): number {
    return this.frames.afterClose;
  }
  pause(): void {
    this.ws.pause();
  }
  resume(): void {
    this.ws.resume();
  }
  sendText(text: string): void {
    this.ws.send(text);
  }
  sendBinary(data: Uint8Array): void {
    this.ws.send(data, { binary: true });
  }
  sendPing(data: Uint8Array): void {
    this.ws.ping(data);
  }
  sendPong(data: Uint8Array): void {
    this.ws.pong(data);
  }
  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }
  drop(): void {
    this.tcp.resetAndDestroy();
  }
  terminate(): void {
    this.ws.terminate();
  }
}

/** A node:http server on port 0 whose upgrades go to one WebSocketTransport. */
const MAX_MESSAGE_BYTES = 1024 * 1024;

async function websocketFixture(): Promise<TransportFixture> {
  const transport = new WebSocketTransport({ maxPayload: MAX_MESSAGE_BYTES });
  const server = createServer((_request, response) => response.writeHead(426).end());
  /** Every server-side socket, dropped at teardown (upgraded sockets keep server.close() waiting). */
  const sockets = new Set<Duplex>();
  const peers = new Set<WebSocketPeer>();
  const pending = new Map<
    string,
    {
      handle: HandleRecorder;
      early: boolean;
      accepted(socket: TransportSocket): void;
      failed(error: Error): void;
    }
  >();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('upgrade', (request, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy()); // until ws takes the socket over, as server.ts does
    const id = request.headers[CONNECTION_ID];
    const waiting = typeof id === 'string' ? pending.get(id) : undefined;
    if (waiting === undefined || typeof id !== 'string') return void socket.destroy();
    pending.delete(id);
    if (waiting.early && head.length === 0) {
      // Not a transport fault, but the early-frames case would not test what it says it does.
      waiting.failed(new Error('the early frames did not arrive with the upgrade request'));
      return void socket.destroy();
    }
    transport.upgrade(request, socket, head, (transportSocket) => {
      waiting.accepted(transportSocket);
      return waiting.handle;
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let opened = 0;

  return {
    kind: 'websocket',
    abruptCloseCode: 1006,
    maxMessageBytes: MAX_MESSAGE_BYTES,
    messageTooBigCode: 1009,
    async open(options: OpenOptions = {}): Promise<TransportConnection> {
      const id = String(++opened);
      const handle = new HandleRecorder();
      const early = (options.earlyText ?? []).map(clientTextFrame);
      const accepted = new Promise<TransportSocket>((resolve, reject) =>
        pending.set(id, { handle, early: early.length > 0, accepted: resolve, failed: reject }),
      );
      const tcp = netConnect({ host: '127.0.0.1', port });
      if (early.length > 0) {
        // The upgrade request is queued before the connection is up; hold it, and send the frames in
        // the same write, so they reach the server inside the upgrade's `head`.
        tcp.cork();
        tcp.once('connect', () => {
          tcp.write(Buffer.concat(early));
          tcp.uncork();
        });
      }
      const ws = new WebSocket(`ws://127.0.0.1:${port}/`, {
        headers: { [CONNECTION_ID]: id },
        createConnection: () => tcp,
      });
      const peer = new WebSocketPeer(ws, tcp);
      peers.add(peer);
      const [socket] = await Promise.all([accepted, peer.opened]);
      return { socket, handle, peer };
    },
    async close(): Promise<void> {
      for (const peer of peers) peer.terminate();
      for (const socket of sockets) socket.destroy();
      await transport.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

transportContract('WebSocket', websocketFixture);

describe('WebSocket: a connection that chose switchboard.v1.msgpack', () => {
  /** A server of one WebSocketTransport speaking both encodings, and a peer offering `protocols`. */
  async function open(protocols: string[] | undefined): Promise<{
    socket: TransportSocket;
    handle: HandleRecorder;
    ws: WebSocket;
    received: { data: Buffer; binary: boolean }[];
    stop: () => Promise<void>;
  }> {
    const transport = new WebSocketTransport({
      maxPayload: MAX_MESSAGE_BYTES,
      protocols: [JSON_SUBPROTOCOL, MSGPACK_SUBPROTOCOL],
    });
    const handle = new HandleRecorder();
    let accepted: (socket: TransportSocket) => void = () => {};
    const socketPromise = new Promise<TransportSocket>((resolve) => (accepted = resolve));
    const server = createServer();
    server.on('upgrade', (request, socket: Duplex, head: Buffer) => {
      socket.on('error', () => socket.destroy());
      transport.upgrade(request, socket, head, (transportSocket) => {
        accepted(transportSocket);
        return handle;
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`, protocols);
    const received: { data: Buffer; binary: boolean }[] = [];
    ws.on('message', (data: Buffer, binary) => received.push({ data, binary }));
    await new Promise((resolve) => ws.once('open', resolve));
    const socket = await socketPromise;
    const stop = async (): Promise<void> => {
      ws.terminate();
      await transport.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    };
    return { socket, handle, ws, received, stop };
  }

  test('the encoding follows the subprotocol selected: msgpack, else json', async () => {
    for (const [protocols, encoding] of [
      [[MSGPACK_SUBPROTOCOL], 'msgpack'],
      [[MSGPACK_SUBPROTOCOL, JSON_SUBPROTOCOL], 'msgpack'],
      [[JSON_SUBPROTOCOL, MSGPACK_SUBPROTOCOL], 'json'],
      [undefined, 'json'],
    ] as const) {
      const { socket, stop } = await open(protocols === undefined ? undefined : [...protocols]);
      assert.equal(socket.encoding, encoding, String(protocols));
      await stop();
    }
  });

  test('binary messages arrive as receiveBinary, text ones as receiveUnsupported', async () => {
    const { handle, ws, stop } = await open([MSGPACK_SUBPROTOCOL]);
    ws.send(new Uint8Array([0x81, 0xa1, 0x61, 0x01]));
    ws.send('{"type":"ping"}');
    await handle.until(() => handle.calls.length >= 2, 'two calls');
    assert.deepEqual(handle.calls, [
      { method: 'receiveBinary', bytes: [0x81, 0xa1, 0x61, 0x01] },
      { method: 'receiveUnsupported' },
    ]);
    await stop();
  });

  test('send() and sendPrepared() write binary messages, small and large, byte for byte', async () => {
    const { socket, received, stop } = await open([MSGPACK_SUBPROTOCOL]);
    const small = Buffer.from([0x91, 0x01]);
    const large = randomBytes(70_000);
    socket.send(small);
    socket.send(large);
    const prepared = new PreparedFrame(Buffer.from([0x80]), true);
    socket.sendPrepared(prepared);
    socket.sendPrepared(prepared);
    await until(() => received.length >= 4, 5000, 'four messages');
    assert.deepEqual(
      received.map((m) => [m.binary, m.data.length]),
      [
        [true, 2],
        [true, 70_000],
        [true, 1],
        [true, 1],
      ],
    );
    assert.deepEqual(received[1]?.data, large);
    await stop();
  });
});
