// Every kind of bad input gets its documented answer, and other clients keep their service.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, connectV1, startServer } from './helpers.js';
import type { TestClient, TestServer } from './helpers.js';
import type { DisconnectInfo } from '../src/index.js';
import { MAX_FRAGMENTS } from '../src/transports/websocket-transport.js';
import { metric, recordingLogger, serverCloses } from './limits-helpers.js';

describe('bad input on /ws', () => {
  let t: TestServer;
  let bystander: TestClient;
  let seq = 0;
  const logger = recordingLogger();
  const disconnects: DisconnectInfo[] = [];
  before(async () => {
    t = await startServer({
      maxMessageBytes: 1024,
      errorBurst: 5,
      errorRefillPerSecond: 0.001,
      logger,
      onDisconnect: (_c, info) => {
        disconnects.push(info);
      },
    });
    bystander = (await connectV1(t)).client;
    await bystander.request({ id: 1, type: 'subscribe', channel: 'bystander' });
  });
  after(async () => {
    bystander.close();
    await t.stop();
  });

  /** The bystander still gets service: a publish reaches it. */
  async function bystanderServed(): Promise<void> {
    const marker = `marker-${++seq}`;
    await t.server.publish('bystander', marker);
    assert.equal((await bystander.nextOfType('message'))['data'], marker);
  }

  async function errorFor(frame: string | Record<string, unknown>): Promise<Record<string, unknown>> {
    const { client } = await connectV1(t);
    client.send(frame);
    const answer = await client.next((m) => m['type'] === 'error' || m['type'] === 'reply');
    // the connection stays: a ping still gets its reply
    assert.deepEqual((await client.request({ id: 999, type: 'ping' }))['result'], {});
    client.close();
    await bystanderServed();
    return answer;
  }

  test('invalid JSON: an error push with invalid_json', async () => {
    const answer = await errorFor('{"type": "subscribe", ');
    assert.deepEqual(answer, {
      type: 'error',
      code: 'invalid_json',
      message: 'frame is not valid JSON',
      temporary: false,
    });
  });

  test('a JSON value that is not an object: invalid_frame', async () => {
    for (const frame of ['[1,2,3]', '42', '"subscribe"', 'null']) {
      assert.equal((await errorFor(frame))['code'], 'invalid_frame', frame);
    }
  });

  test('an unknown command: unknown_command, replied to by id', async () => {
    const answer = await errorFor({ id: 5, type: 'teleport' });
    assert.equal(answer['type'], 'reply');
    assert.equal(answer['id'], 5);
    assert.equal((answer['error'] as { code: string }).code, 'unknown_command');
  });

  test('a missing type: unknown_command', async () => {
    assert.equal(((await errorFor({ id: 6 }))['error'] as { code: string }).code, 'unknown_command');
  });

  test('missing or invalid fields: bad_request / invalid_channel with the id', async () => {
    const noData = await errorFor({ id: 7, type: 'publish', channel: 'c' });
    assert.deepEqual([noData['id'], (noData['error'] as { code: string }).code], [7, 'bad_request']);
    const noChannel = await errorFor({ id: 8, type: 'subscribe' });
    assert.equal((noChannel['error'] as { code: string }).code, 'invalid_channel');
    const badChannel = await errorFor({ id: 9, type: 'subscribe', channel: 'has space' });
    assert.equal((badChannel['error'] as { code: string }).code, 'invalid_channel');
    const longChannel = await errorFor({ id: 10, type: 'subscribe', channel: 'x'.repeat(129) });
    assert.equal((longChannel['error'] as { code: string }).code, 'invalid_channel');
    const badFlag = await errorFor({ id: 11, type: 'publish', channel: 'c', data: 1, ephemeral: 'yes' });
    assert.equal((badFlag['error'] as { code: string }).code, 'bad_request');
  });

  test('an invalid id: bad_request as a push (there is no id to reply to)', async () => {
    const answer = await errorFor({ id: -1, type: 'ping' });
    assert.deepEqual([answer['type'], answer['code']], ['error', 'bad_request']);
  });

  test('a binary frame closes with 1003', async () => {
    const { client } = await connectV1(t);
    client.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    assert.equal((await client.closed).code, 1003);
    await bystanderServed();
  });

  /** Open a connection, let `send` misbehave on it, and return the close code the client got. */
  async function closedBy(send: (client: TestClient) => void): Promise<number> {
    const { client } = await connectV1(t);
    send(client);
    const { code } = await client.closed;
    await bystanderServed();
    return code;
  }

  /** What the server says of its last close: the disconnect hook, the metric and the log agree on `code`. */
  async function assertServerClosed(code: number, reason: RegExp): Promise<void> {
    const last = disconnects.at(-1);
    assert.equal(last?.code, code, JSON.stringify(last));
    assert.match(last.reason, reason);
    assert.match(serverCloses(logger).at(-1) ?? '', new RegExp(`^${code} `));
    // Counted once the transport reports the end (the client's answer to the close is never read).
    const deadline = Date.now() + 5000;
    while (
      (await metric(t, 'switchboard_connections_closed_total', {
        transport: 'websocket',
        code: `${code}`,
        by: 'server',
      })) < 1
    ) {
      assert.ok(Date.now() < deadline, `close ${code} never counted`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  test('a frame over the size limit closes with 1009, counted and logged under 1009', async () => {
    const code = await closedBy((client) =>
      client.send({ type: 'publish', channel: 'c', data: 'x'.repeat(2000) }),
    );
    assert.equal(code, 1009);
    await assertServerClosed(1009, /payload/i);
  });

  test('a fragmented message over the size limit closes with 1009 too', async () => {
    const code = await closedBy((client) => {
      // Two 600-byte fragments: each fits, the message (1,200 bytes) does not.
      const half = `{"type":"publish","channel":"c","data":"${'y'.repeat(600)}`;
      client.ws.send(half, { fin: false });
      client.ws.send(`${'z'.repeat(600)}"}`, { fin: true });
    });
    assert.equal(code, 1009);
    await assertServerClosed(1009, /payload/i);
  });

  test('a message in more than MAX_FRAGMENTS fragments closes with 1008, whatever its size', async () => {
    const code = await closedBy((client) => {
      // 16,385 fragments of 0 to 1 byte: under the size limit, over the fragment limit.
      client.ws.send('[', { fin: false });
      for (let i = 0; i < MAX_FRAGMENTS; i++) client.ws.send('', { fin: false });
      client.ws.send(']', { fin: true });
    });
    assert.equal(code, 1008);
    await assertServerClosed(1008, /fragments/i);
  });

  test('a text frame that is not UTF-8 closes with 1007', async () => {
    const { client } = await connectV1(t);
    client.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    assert.equal((await client.closed).code, 1007);
    await bystanderServed();
  });

  test('a burst of errors closes with 4501 after the allowance', async () => {
    const { client } = await connectV1(t);
    for (let i = 0; i < 10; i++) client.send('garbage');
    const closed = await client.closed;
    assert.equal(closed.code, 4501);
    const errors = client.messages.filter((m) => (m as { type?: string }).type === 'error');
    assert.equal(
      errors.length,
      6,
      'five allowed errors, the sixth error is answered and then the connection closes',
    );
    await bystanderServed();
  });

  test('stats count the errors', () => {
    assert.ok(t.server.stats().errors >= 10);
  });
});

test('a number JSON cannot carry (1e309) is refused with bad_request on /ws, /ws/:room and the HTTP API, and nothing is delivered', async () => {
  const t = await startServer();
  try {
    const { client: bystander } = await connectV1(t);
    await bystander.request({ id: 1, type: 'subscribe', channel: 'numbers' });
    const { client } = await connectV1(t);
    for (const data of ['1e309', '-1e309', '{"n":[1,2e999]}']) {
      client.send(`{"id":2,"type":"publish","channel":"numbers","data":${data}}`);
      const reply = await client.reply(2);
      assert.equal((reply['error'] as { code: string }).code, 'bad_request', data);
    }
    const room = await connect(`${t.wsUrl}/ws/numbers`);
    room.send('{"text":"too far","n":1e309}');
    assert.equal((await room.nextOfType('error'))['code'], 'bad_request');
    const http = await fetch(`${t.httpUrl}/api/publish`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"channel":"numbers","data":{"n":1e309}}',
    });
    assert.equal(http.status, 400);
    assert.equal(((await http.json()) as { error: { code: string } }).error.code, 'bad_request');
    await assert.rejects(t.server.publish('numbers', { n: NaN }), { code: 'bad_request' });
    // Nothing was delivered as null: the next message is the first, with id 1.
    await client.request({ id: 3, type: 'publish', channel: 'numbers', data: 1.5 });
    const message = await bystander.nextOfType('message');
    assert.deepEqual([message['id'], message['data']], [1, 1.5]);
    client.close();
    room.close();
    bystander.close();
  } finally {
    await t.stop();
  }
});

test('data nested past the depth limit: bad_request, and the server survives to serve others', async () => {
  // 6,000 levels (12 KB) decode fine but would overflow JSON.stringify during fan-out.
  const t = await startServer();
  try {
    const { client: bystander } = await connectV1(t);
    await bystander.request({ id: 1, type: 'subscribe', channel: 'deep' });
    const { client } = await connectV1(t);
    client.send(`{"id":2,"type":"publish","channel":"deep","data":${'['.repeat(6000)}${']'.repeat(6000)}}`);
    const reply = await client.reply(2);
    assert.equal((reply['error'] as { code: string }).code, 'bad_request');
    await client.request({ id: 3, type: 'publish', channel: 'deep', data: 'fine' });
    const message = await bystander.nextOfType('message');
    assert.deepEqual([message['id'], message['data']], [1, 'fine'], 'no id was spent on the refused publish');
    client.close();
    bystander.close();
  } finally {
    await t.stop();
  }
});
