// Protocol v1 in MessagePack (`switchboard.v1.msgpack`) over real sockets: negotiation, JSON and
// MessagePack clients sharing channels (bytes one way, plain values the other), every bad input answered
// as its JSON twin is, batches, history and recovery. The MessagePack client here is a third party's:
// raw `ws` and `@msgpack/msgpack`'s own encode, nothing of Switchboard's on the way up (TestClient reads
// binary messages with the protocol package's reader, to queue their frames).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { ExtData, decodeMulti, encode } from '@msgpack/msgpack';
import { connect, connectV1, startServer, until, upgradeStatus, withServer } from './helpers.js';
import type { TestClient, TestServer } from './helpers.js';
import { SECRET, hsToken } from './auth-fixtures.js';

const MSGPACK = 'switchboard.v1.msgpack';
const JSON_V1 = 'switchboard.v1';
const API_KEY = 'test-api-key-0123456789abcdef';

/** A MessagePack client of `/ws` (or `/ws?query`): offers `protocols`, consumes `connected`. */
async function connectMsgpack(
  t: TestServer,
  query = '',
  protocols: string[] = [MSGPACK],
): Promise<{ client: TestClient; connected: Record<string, unknown> }> {
  const ws = await connect(`${t.wsUrl}/ws${query}`, {}, protocols);
  return { client: ws, connected: await ws.nextOfType('connected') };
}

/** Send `command` as MessagePack and await its reply. */
async function request(
  client: TestClient,
  command: Record<string, unknown> & { id: number },
): Promise<Record<string, unknown>> {
  const reply = client.reply(command.id);
  client.send(encode(command));
  return reply;
}

describe('negotiation', () => {
  let t: TestServer;
  before(async () => {
    t = await startServer({ auth: { secret: SECRET, allowAnonymous: true } });
  });
  after(() => t.stop());

  /** The subprotocol the server selects for `offered`, and the kind of the first message it sends. */
  async function select(
    offered: string[] | undefined,
    query = '',
  ): Promise<{ protocol: string; binary: boolean }> {
    const ws = new WebSocket(`${t.wsUrl}/ws${query}`, offered);
    const first = await new Promise<boolean>((resolve, reject) => {
      ws.once('message', (_data, isBinary) => resolve(isBinary));
      ws.once('error', reject);
    });
    const protocol = ws.protocol;
    ws.close();
    return { protocol, binary: first };
  }

  test('switchboard.v1.msgpack is selected when offered, and every frame is then a binary message', async () => {
    assert.deepEqual(await select([MSGPACK]), { protocol: MSGPACK, binary: true });
    assert.deepEqual(await select(undefined), { protocol: '', binary: false });
    assert.deepEqual(await select([JSON_V1]), { protocol: JSON_V1, binary: false });
  });

  test("of the two, the client's first choice wins (a client offers JSON as its fallback)", async () => {
    assert.deepEqual(await select([MSGPACK, JSON_V1]), { protocol: MSGPACK, binary: true });
    assert.deepEqual(await select([JSON_V1, MSGPACK]), { protocol: JSON_V1, binary: false });
    assert.deepEqual(await select(['chat', MSGPACK]), { protocol: MSGPACK, binary: true });
  });

  test('a bearer subprotocol beside switchboard.v1.msgpack authenticates, and is never selected', async () => {
    const token = await hsToken({ sub: 'alice' });
    const ws = await connect(`${t.wsUrl}/ws`, {}, [MSGPACK, `switchboard.bearer.${token}`]);
    assert.equal(ws.ws.protocol, MSGPACK);
    const connected = await ws.nextOfType('connected');
    assert.equal(connected['userId'], 'alice');
    ws.close();
    const alone = await upgradeStatus(`${t.wsUrl}/ws`, {}, [`switchboard.bearer.${token}`]);
    assert.equal(alone.status, 401);
  });

  test('a format query parameter is refused with 400: the format is negotiated, never asked for in the URL', async () => {
    const refused = await upgradeStatus(`${t.wsUrl}/ws?format=msgpack`);
    assert.equal(refused.status, 400);
    assert.match(refused.body, /subprotocol/);
  });

  test('the room dialect speaks JSON only: an upgrade offering MessagePack is refused with 400', async () => {
    const refused = await upgradeStatus(`${t.wsUrl}/ws/lobby`, {}, [MSGPACK, JSON_V1]);
    assert.equal(refused.status, 400);
    const room = await connect(`${t.wsUrl}/ws/lobby`, {}, [JSON_V1]);
    assert.equal(room.ws.protocol, JSON_V1);
    room.close();
  });

  test('the connected push and replies arrive as MessagePack maps', async () => {
    const { client, connected } = await connectMsgpack(t);
    assert.equal(connected['version'], 1);
    assert.equal(typeof connected['connectionId'], 'string');
    assert.deepEqual((await request(client, { type: 'ping', id: 1 }))['result'], {});
    client.close();
  });
});

