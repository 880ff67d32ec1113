/**
 * Per-connection inbound rate limits: frames over the message or byte rate are answered `rate_limited`
 * and not processed; a connection that keeps going is closed with 4003 while everyone else keeps being
 * served. The clock stands still unless a test moves it, so bucket arithmetic is exact.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect as netConnect } from 'node:net';
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import { TestClient, connect, connectV1, startServer } from './helpers.js';
import type { TestServer } from './helpers.js';
import { ANSWER_WAIT_MS } from '../src/hub/lifecycle.js';
import { assertServed, manualClock, metric, recordingLogger, serverCloses } from './limits-helpers.js';

interface ErrorReply {
  readonly type: 'reply';
  readonly id: number;
  readonly error?: { readonly code: string; readonly message: string; readonly temporary: boolean };
  readonly result?: unknown;
}

/** The next reply to command `id`. */
function replyTo(client: TestClient, id: number): Promise<ErrorReply> {
  return client.reply<ErrorReply>(id);
}

test('a flooding client gets rate_limited replies, then 4003, while another client’s publishes still arrive', async () => {
  const clock = manualClock();
  const t = await startServer({ clock, messagesPerSecond: 5, messageBurst: 5, rateLimitedBurst: 3 });
  try {
    const { client: listener } = await connectV1(t);
    await listener.request({ id: 1, type: 'subscribe', channel: 'room' });
    const { client: neighbour } = await connectV1(t);
    const { client: flooder } = await connectV1(t);
    // As fast as it can: 200 publishes written without waiting for anything.
    for (let id = 1; id <= 200; id++)
      flooder.send({ id, type: 'publish', channel: 'room', data: { from: 'flood', id } });
    // The first five are processed, and answered before the close; the next three are refused.
    for (let id = 6; id <= 8; id++) {
      const refused = await replyTo(flooder, id);
      assert.equal(refused.error?.code, 'rate_limited', `publish ${id}`);
      assert.equal(refused.error.temporary, true);
    }
    assert.equal((await flooder.closed).code, 4003);
    // Nothing past the allowance was processed, and the room still carries a neighbour's message.
    await neighbour.request({ id: 1, type: 'publish', channel: 'room', data: { from: 'neighbour' } });
    const received: unknown[] = [];
    for (;;) {
      const message = await listener.nextOfType('message');
      received.push(message['data']);
      if ((message['data'] as { from: string }).from === 'neighbour') break;
    }
    assert.deepEqual(received, [
      ...[1, 2, 3, 4, 5].map((id) => ({ from: 'flood', id })),
      { from: 'neighbour' },
    ]);
    await assertServed(neighbour);
    assert.equal(await metric(t, 'switchboard_limits_rejected_total', { limit: 'messages' }), 4);
    assert.equal(await metric(t, 'switchboard_client_errors_total', { code: 'rate_limited' }), 3);
    assert.equal(
      await metric(t, 'switchboard_connections_closed_total', {
        transport: 'websocket',
        code: '4003',
        by: 'server',
      }),
      1,
    );
    listener.close();
    neighbour.close();
  } finally {
    await t.stop();
  }
});

test('refusals are temporary: the allowance comes back with time, and they never spend the malformed-frame budget', async () => {
  const clock = manualClock();
  const t = await startServer({
    clock,
    messagesPerSecond: 2,
    messageBurst: 2,
    rateLimitedBurst: 10,
    // One malformed frame would close the connection with 4501.
    errorBurst: 1,
    errorRefillPerSecond: 0,
  });
  try {
    const { client } = await connectV1(t);
    for (let id = 1; id <= 6; id++) client.send({ id, type: 'subscribe', channel: `c${id}` });
    for (let id = 1; id <= 2; id++) assert.equal((await replyTo(client, id)).error, undefined);
    for (let id = 3; id <= 6; id++) assert.equal((await replyTo(client, id)).error?.code, 'rate_limited');
    clock.advance(1000);
    // Two tokens back: both commands are processed, and the connection was never closed for errors.
    assert.equal((await client.request({ id: 7, type: 'subscribe', channel: 'c7' }))['error'], undefined);
    assert.equal((await client.request({ id: 8, type: 'subscribe', channel: 'c8' }))['error'], undefined);
    assert.deepEqual(client.pending(), []);
    client.close();
  } finally {
    await t.stop();
  }
});

