/**
 * The SDK's `format: 'msgpack'` against a real server: MessagePack and JSON clients in one channel,
 * bytes both ways, requests, history, recovery across a cut, the bearer subprotocol, the fallback to
 * JSON (an older server, the HTTP transports).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { createHmac } from 'node:crypto';
import WebSocket, { WebSocketServer } from 'ws';
import { InvalidOptionError, SwitchboardClient, bytesOfTag } from '../src/index.js';
import type { ChannelMessage, ClientOptions, Subscription } from '../src/index.js';
import { ids, newClient, testScope } from './helpers.js';
import { TcpProxy } from './tcp-proxy.js';

const scope = testScope({ shutdownTimeoutMs: 200 });
const server = scope.server;
const cleanup = scope.defer;

const SECRET = 'switchboard-test-secret-0123456789-abcdefghijklm';

/** An HS256 JWT for `sub`, valid for an hour. */
function token(sub: string): string {
  const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const body = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ sub, exp: Math.floor(Date.now() / 1000) + 3600 })}`;
  // node:crypto only in the test: the SDK never signs anything.
  return `${body}.${createHmac('sha256', SECRET).update(body).digest('base64url')}`;
}

/** The next message `sub` delivers. */
function nextMessage(sub: Subscription): Promise<ChannelMessage> {
  return new Promise((resolve) => sub.once('message', resolve));
}

function msgpackClient(url: string, options: ClientOptions = {}): SwitchboardClient {
  const client = new SwitchboardClient(url, { WebSocket, format: 'msgpack', ...options });
  cleanup(() => client.close());
  return client;
}

describe("format: 'msgpack'", () => {
  it('connects over switchboard.v1.msgpack and says so in the connected info', async () => {
    const t = await server();
    const info = await msgpackClient(t.url).connect();
    assert.equal(info.format, 'msgpack');
    assert.equal(t.server.getConnection(info.connectionId)?.encoding, 'msgpack');
    const json = await newClient(t, cleanup).connect();
    assert.equal(json.format, 'json');
  });

  it('a MessagePack client and a JSON client in one channel each receive the other’s messages', async () => {
    const t = await server();
    const mp = msgpackClient(t.url);
    const json = newClient(t, cleanup);
    await Promise.all([mp.connect(), json.connect()]);
    const mpRoom = mp.subscribe('room');
    const jsonRoom = json.subscribe('room');
    await Promise.all([mpRoom.ready({ timeoutMs: 3000 }), jsonRoom.ready({ timeoutMs: 3000 })]);

    const bytes = new Uint8Array([0, 1, 2, 3, 254, 255]);
    const atJson = nextMessage(jsonRoom);
    const atMp = nextMessage(mpRoom);
    await mp.publish('room', { image: bytes, caption: 'ö', when: new Date(0) });
    const jsonGot = (await atJson).data as Record<string, unknown>;
    assert.deepEqual(jsonGot, {
      image: { $base64: 'AAECA/7/' },
      caption: 'ö',
      when: '1970-01-01T00:00:00.000Z',
    });
    assert.deepEqual(bytesOfTag(jsonGot['image']), bytes);
    assert.deepEqual(((await atMp).data as Record<string, unknown>)['image'], bytes);

    const back = nextMessage(mpRoom);
    await json.publish('room', { plain: [1, 'two', null], raw: { $base64: 'AQID' } });
    assert.deepEqual((await back).data, { plain: [1, 'two', null], raw: new Uint8Array([1, 2, 3]) });
  });

  it('requests: send() to the application hook, history() and presence, bytes included', async () => {
    const t = await server({
      historySize: 20,
      // The hook sees what a JSON client would have sent: bytes in their JSON form.
      onMessage: (_connection, data) => ({ echoed: data }),
    });
    const mp = msgpackClient(t.url);
    await mp.connect();
    const bytes = new Uint8Array([9, 9]);
    assert.deepEqual(await mp.send({ file: bytes }), { echoed: { file: bytes } });
    await mp.publish('log', bytes);
    await mp.publish('log', 'text');
    const page = await mp.history('log');
    assert.deepEqual(
      page.messages.map((m) => m.data),
      [bytes, 'text'],
    );
  });

  it('recovers what it missed across a cut, bytes and all', async () => {
    const t = await server({ historySize: 50 });
    const proxy = await TcpProxy.start(t.url);
    cleanup(() => proxy.close());
    const mp = msgpackClient(proxy.url(t.url), { backoff: { minDelayMs: 5, maxDelayMs: 20 } });
    await mp.connect();
    const feed = mp.subscribe('feed');
    await feed.ready({ timeoutMs: 3000 });
    const got = ids(feed);
    const data: unknown[] = [];
    feed.on('message', (m) => data.push(m.data));
    await t.server.publish('feed', { n: 1, b: { $base64: 'AQ==' } });
    await got.until(1);
    proxy.cut();
    for (let n = 2; n <= 4; n++) await t.server.publish('feed', { n, b: { $base64: 'AQ==' } });
    await got.until(4);
    assert.deepEqual(got.seen, [1, 2, 3, 4]);
    assert.deepEqual(
      data,
      [1, 2, 3, 4].map((n) => ({ n, b: new Uint8Array([1]) })),
    );
    assert.equal(mp.connection?.format, 'msgpack');
  });

  it('the bearer subprotocol token transport works beside switchboard.v1.msgpack', async () => {
    const t = await server({ auth: { secret: SECRET } });
    const mp = msgpackClient(t.url, { token: token('carol'), tokenTransport: 'subprotocol' });
    const info = await mp.connect();
    assert.deepEqual([info.userId, info.format], ['carol', 'msgpack']);
    const first = msgpackClient(t.url, { token: token('dave') });
    const firstInfo = await first.connect();
    assert.deepEqual([firstInfo.userId, firstInfo.format], ['dave', 'msgpack']);
  });

  it('over the HTTP transports (SSE, long polling) the client speaks JSON, and bytes arrive in their JSON form', async () => {
    const t = await server();
    for (const transport of ['sse', 'polling'] as const) {
      const c = msgpackClient(t.url, { transports: [transport] });
      const info = await c.connect();
      assert.equal(info.format, 'json', transport);
      const sub = c.subscribe(`http-${transport}`);
      await sub.ready({ timeoutMs: 3000 });
      const next = nextMessage(sub);
      await t.server.publish(`http-${transport}`, { b: { $base64: 'AQ==' } });
      assert.deepEqual((await next).data, { b: { $base64: 'AQ==' } });
      c.close();
    }
  });

  it('a server that selects switchboard.v1 (one without MessagePack) gets JSON from the client', async () => {
    const wss = new WebSocketServer({
      host: '127.0.0.1',
      port: 0,
      handleProtocols: (offered) => (offered.has('switchboard.v1') ? 'switchboard.v1' : false),
    });
    await new Promise((resolve) => wss.once('listening', resolve));
    cleanup(() => new Promise<void>((resolve) => wss.close(() => resolve())));
    let offered = '';
    const firstFrame = new Promise<{ binary: boolean; text: string }>((resolve) => {
      wss.on('connection', (socket, request) => {
        offered = request.headers['sec-websocket-protocol'] ?? '';
        socket.once('message', (data, binary) => resolve({ binary, text: String(data) }));
        socket.send(
          JSON.stringify({
            type: 'connected',
            version: 1,
            connectionId: 'c1',
            sessionId: 's1',
            userId: null,
            heartbeat: { interval: 0, timeout: 0 },
            time: Date.now(),
          }),
        );
      });
    });
    const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/ws`;
    const c = msgpackClient(url);
    const info = await c.connect();
    assert.deepEqual(
      offered.split(',').map((p) => p.trim()),
      ['switchboard.v1.msgpack', 'switchboard.v1'],
    );
    assert.equal(info.format, 'json');
    void c.publish('x', { a: 1 }).catch(() => {});
    const frame = await firstFrame;
    assert.equal(frame.binary, false);
    assert.equal((JSON.parse(frame.text) as { type: string }).type, 'publish');
  });

  it('refuses a format other than json or msgpack', () => {
    assert.throws(
      () => new SwitchboardClient('ws://127.0.0.1:1/ws', { WebSocket, format: 'cbor' as never }),
      InvalidOptionError,
    );
  });
});