describe('JSON and MessagePack clients in one channel', () => {
  let t: TestServer;
  let json: TestClient;
  let msgpack: TestClient;
  before(async () => {
    t = await startServer({ historySize: 50, apiKey: API_KEY });
    json = (await connectV1(t)).client;
    msgpack = (await connectMsgpack(t)).client;
    await json.request({ id: 1, type: 'subscribe', channel: 'room' });
    await request(msgpack, { id: 1, type: 'subscribe', channel: 'room' });
  });
  after(async () => {
    json.close();
    msgpack.close();
    await t.stop();
  });

  test("each receives the other's messages: bytes reach JSON as {$base64}, and come back as bytes", async () => {
    const bytes = new Uint8Array([0, 1, 2, 250, 255]);
    const published = await request(msgpack, {
      type: 'publish',
      id: 2,
      channel: 'room',
      data: { text: 'hé 😀', n: 1.5, list: [1, null, true], file: bytes },
    });
    const id = (published['result'] as { id: number }).id;
    const atJson = await json.nextOfType('message');
    assert.deepEqual(atJson, {
      type: 'message',
      channel: 'room',
      id,
      data: { text: 'hé 😀', n: 1.5, list: [1, null, true], file: { $base64: 'AAEC+v8=' } },
      time: atJson['time'],
    });
    const atMsgpack = await msgpack.nextOfType('message');
    assert.deepEqual(atMsgpack['data'], { text: 'hé 😀', n: 1.5, list: [1, null, true], file: bytes });
  });

  test('what a JSON client publishes reaches MessagePack as plain values (its {$base64} objects as bytes)', async () => {
    await json.request({
      id: 3,
      type: 'publish',
      channel: 'room',
      data: { a: [1, 'x', { b: false }], raw: { $base64: '3q2+7w==' }, notBytes: { $base64: 'not base64' } },
    });
    assert.deepEqual((await msgpack.nextOfType('message'))['data'], {
      a: [1, 'x', { b: false }],
      raw: new Uint8Array([0xde, 0xad, 0xbe, 0xef]),
      notBytes: { $base64: 'not base64' },
    });
    await json.nextOfType('message');
  });

  test('the HTTP API and the library publish JSON; MessagePack subscribers get the same values', async () => {
    const response = await fetch(`${t.httpUrl}/api/publish`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
      body: JSON.stringify({ channel: 'room', data: { via: 'http', bin: { $base64: 'AQ==' } } }),
    });
    assert.ok(response.ok, String(response.status));
    assert.deepEqual((await msgpack.nextOfType('message'))['data'], {
      via: 'http',
      bin: new Uint8Array([1]),
    });
    await t.server.publish('room', { via: 'library' });
    assert.deepEqual((await msgpack.nextOfType('message'))['data'], { via: 'library' });
    await json.nextOfType('message');
    await json.nextOfType('message');
  });

  test('history and recovery over MessagePack carry the bytes', async () => {
    const bytes = new Uint8Array([7, 7, 7]);
    const first = await request(msgpack, { type: 'publish', id: 4, channel: 'room', data: bytes });
    const firstId = (first['result'] as { id: number }).id;
    await request(msgpack, { type: 'publish', id: 5, channel: 'room', data: 'after' });
    const history = (await request(msgpack, { type: 'history', id: 6, channel: 'room', since: firstId - 1 }))[
      'result'
    ] as { messages: { id: number; data: unknown }[]; epoch: string };
    assert.deepEqual(
      history.messages.map((m) => m.data),
      [bytes, 'after'],
    );
    const late = (await connectMsgpack(t)).client;
    const recovered = (
      await request(late, {
        type: 'subscribe',
        id: 1,
        channel: 'room',
        since: { offset: firstId - 1, epoch: history.epoch },
      })
    )['result'] as { recovered: boolean; messages: { data: unknown }[] };
    assert.equal(recovered.recovered, true);
    assert.deepEqual(
      recovered.messages.map((m) => m.data),
      [bytes, 'after'],
    );
    late.close();
    for (let i = 0; i < 2; i++) {
      await json.nextOfType('message');
      await msgpack.nextOfType('message');
    }
  });

  test('direct messages and broadcasts reach a MessagePack connection too', async () => {
    await t.server.broadcast({ all: { $base64: 'AA==' } });
    assert.deepEqual((await msgpack.nextOfType('broadcast'))['data'], { all: new Uint8Array([0]) });
    assert.deepEqual((await json.nextOfType('broadcast'))['data'], { all: { $base64: 'AA==' } });
  });
});

