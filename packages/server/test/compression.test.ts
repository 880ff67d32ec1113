// permessage-deflate (RFC 7692) with the ws client: negotiation, the shared compressed frames of a
// fan-out read by a client that negotiated it beside one that did not, inflation of what clients send,
// and a decompression bomb refused with 1009 without disturbing anyone else.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import type { ClientOptions, PerMessageDeflateOptions } from 'ws';
import { TestClient, startServer, waitMembers } from './helpers.js';
import type { TestServer } from './helpers.js';

/** A compressible message payload of about `bytes` (JSON with repeated keys, like a ticker's). */
function ticks(count: number, seq = 0): { rows: { symbol: string; price: number; volume: number }[] } {
  const rows = [];
  for (let i = 0; i < count; i++)
    rows.push({ symbol: `SYM${i % 20}`, price: 100 + i + seq, volume: 1000 * i });
  return { rows };
}

/**
 * A v1 client that also exposes its TCP socket (from the upgrade response), to count wire bytes, and the
 * extensions the server answered with.
 */
async function client(
  t: TestServer,
  options: ClientOptions = {},
): Promise<{ c: TestClient; socket: Socket; extensions: string }> {
  // ws clients offer permessage-deflate unless told not to.
  const ws = new WebSocket(`${t.wsUrl}/ws`, { perMessageDeflate: false, ...options });
  const c = new TestClient(ws);
  let extensions = '';
  const socket = await new Promise<Socket>((resolve, reject) => {
    let upgraded: Socket | undefined;
    ws.once('upgrade', (response) => {
      upgraded = response.socket as Socket;
      extensions = response.headers['sec-websocket-extensions'] ?? '';
    });
    ws.once('open', () => (upgraded === undefined ? reject(new Error('no upgrade')) : resolve(upgraded)));
    ws.once('error', reject);
  });
  await c.nextOfType('connected');
  return { c, socket, extensions };
}

async function subscribe(c: TestClient, channel: string, id = 1): Promise<void> {
  const reply = await c.request({ id, type: 'subscribe', channel });
  assert.equal(reply['error'], undefined, JSON.stringify(reply));
}