test('bytes per second: a frame over the byte allowance is refused for bytes, then the connection closes', async () => {
  const clock = manualClock();
  const t = await startServer({
    clock,
    messagesPerSecond: 0,
    maxMessageBytes: 1024,
    bytesPerSecond: 1024,
    byteBurst: 1024,
    rateLimitedBurst: 1,
  });
  try {
    const { client: bystander } = await connectV1(t);
    const { client } = await connectV1(t);
    const pad = 'x'.repeat(400);
    const { client: listener } = await connectV1(t);
    await listener.request({ id: 1, type: 'subscribe', channel: 'big' });
    for (let id = 1; id <= 4; id++) client.send({ id, type: 'publish', channel: 'big', data: `${id}${pad}` });
    const refused = await replyTo(client, 3);
    assert.equal(refused.error?.code, 'rate_limited');
    assert.match(refused.error.message, /bytes/);
    assert.equal((await client.closed).code, 4003);
    // Two frames of ~430 bytes fit in 1024; the third and fourth did not, and were never published.
    for (const id of [1, 2])
      assert.equal(String((await listener.nextOfType('message'))['data'])[0], String(id));
    await assertServed(bystander);
    assert.deepEqual(listener.pending(), []);
    assert.equal(await metric(t, 'switchboard_limits_rejected_total', { limit: 'bytes' }), 2);
    bystander.close();
    listener.close();
  } finally {
    await t.stop();
  }
});

test('room connections get rate_limited error pushes and the same 4003', async () => {
  const clock = manualClock();
  const t = await startServer({ clock, messagesPerSecond: 1, messageBurst: 2, rateLimitedBurst: 2 });
  try {
    const member = await connect(`${t.wsUrl}/ws/lobby`);
    const flooder = await connect(`${t.wsUrl}/ws/lobby`);
    for (let n = 1; n <= 50; n++) flooder.send({ text: `spam ${n}` });
    for (let n = 1; n <= 2; n++) {
      const error = await flooder.nextOfType('error');
      assert.equal(error['code'], 'rate_limited');
    }
    assert.equal((await flooder.closed).code, 4003);
    member.send({ text: 'still here' });
    const texts: unknown[] = [];
    for (;;) {
      const message = await member.next((m) => typeof m['text'] === 'string');
      texts.push(message['text']);
      if (message['text'] === 'still here') break;
    }
    assert.deepEqual(texts, ['spam 1', 'spam 2', 'still here']);
    member.close();
  } finally {
    await t.stop();
  }
});

test('with both rates at 0 nothing is limited', async () => {
  const clock = manualClock();
  const t = await startServer({ clock, messagesPerSecond: 0, bytesPerSecond: 0, rateLimitedBurst: 1 });
  try {
    const { client } = await connectV1(t);
    for (let id = 1; id <= 500; id++) client.send({ id, type: 'publish', channel: 'free', data: id });
    for (let id = 1; id <= 500; id++) assert.equal((await replyTo(client, id)).error, undefined);
    client.close();
  } finally {
    await t.stop();
  }
});

test('WebSocket pings count against the message budget: a burst of 100,000 gets the burst answered, then 4003, counted and logged, while a neighbour is served', async () => {
  const clock = manualClock();
  const logger = recordingLogger();
  // The default limits: 200 messages at once, then 50 refusals before the close.
  const t = await startServer({ clock, logger });
  try {
    const { client: neighbour } = await connectV1(t);
    const { client: flooder } = await connectV1(t);
    let pongs = 0;
    flooder.ws.on('pong', () => pongs++);
    for (let i = 0; i < 100_000; i++) flooder.ws.ping();
    assert.deepEqual(await flooder.closed, { code: 4003, reason: 'rate limit exceeded' });
    assert.equal(pongs, 200, 'the burst allowance is answered, nothing past it');
    await assertServed(neighbour);
    assert.equal(await metric(t, 'switchboard_limits_rejected_total', { limit: 'messages' }), 51);
    assert.equal(
      await metric(t, 'switchboard_connections_closed_total', {
        transport: 'websocket',
        code: '4003',
        by: 'server',
      }),
      1,
    );
    assert.deepEqual(serverCloses(logger), ['4003 rate limit exceeded']);
    neighbour.close();
  } finally {
    await t.stop();
  }
});

test('pings within the budget are answered and share it with commands', async () => {
  const clock = manualClock();
  const t = await startServer({ clock, messagesPerSecond: 1, messageBurst: 5, rateLimitedBurst: 10 });
  try {
    const { client } = await connectV1(t);
    const pongs: string[] = [];
    const threePongs = new Promise<void>((resolve) =>
      client.ws.on('pong', (data: Buffer) => {
        pongs.push(data.toString());
        if (pongs.length === 3) resolve();
      }),
    );
    for (const payload of ['a', 'b', 'c']) client.ws.ping(payload);
    await threePongs;
    assert.deepEqual(pongs, ['a', 'b', 'c'], 'each pong echoes its ping');
    for (let id = 1; id <= 3; id++) client.send({ id, type: 'subscribe', channel: `p${id}` });
    for (let id = 1; id <= 2; id++) assert.equal((await replyTo(client, id)).error, undefined);
    assert.equal((await replyTo(client, 3)).error?.code, 'rate_limited');
    // A ping past the budget is not answered; the connection stays.
    client.ws.ping('d');
    await assertNoPong(client, 100);
    assert.deepEqual(pongs, ['a', 'b', 'c']);
    clock.advance(1000);
    assert.equal((await client.request({ id: 4, type: 'ping' }))['error'], undefined);
    client.close();
  } finally {
    await t.stop();
  }
});

