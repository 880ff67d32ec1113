/**
 * `client.stats`: the messages and payload bytes the client's sockets carried, checked against what `ws`
 * itself saw on the same sockets (every WebSocket message, both ways), and the UTF-8 and binary sizes.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { SwitchboardClient } from '../src/index.js';
import type {
  SocketCloseEvent,
  SocketMessageEvent,
  WebSocketConstructor,
  WebSocketLike,
} from '../src/index.js';
import { WireMeter, byteLength, utf8ByteLength } from '../src/wire-stats.js';
import { testScope } from './helpers.js';

const scope = testScope();

/** `ws`, adding up every message's bytes as `ws` sent and received them. */
function measured(): { WebSocket: WebSocketConstructor; seen: { in: number[]; out: number[] } } {
  const seen = { in: [] as number[], out: [] as number[] };
  class Measured extends WebSocket {
    constructor(url: string, protocols?: string[]) {
      super(url, protocols);
      this.on('message', (data: Buffer | ArrayBuffer) => seen.in.push(data.byteLength));
    }
    override send(data: string | Uint8Array): void {
      seen.out.push(Buffer.byteLength(data));
      super.send(data);
    }
  }
  return { WebSocket: Measured as unknown as WebSocketConstructor, seen };
}

async function until(predicate: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A socket that is not open: every send throws, as a browser's does before `open`. */
class RefusingSocket implements WebSocketLike {
  readonly listeners: ((event: SocketMessageEvent) => void)[] = [];
  send(_data: string | Uint8Array): void {
    throw new Error('not open');
  }
  close(): void {}
  addEventListener(type: 'message', listener: (event: SocketMessageEvent) => void): void;
  addEventListener(type: 'close', listener: (event: SocketCloseEvent) => void): void;
  addEventListener(type: 'error', listener: () => void): void;
  addEventListener(
    type: string,
    listener: ((event: SocketMessageEvent) => void) | ((event: SocketCloseEvent) => void) | (() => void),
  ): void {
    // The overloads above say a 'message' listener takes a message event.
    if (type === 'message') this.listeners.push(listener as (event: SocketMessageEvent) => void);
  }
}

const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0);

describe('client.stats', () => {
  it('counts every WebSocket message and its bytes, both ways, across a reconnect', async () => {
    const t = await scope.server({ heartbeatIntervalMs: 60_000, heartbeatTimeoutMs: 180_000 });
    const socket = measured();
    const client = new SwitchboardClient<{ text: string }>(t.url, {
      WebSocket: socket.WebSocket,
      backoff: { minDelayMs: 10, maxDelayMs: 10 },
    });
    scope.defer(() => client.close());
    assert.deepEqual(client.stats, { messagesIn: 0, bytesIn: 0, messagesOut: 0, bytesOut: 0 });
    const info = await client.connect();
    let seen = 0;
    client.subscribe('feed').on('message', () => seen++);
    await client.subscription('feed')?.ready();
    // Multi-byte text: stats count UTF-8 bytes, not UTF-16 units.
    await client.publish('feed', { text: 'héllo wörld 🎉 €' });
    for (let i = 0; i < 20; i++) await t.server.publish('feed', { text: `tick ${i} ✓` });
    await until(() => seen === 21, 'every message');
    await t.server.disconnectConnection(info.connectionId, { code: 4002, reason: 'test' });
    await until(() => client.state === 'connecting', 'the drop');
    await until(() => client.state === 'connected', 'the reconnect');
    await t.server.publish('feed', { text: 'after' });
    await until(() => seen === 22, 'the message after the reconnect');
    const stats = client.stats;
    assert.deepEqual(stats, {
      messagesIn: socket.seen.in.length,
      bytesIn: sum(socket.seen.in),
      messagesOut: socket.seen.out.length,
      bytesOut: sum(socket.seen.out),
    });
    assert.ok(stats.messagesIn >= 4 && stats.messagesOut >= 3, JSON.stringify(stats));
    // A copy: it does not move with later traffic.
    await t.server.publish('feed', { text: 'later' });
    await until(() => seen === 23, 'one more');
    assert.equal(stats.messagesIn, socket.seen.in.length - 1);
    assert.equal(client.stats.messagesIn, socket.seen.in.length);
  });

  it('counts MessagePack: binary messages by their length', async () => {
    const t = await scope.server({ heartbeatIntervalMs: 60_000, heartbeatTimeoutMs: 180_000 });
    const socket = measured();
    const client = new SwitchboardClient<{ text: string }>(t.url, {
      WebSocket: socket.WebSocket,
      format: 'msgpack',
    });
    scope.defer(() => client.close());
    await client.connect();
    let seen = 0;
    client.subscribe('feed').on('message', () => seen++);
    await client.subscription('feed')?.ready();
    await client.publish('feed', { text: 'héllo 🎉' });
    for (let i = 0; i < 10; i++) await t.server.publish('feed', { text: `tick ${i}` });
    await until(() => seen === 11, 'every message');
    assert.deepEqual(client.stats, {
      messagesIn: socket.seen.in.length,
      bytesIn: sum(socket.seen.in),
      messagesOut: socket.seen.out.length,
      bytesOut: sum(socket.seen.out),
    });
  });

  it('sizes text as UTF-8 and binary data by its length', () => {
    for (const text of ['', 'abc', 'é', '€', '🎉', 'a🎉b€é', '\ud800', '\udc00x', '\ud800\ud800']) {
      assert.equal(utf8ByteLength(text), Buffer.byteLength(text), JSON.stringify(text));
    }
    assert.equal(byteLength(new Uint8Array(7)), 7);
    assert.equal(byteLength(new ArrayBuffer(9)), 9);
    assert.equal(byteLength(Buffer.from('hello')), 5);
    assert.equal(byteLength([Buffer.alloc(3), Buffer.alloc(4)]), 7);
    assert.equal(byteLength(new Blob(['abcd'])), 4);
    assert.equal(byteLength(null), 0);
  });

  it('does not count a send the socket refused', () => {
    const socket = new RefusingSocket();
    const meter = new WireMeter();
    meter.attach(socket);
    assert.throws(() => socket.send('x'));
    for (const listener of socket.listeners) listener({ data: 'hé' });
    assert.deepEqual(meter.snapshot(), { messagesIn: 1, bytesIn: 3, messagesOut: 0, bytesOut: 0 });
  });
});