describe('permessage-deflate', () => {
  let t: TestServer;
  before(async () => {
    t = await startServer({
      compression: { enabled: true },
      channels: [{ pattern: 'plain:*', compress: false }],
      maxMessageBytes: 65_536,
    });
  });
  after(async () => {
    await t.stop();
  });

  it('negotiates no context takeover both ways and a small client window', async () => {
    const { c, extensions } = await client(t, { perMessageDeflate: true });
    assert.match(extensions, /^permessage-deflate/);
    assert.match(extensions, /server_no_context_takeover/);
    assert.match(extensions, /client_no_context_takeover/);
    assert.match(extensions, /client_max_window_bits=10/);
    c.close();
  });

  it('leaves out client_max_window_bits for a client that did not offer it (RFC 7692 7.1.2.2)', async () => {
    // ws offers no client_max_window_bits when told false (its docs; its types say number only).
    const noWindow = { clientMaxWindowBits: false } as unknown as PerMessageDeflateOptions;
    const { c, extensions } = await client(t, { perMessageDeflate: noWindow });
    assert.match(extensions, /server_no_context_takeover/);
    assert.doesNotMatch(extensions, /client_max_window_bits/);
    c.close();
  });

  it('opens without compression, not a failure, for an offer the server cannot take', async () => {
    // A server window under 15 bits: the shared frames are compressed with 15.
    const { c, extensions } = await client(t, { perMessageDeflate: { serverMaxWindowBits: 10 } });
    assert.equal(extensions, '');
    c.close();
  });

  it('opens without compression for a malformed offer', async () => {
    const { c, extensions } = await client(t, {
      headers: { 'Sec-WebSocket-Extensions': 'permessage-deflate; server_max_window_bits=99' },
    });
    assert.equal(extensions, '');
    c.close();
  });

  it('writes one compressed frame to negotiating clients and the plain frame to the others', async () => {
    const deflating = await client(t, { perMessageDeflate: true });
    const second = await client(t, { perMessageDeflate: true });
    const plain = await client(t);
    assert.equal(plain.extensions, '');
    for (const x of [deflating, second, plain]) await subscribe(x.c, 'ticker:mix');
    await waitMembers(t, 'ticker:mix', 3);
    const before = [deflating, second, plain].map((x) => x.socket.bytesRead);
    // Large and small messages in a row: no context may carry from one to the next.
    const sent: unknown[] = [];
    for (let i = 0; i < 40; i++) {
      const data = i % 3 === 0 ? { small: i } : ticks(60, i);
      sent.push(data);
      await t.server.publish('ticker:mix', data);
    }
    for (const x of [deflating, second, plain]) {
      for (const data of sent) assert.deepEqual((await x.c.nextOfType('message', 10_000))['data'], data);
    }
    const read = [deflating, second, plain].map((x, i) => x.socket.bytesRead - (before[i] ?? 0));
    const [d = 0, s = 0, p = 0] = read;
    assert.equal(d, s, 'both negotiating clients read the same bytes');
    assert.ok(d < p / 3, `compressed ${d} bytes vs plain ${p}`);
    for (const x of [deflating, second, plain]) x.c.close();
  });

  it('sends frames under the threshold, and a channel whose rule says compress: false, plain', async () => {
    const deflating = await client(t, { perMessageDeflate: true });
    const plain = await client(t);
    await subscribe(deflating.c, 'plain:one');
    await subscribe(plain.c, 'plain:one');
    await waitMembers(t, 'plain:one', 2);
    const before = [deflating.socket.bytesRead, plain.socket.bytesRead];
    await t.server.publish('plain:one', ticks(60));
    for (const x of [deflating, plain])
      assert.deepEqual((await x.c.nextOfType('message'))['data'], ticks(60));
    assert.equal(deflating.socket.bytesRead - (before[0] ?? 0), plain.socket.bytesRead - (before[1] ?? 0));
    // A reply under the threshold: the same bytes on both.
    const b2 = [deflating.socket.bytesRead, plain.socket.bytesRead];
    await deflating.c.request({ id: 7, type: 'unsubscribe', channel: 'plain:one' });
    await plain.c.request({ id: 7, type: 'unsubscribe', channel: 'plain:one' });
    assert.equal(deflating.socket.bytesRead - (b2[0] ?? 0), plain.socket.bytesRead - (b2[1] ?? 0));
    deflating.c.close();
    plain.c.close();
  });

  it('compresses a large reply of its own (history) for a negotiating client', async () => {
    for (let i = 0; i < 20; i++) await t.server.publish('ticker:history', ticks(20, i));
    const deflating = await client(t, { perMessageDeflate: true });
    const plain = await client(t);
    const read = async (x: { c: TestClient; socket: Socket }): Promise<number> => {
      const start = x.socket.bytesRead;
      const reply = await x.c.request({ id: 3, type: 'history', channel: 'ticker:history', limit: 20 });
      const result = reply['result'] as { messages: unknown[] };
      assert.equal(result.messages.length, 20);
      return x.socket.bytesRead - start;
    };
    const d = await read(deflating);
    const p = await read(plain);
    assert.ok(d < p / 3, `compressed reply ${d} bytes vs plain ${p}`);
    deflating.c.close();
    plain.c.close();
  });

  it('inflates compressed frames from a client, one after another', async () => {
    // threshold 0: the ws client compresses every message it sends, with no context takeover (asked).
    const sender = await client(t, { perMessageDeflate: { threshold: 0 } });
    const reader = await client(t);
    await subscribe(reader.c, 'ticker:up');
    await subscribe(sender.c, 'ticker:up', 2);
    await waitMembers(t, 'ticker:up', 2);
    for (let i = 0; i < 20; i++) {
      sender.c.send({ type: 'publish', channel: 'ticker:up', data: i % 2 === 0 ? ticks(30, i) : { n: i } });
    }
    for (let i = 0; i < 20; i++) {
      const message = await reader.c.nextOfType('message', 10_000);
      assert.deepEqual(message['data'], i % 2 === 0 ? ticks(30, i) : { n: i });
    }
    sender.c.close();
    reader.c.close();
  });

  it('closes a client whose compressed message inflates past maxMessageBytes with 1009, and only it', async () => {
    const bystander = await client(t, { perMessageDeflate: true });
    await subscribe(bystander.c, 'ticker:bomb');
    await waitMembers(t, 'ticker:bomb', 1);
    const bomber = await client(t, { perMessageDeflate: { threshold: 0 } });
    // 8 MiB of one character: about 8 KB compressed, well under the limit on the wire.
    const bomb = JSON.stringify({ type: 'publish', channel: 'ticker:bomb', data: 'a'.repeat(8 << 20) });
    bomber.c.ws.send(bomb);
    const closed = await bomber.c.closed;
    assert.equal(closed.code, 1009);
    await t.server.publish('ticker:bomb', ticks(60));
    assert.deepEqual((await bystander.c.nextOfType('message'))['data'], ticks(60));
    assert.equal(bystander.c.ws.readyState, WebSocket.OPEN);
    bystander.c.close();
  });
});

describe('permessage-deflate off (the default)', () => {
  it('never negotiates it', async () => {
    const t = await startServer();
    try {
      const { c, extensions } = await client(t, { perMessageDeflate: true });
      assert.equal(extensions, '');
      c.close();
    } finally {
      await t.stop();
    }
  });
});
