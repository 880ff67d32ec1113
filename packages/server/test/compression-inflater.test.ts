// ws-inflater.ts against the ws this repository pins: with client_no_context_takeover negotiated, no
// inflater is left on a connection after a compressed message (whole or fragmented), every message still
// inflates correctly, and a socket whose client may keep context is left to ws. Fails if an upgrade of ws
// changes the internals ws-inflater.ts relies on. The memory it saves: packages/bench micro deflate-memory.
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import type { PerMessageDeflateOptions } from 'ws';
import { releaseInflaterPerMessage, shareDeflateState } from '../src/transports/ws-inflater.js';

interface Inflater {
  _inflate: unknown;
  params: unknown;
  _options: unknown;
}

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

/** A ws server on port 0; resolves with the server-side socket of the first client, and that client. */
async function pair(
  server: PerMessageDeflateOptions,
  client: PerMessageDeflateOptions,
): Promise<{ serverSide: WebSocket; client: WebSocket; released: boolean }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: server });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  stops.push(() => new Promise<void>((resolve) => wss.close(() => resolve())));
  const accepted = new Promise<{ serverSide: WebSocket; released: boolean }>((resolve) =>
    wss.once('connection', (ws) => resolve({ serverSide: ws, released: releaseInflaterPerMessage(ws) })),
  );
  const port = (wss.address() as AddressInfo).port;
  const ws = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: { ...client, threshold: 0 } });
  stops.push(async () => ws.terminate());
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ...(await accepted), client: ws };
}

function extensionOf(ws: WebSocket): Inflater {
  return (ws as unknown as { _extensions: Record<string, Inflater> })._extensions[
    'permessage-deflate'
  ] as Inflater;
}

function nextMessage(ws: WebSocket): Promise<string> {
  return new Promise((resolve) => ws.once('message', (data) => resolve(String(data))));
}

describe('no inflater kept between compressed messages (ws-inflater.ts)', () => {
  it('closes the inflater after every compressed message, whole or fragmented, and inflates each right', async () => {
    const { serverSide, client, released } = await pair(
      { clientNoContextTakeover: true, threshold: Number.MAX_SAFE_INTEGER },
      {},
    );
    assert.equal(released, true);
    const extension = extensionOf(serverSide);
    assert.equal(extension._inflate, null);
    for (let i = 0; i < 3; i++) {
      const text = JSON.stringify({ type: 'publish', n: i, body: 'abc'.repeat(200) });
      const received = nextMessage(serverSide);
      client.send(text, { compress: true });
      assert.equal(await received, text);
      assert.equal(extension._inflate, null, `no inflater kept after message ${i}`);
    }
    const parts = ['{"fragmented":"', 'x'.repeat(3000), '"}'];
    const received = nextMessage(serverSide);
    parts.forEach((part, i) => client.send(part, { compress: true, fin: i === parts.length - 1 }));
    assert.equal(await received, parts.join(''));
    assert.equal(extension._inflate, null);
  });

  it('shares the negotiated parameters and options between connections (frozen), and still inflates', async () => {
    const wss = new WebSocketServer({
      port: 0,
      host: '127.0.0.1',
      perMessageDeflate: { clientNoContextTakeover: true, threshold: Number.MAX_SAFE_INTEGER },
    });
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    stops.push(() => new Promise<void>((resolve) => wss.close(() => resolve())));
    const serverSides: WebSocket[] = [];
    wss.on('connection', (ws) => {
      assert.equal(shareDeflateState(ws), true);
      assert.equal(releaseInflaterPerMessage(ws), true);
      serverSides.push(ws);
    });
    for (let i = 0; i < 2; i++) {
      const ws = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, {
        perMessageDeflate: { threshold: 0 },
      });
      stops.push(async () => ws.terminate());
      await new Promise((resolve) => ws.once('open', resolve));
      const [serverSide] = serverSides.slice(-1);
      assert.ok(serverSide !== undefined);
      const received = nextMessage(serverSide);
      ws.send('z'.repeat(1500), { compress: true });
      assert.equal(await received, 'z'.repeat(1500));
    }
    const [a, b] = serverSides.map(extensionOf);
    assert.ok(a !== undefined && b !== undefined);
    assert.equal(a.params, b.params);
    assert.equal(a._options, b._options);
    assert.ok(Object.isFrozen(a.params) && Object.isFrozen(a._options));
    assert.deepEqual({ ...(a.params as object) }, { client_no_context_takeover: true });
  });

  it('leaves a socket alone when the client may keep its compression context', async () => {
    const { serverSide, client, released } = await pair({ threshold: Number.MAX_SAFE_INTEGER }, {});
    assert.equal(released, false);
    const received = nextMessage(serverSide);
    client.send('y'.repeat(2000), { compress: true });
    assert.equal(await received, 'y'.repeat(2000));
    assert.notEqual(extensionOf(serverSide)._inflate, null, "ws's own behaviour: the inflater is kept");
  });

  it('answers false for a socket without permessage-deflate', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    stops.push(() => new Promise<void>((resolve) => wss.close(() => resolve())));
    const answer = new Promise<boolean>((resolve) =>
      wss.once('connection', (ws) => resolve(releaseInflaterPerMessage(ws))),
    );
    const ws = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
    ws.on('error', () => {});
    stops.push(async () => ws.terminate());
    assert.equal(await answer, false);
    await new Promise((resolve) => ws.once('open', resolve));
  });
});
