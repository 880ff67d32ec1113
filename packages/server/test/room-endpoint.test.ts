// The seeds' lecture tests (000_*, part 5), against `/ws/:room`.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, startServer, upgradeStatus, waitMembers } from './helpers.js';
import type { TestServer } from './helpers.js';

describe('/ws/:room (seeds style)', () => {
  let t: TestServer;
  before(async () => {
    t = await startServer();
  });
  after(() => t.stop());

  test('connect and send: the sender receives its own message back', async () => {
    const ws = await connect(`${t.wsUrl}/ws/general`);
    ws.send({ type: 'message', text: 'hello' });
    const response = await ws.next();
    assert.equal(response['text'], 'hello');
    assert.equal(response['type'], 'message');
    assert.equal(typeof response['id'], 'number');
    ws.close();
  });

  test('messages carry sequential integer ids', async () => {
    const ws = await connect(`${t.wsUrl}/ws/sequential`);
    ws.send({ type: 'message', text: 'first' });
    const msg1 = await ws.next();
    ws.send({ type: 'message', text: 'second' });
    const msg2 = await ws.next();
    assert.ok(Number.isInteger(msg1['id']));
    assert.equal(msg2['id'], (msg1['id'] as number) + 1);
    ws.close();
  });

  test('broadcast reaches every member of the room, sender included', async () => {
    const members = await Promise.all([1, 2, 3].map(() => connect(`${t.wsUrl}/ws/broadcast-room`)));
    await waitMembers(t, 'broadcast-room', 3);
    members[0]?.send({ type: 'message', text: 'hello everyone' });
    for (const member of members) {
      const message = await member.next();
      assert.equal(message['text'], 'hello everyone');
    }
    for (const member of members) member.close();
  });

  test('rooms are isolated', async () => {
    const a = await connect(`${t.wsUrl}/ws/room_a`);
    const b = await connect(`${t.wsUrl}/ws/room_b`);
    await waitMembers(t, 'room_a', 1);
    await waitMembers(t, 'room_b', 1);
    a.send({ type: 'message', text: 'room_a only' });
    assert.equal((await a.next())['text'], 'room_a only');
    b.send({ type: 'message', text: 'room_b check' });
    // room_b's first message is its own, not room_a's
    assert.equal((await b.next())['text'], 'room_b check');
    a.close();
    b.close();
  });

  test('a client ping gets a pong; a pong is not published', async () => {
    const ws = await connect(`${t.wsUrl}/ws/pingpong`);
    const other = await connect(`${t.wsUrl}/ws/pingpong`);
    await waitMembers(t, 'pingpong', 2);
    ws.send({ type: 'pong' });
    ws.send({ type: 'ping' });
    assert.deepEqual(await ws.next(), { type: 'pong' });
    other.send({ type: 'message', text: 'after' });
    // the first thing `other` sees is its own message: neither ping nor pong was published
    assert.equal((await other.next())['text'], 'after');
    ws.close();
    other.close();
  });

  test('non-object payloads are errors, the connection stays', async () => {
    const ws = await connect(`${t.wsUrl}/ws/errors`);
    ws.send('not json');
    assert.equal((await ws.nextOfType('error'))['code'], 'invalid_json');
    ws.send('[1,2]');
    assert.equal((await ws.nextOfType('error'))['code'], 'invalid_frame');
    ws.send({ type: 'message', text: 'still here' });
    assert.equal((await ws.next((m) => m['type'] === 'message'))['text'], 'still here');
    ws.close();
  });

  test('a frame nested past the depth limit is refused with bad_request and takes nothing down', async () => {
    const ws = await connect(`${t.wsUrl}/ws/deep`);
    const other = await connect(`${t.wsUrl}/ws/deep`);
    await waitMembers(t, 'deep', 2);
    ws.send(`{"type":"message","data":${'['.repeat(6000)}${']'.repeat(6000)}}`);
    assert.equal((await ws.nextOfType('error'))['code'], 'bad_request');
    ws.send({ type: 'message', text: 'after' });
    // no id was spent on the refused frame
    const after = await other.next();
    assert.deepEqual([after['text'], after['id']], ['after', 1]);
    ws.close();
    other.close();
  });

  test('an invalid room name is refused before the upgrade with 400', async () => {
    const { status, body } = await upgradeStatus(`${t.wsUrl}/ws/${encodeURIComponent('bad room')}`);
    assert.equal(status, 400);
    assert.equal((JSON.parse(body) as { error: { code: string } }).error.code, 'invalid_channel');
  });

  test('an API publish reaches room members as the object itself with an id', async () => {
    const ws = await connect(`${t.wsUrl}/ws/api-room`);
    await waitMembers(t, 'api-room', 1);
    await t.server.publish('api-room', { text: 'from the backend' });
    const message = await ws.next();
    assert.equal(message['text'], 'from the backend');
    assert.equal(message['id'], 1);
    await t.server.publish('api-room', 'plain string');
    assert.deepEqual(await ws.next(), { type: 'message', data: 'plain string', id: 2 });
    ws.close();
  });
});

describe('/ws/:room capacity', () => {
  test('a full room closes the newcomer with 4503 while members keep service', async () => {
    const t = await startServer({ channels: [{ pattern: 'small:*', maxMembers: 2 }] });
    try {
      const a = await connect(`${t.wsUrl}/ws/small:1`);
      const b = await connect(`${t.wsUrl}/ws/small:1`);
      await waitMembers(t, 'small:1', 2);
      const c = await connect(`${t.wsUrl}/ws/small:1`);
      const closed = await c.closed;
      assert.equal(closed.code, 4503);
      a.send({ type: 'message', text: 'still works' });
      assert.equal((await b.next())['text'], 'still works');
      a.close();
      b.close();
    } finally {
      await t.stop();
    }
  });
});