describe('batched frames (?batch=1): MessagePack values back to back in one binary message', () => {
  test('a channel batch reaches a MessagePack client as one message of several values, in order', async () => {
    await withServer({ batchDelayMs: 200 }, async (t) => {
      const ws = new WebSocket(`${t.wsUrl}/ws?batch=1`, [MSGPACK]);
      const messages: unknown[][] = [];
      ws.on('message', (data: Buffer, isBinary) => {
        assert.ok(isBinary);
        messages.push([...decodeMulti(new Uint8Array(data))]);
      });
      await new Promise((resolve) => ws.once('open', resolve));
      const send = (value: unknown): void => ws.send(encode(value));
      send({ type: 'subscribe', id: 1, channel: 'ticker' });
      const frames = (): { type: string }[] => messages.flat() as { type: string }[];
      await until(() => frames().some((f) => f.type === 'reply'), 5000, 'the subscribe reply');
      for (let i = 0; i < 5; i++) await t.server.publish('ticker', { price: i, bytes: { $base64: 'AQI=' } });
      await until(() => frames().filter((f) => f.type === 'message').length >= 5, 5000, 'five messages');
      const batched = messages.filter((m) => m.some((f) => (f as { type: string }).type === 'message'));
      assert.ok(batched.length < 5, `${batched.length} WebSocket messages for 5 channel messages`);
      assert.deepEqual(
        batched.flat().map((f) => (f as { data: unknown }).data),
        [0, 1, 2, 3, 4].map((price) => ({ price, bytes: new Uint8Array([1, 2]) })),
      );
      ws.close();
    });
  });
});

