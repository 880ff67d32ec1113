/**
 * Per-connection inbound rate limits: frames over the message or byte rate are answered `rate_limited`
 * and not processed; a connection that keeps going is closed with 4003 while everyone else keeps being
 * served. The clock stands still unless a test moves it, so bucket arithmetic is exact.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, connectV1, startServer } from './helpers.js';
import type { TestClient } from './helpers.js';
import { assertServed, manualClock, metric } from './limits-helpers.js';

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
    // The first five are processed; their replies may lose the race with the close, the messages do not.
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
      await metric(t, 'switchboard_connections_closed_total', { transport: 'websocket', code: '4003' }),
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