/** Wait `ms` and fail if a pong arrives meanwhile (an absence has no event to await). */
async function assertNoPong(client: TestClient, ms: number): Promise<void> {
  let ponged = false;
  const onPong = (): void => {
    ponged = true;
  };
  client.ws.on('pong', onPong);
  await new Promise((resolve) => setTimeout(resolve, ms));
  client.ws.off('pong', onPong);
  assert.equal(ponged, false, 'a pong arrived');
}

/**
 * A v1 client on a TCP socket of the test's own (ws's `createConnection`), so that the test can cork it and
 * have many frames reach the server in one write, hence one read: handled in one event-loop turn.
 */
async function corkableV1(t: TestServer): Promise<{ client: TestClient; tcp: Socket }> {
  const url = new URL(t.wsUrl);
  const tcp = netConnect({ host: url.hostname, port: Number(url.port) });
  const client = new TestClient(new WebSocket(`${t.wsUrl}/ws`, { createConnection: () => tcp }));
  await client.nextOfType('connected');
  return { client, tcp };
}

test('with the default limits, every subscribe admitted before a 4003 close is answered before it', async () => {
  const clock = manualClock();
  const t = await startServer({ clock });
  try {
    const { client: flooder, tcp } = await corkableV1(t);
    // All in one write: the 4003 comes in the same turn as the subscribes it follows, before any of
    // them has had its reply.
    tcp.cork();
    for (let id = 1; id <= 300; id++) flooder.send({ id, type: 'subscribe', channel: `flood-${id}` });
    tcp.uncork();
    assert.equal((await flooder.closed).code, 4003);
    // Everything received before the close, in the order it came.
    const replies = new Map<number, ErrorReply>();
    for (const frame of flooder.messages as ErrorReply[])
      if (frame.type === 'reply') replies.set(frame.id, frame);
    for (let id = 1; id <= 200; id++) {
      const reply = replies.get(id);
      assert.ok(reply !== undefined, `subscribe ${id} was admitted and answered`);
      assert.equal(reply.error, undefined, `subscribe ${id}: ${JSON.stringify(reply)}`);
    }
    for (let id = 201; id <= 250; id++) assert.equal(replies.get(id)?.error?.code, 'rate_limited', `${id}`);
    assert.equal(replies.size, 250, 'nothing after the last refusal was processed');
    assert.equal(await metric(t, 'switchboard_messages_dropped_total', { reason: 'closed' }), 0);
  } finally {
    await t.stop();
  }
});

test('a 4003 close waits for admitted commands whose answers are slow (an authorize hook), and they take effect', async () => {
  const clock = manualClock();
  const t = await startServer({
    clock,
    messagesPerSecond: 1,
    messageBurst: 3,
    rateLimitedBurst: 1,
    authorize: async () => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      return true;
    },
  });
  try {
    const { client: listener } = await connectV1(t);
    await listener.request({ id: 1, type: 'subscribe', channel: 'slow' });
    const { client: flooder } = await connectV1(t);
    for (let id = 1; id <= 20; id++) flooder.send({ id, type: 'publish', channel: 'slow', data: id });
    assert.equal((await flooder.closed).code, 4003);
    const replies = (flooder.messages as ErrorReply[]).filter((m) => m.type === 'reply');
    assert.deepEqual(
      replies.map((r) => [r.id, r.error?.code ?? r.result]),
      [
        [4, 'rate_limited'],
        [1, { id: 1 }],
        [2, { id: 2 }],
        [3, { id: 3 }],
      ],
    );
    for (let n = 1; n <= 3; n++) assert.equal((await listener.nextOfType('message'))['data'], n);
    listener.close();
  } finally {
    await t.stop();
  }
});

test('a 4003 close waits for answers at most ANSWER_WAIT_MS; an answer after it is counted as dropped', async () => {
  const clock = manualClock();
  let release: () => void = () => {};
  const hookDone = new Promise<void>((resolve) => (release = resolve));
  const t = await startServer({
    clock,
    messagesPerSecond: 1,
    messageBurst: 1,
    rateLimitedBurst: 1,
    onMessage: async () => {
      await hookDone;
      return 'late';
    },
  });
  try {
    const { client } = await connectV1(t);
    const started = Date.now();
    for (let id = 1; id <= 5; id++) client.send({ id, type: 'send', data: id });
    assert.equal((await client.closed).code, 4003);
    const waited = Date.now() - started;
    assert.ok(waited >= ANSWER_WAIT_MS - 50 && waited < ANSWER_WAIT_MS + 2000, `closed after ${waited} ms`);
    release();
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(await metric(t, 'switchboard_messages_dropped_total', { reason: 'closed' }), 1);
  } finally {
    await t.stop();
  }
});