describe('bad MessagePack frames get the answers of their JSON twins', () => {
  let t: TestServer;
  before(async () => {
    t = await startServer({ maxMessageBytes: 4096, errorBurst: 5, errorRefillPerSecond: 0.001 });
  });
  after(() => t.stop());

  /** The first error frame each connection gets for `value` sent as JSON and as MessagePack. */
  async function answers(value: unknown): Promise<[Record<string, unknown>, Record<string, unknown>]> {
    const json = (await connectV1(t)).client;
    const msgpack = (await connectMsgpack(t)).client;
    json.send(JSON.stringify(value));
    msgpack.send(encode(value));
    const isError = (m: Record<string, unknown>): boolean => m['type'] === 'error' || m['type'] === 'reply';
    const result: [Record<string, unknown>, Record<string, unknown>] = [
      await json.next(isError),
      await msgpack.next(isError),
    ];
    // The connections stay.
    assert.deepEqual((await json.request({ id: 999, type: 'ping' }))['result'], {});
    assert.deepEqual((await request(msgpack, { id: 999, type: 'ping' }))['result'], {});
    json.close();
    msgpack.close();
    return result;
  }

  /** The code (and id) of an error frame, without its message. */
  const codeOf = (frame: Record<string, unknown>): unknown =>
    frame['type'] === 'error'
      ? ['push', frame['code']]
      : ['reply', frame['id'], (frame['error'] as { code: string }).code];

  test('shapes, ids, types, channels, fields, depth and numbers: the same code, the same id', async () => {
    const deep = (depth: number): unknown => (depth === 0 ? 1 : [deep(depth - 1)]);
    const cases: unknown[] = [
      [1, 2, 3],
      42,
      'subscribe',
      null,
      { id: 5, type: 'teleport' },
      { id: 6 },
      { id: -1, type: 'ping' },
      { id: 1.5, type: 'ping' },
      { id: 7, type: 'publish', channel: 'c' },
      { id: 8, type: 'subscribe', channel: 'no spaces' },
      { id: 9, type: 'subscribe', channel: 'c'.repeat(300) },
      { id: 10, type: 'publish', channel: 'c', data: 1, ephemeral: 'yes' },
      { id: 11, type: 'publish', channel: 'c', data: deep(65) },
      { id: 12, type: 'history', channel: 'c', limit: 5000 },
      { id: 13, type: 'consume', queue: 'bad queue' },
    ];
    for (const value of cases) {
      const [json, msgpack] = await answers(value);
      assert.deepEqual(codeOf(msgpack), codeOf(json), JSON.stringify(value));
    }
    // Numbers JSON cannot carry: JSON.parse reads 1e309 as Infinity; MessagePack carries it as a float.
    const msgpack = (await connectMsgpack(t)).client;
    const infinite = await request(msgpack, { id: 14, type: 'publish', channel: 'c', data: [Infinity] });
    assert.equal((infinite['error'] as { code: string }).code, 'bad_request');
    msgpack.close();
  });

  test('bytes that are not one acceptable MessagePack value: invalid_json, and the connection stays', async () => {
    const frames: Uint8Array[] = [
      new Uint8Array([0x82, 0xa4]), // truncated
      new Uint8Array([0xc1]), // never used
      new Uint8Array([...encode({ type: 'ping' }), 0xc0]), // two values
      encode({ type: 'send', id: 1, data: new ExtData(3, new Uint8Array([1])) }), // an extension type
      encode({ type: 'send', id: 1, data: new Date(0) }), // the timestamp extension
      new Uint8Array([0x81, 0x01, 0xa4, 0x70, 0x69, 0x6e, 0x67]), // {1: 'ping'}: a key that is not a string
      new Uint8Array([0xdd, 0xff, 0xff, 0xff, 0xff]), // an array announcing 4 billion elements
    ];
    for (const frame of frames) {
      const msgpack = (await connectMsgpack(t)).client;
      msgpack.send(frame);
      const error = await msgpack.nextOfType('error');
      assert.equal(error['code'], 'invalid_json', Buffer.from(frame).toString('hex'));
      assert.deepEqual((await request(msgpack, { id: 2, type: 'ping' }))['result'], {});
      msgpack.close();
    }
  });

  test('a text frame on a MessagePack connection closes it with 1003, as a binary one does on JSON', async () => {
    const msgpack = (await connectMsgpack(t)).client;
    msgpack.send('{"type":"ping"}');
    assert.equal((await msgpack.closed).code, 1003);
    const json = (await connectV1(t)).client;
    json.send(encode({ type: 'ping' }));
    assert.equal((await json.closed).code, 1003);
  });

  test('a message over maxMessageBytes closes it with 1009', async () => {
    const msgpack = (await connectMsgpack(t)).client;
    msgpack.send(encode({ type: 'send', data: new Uint8Array(5000) }));
    assert.equal((await msgpack.closed).code, 1009);
  });

  test('a burst of bad frames closes it with 4501, as bad JSON does', async () => {
    const msgpack = (await connectMsgpack(t)).client;
    for (let i = 0; i < 10; i++) msgpack.send(new Uint8Array([0xc1]));
    assert.equal((await msgpack.closed).code, 4501);
  });

  test('21,845 nested array headers announcing 65,535 elements each: refused at once, the server unharmed', async () => {
    const levels = Math.floor(4000 / 3);
    const attack = new Uint8Array(levels * 3 + 1);
    for (let i = 0; i < levels; i++) attack.set([0xdc, 0xff, 0xff], i * 3);
    attack[levels * 3] = 0xc0;
    const msgpack = (await connectMsgpack(t)).client;
    msgpack.send(attack);
    assert.equal((await msgpack.nextOfType('error'))['code'], 'invalid_json');
    assert.deepEqual((await request(msgpack, { id: 3, type: 'ping' }))['result'], {});
    msgpack.close();
  });
});

describe('first-message authentication over MessagePack', () => {
  test('an auth command as the first frame authenticates; anything else first is refused with 4504', async () => {
    await withServer({ auth: { secret: SECRET } }, async (t) => {
      const token = await hsToken({ sub: 'bob' });
      const ok = await connect(`${t.wsUrl}/ws`, {}, [MSGPACK]);
      const reply = ok.reply(1);
      ok.send(encode({ type: 'auth', id: 1, token }));
      assert.equal(((await reply)['result'] as { userId: string }).userId, 'bob');
      assert.equal((await ok.nextOfType('connected'))['userId'], 'bob');
      ok.close();
      const refused = await connect(`${t.wsUrl}/ws`, {}, [MSGPACK]);
      refused.send(encode({ type: 'subscribe', id: 1, channel: 'c' }));
      assert.equal((await refused.closed).code, 4504);
    });
  });
});
