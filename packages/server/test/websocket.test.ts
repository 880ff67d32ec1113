// The multiplexed protocol v1 endpoint (`/ws`): handshake, channels, users, exclusions, application hooks.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, connectV1, queryUserAuthenticator, startServer, until } from './helpers.js';
import type { TestServer } from './helpers.js';
import { ApplicationError } from '../src/index.js';
import type { ConnectionInfo, DisconnectInfo } from '../src/index.js';

describe('/ws protocol v1', () => {
  let t: TestServer;
  const connected: ConnectionInfo[] = [];
  const disconnected: { connection: ConnectionInfo; info: DisconnectInfo }[] = [];
  before(async () => {
    t = await startServer({
      heartbeatIntervalMs: 5000,
      heartbeatTimeoutMs: 10000,
      authenticator: queryUserAuthenticator,
      presenceGraceMs: 50,
      channels: [{ pattern: 'lobby:*', presence: true }],
      onConnect: (c) => {
        connected.push(c);
      },
      onDisconnect: (connection, info) => {
        disconnected.push({ connection, info });
      },
      onMessage: (connection, data) => {
        const d = data as { op?: string };
        if (d.op === 'fail') throw new ApplicationError('nope');
        if (d.op === 'crash') throw new Error('secret internal detail');
        return { echo: data, from: connection.userId };
      },
    });
  });
  after(() => t.stop());

  test('the first frame is `connected` with ids, heartbeat settings and server time', async () => {
    const before = Date.now();
    const { client, connected: push } = await connectV1(t, {}, '?user=alice');
    assert.equal(push['version'], 1);
    assert.equal(typeof push['connectionId'], 'string');
    assert.equal(typeof push['sessionId'], 'string');
    assert.equal(push['userId'], 'alice');
    assert.deepEqual(push['heartbeat'], { interval: 5000, timeout: 10000 });
    assert.ok((push['time'] as number) >= before - 1000);
    assert.ok(connected.some((c) => c.id === push['connectionId'] && c.userId === 'alice'));
    client.close();
  });

  test('subscribe, publish and receive with sequential per-channel ids', async () => {
    const { client: a } = await connectV1(t);
    const { client: b } = await connectV1(t);
    const first = (await a.request({ id: 1, type: 'subscribe', channel: 'news' }))['result'] as {
      epoch: string;
    };
    assert.deepEqual(first, { channel: 'news', offset: 0, epoch: first.epoch });
    assert.equal(typeof first.epoch, 'string');
    await b.request({ id: 1, type: 'subscribe', channel: 'news' });
    const r1 = await b.request({ id: 2, type: 'publish', channel: 'news', data: { n: 1 } });
    const r2 = await b.request({ id: 3, type: 'publish', channel: 'news', data: { n: 2 } });
    assert.deepEqual(r1['result'], { id: 1 });
    assert.deepEqual(r2['result'], { id: 2 });
    for (const client of [a, b]) {
      const m1 = await client.nextOfType('message');
      const m2 = await client.nextOfType('message');
      assert.equal(m1['channel'], 'news');
      assert.deepEqual([m1['id'], m1['data'], m2['id'], m2['data']], [1, { n: 1 }, 2, { n: 2 }]);
      assert.equal(typeof m1['time'], 'number');
    }
    // a later subscriber learns the current offset from the reply
    const { client: c } = await connectV1(t);
    assert.deepEqual((await c.request({ id: 9, type: 'subscribe', channel: 'news' }))['result'], {
      channel: 'news',
      offset: 2,
      epoch: first.epoch,
    });
    for (const client of [a, b, c]) client.close();
  });

  test('one connection multiplexes channels and unsubscribes; channels stay isolated', async () => {
    const { client } = await connectV1(t);
    await client.request({ id: 1, type: 'subscribe', channel: 'x' });
    await client.request({ id: 2, type: 'subscribe', channel: 'y' });
    await t.server.publish('x', 'to x');
    await t.server.publish('z', 'to z');
    await t.server.publish('y', 'to y');
    assert.equal((await client.nextOfType('message'))['data'], 'to x');
    assert.equal((await client.nextOfType('message'))['data'], 'to y');
    assert.deepEqual((await client.request({ id: 3, type: 'unsubscribe', channel: 'x' }))['result'], {});
    await t.server.publish('x', 'after unsubscribe');
    await t.server.publish('y', 'marker');
    assert.equal((await client.nextOfType('message'))['data'], 'marker');
    const error = await client.request({ id: 4, type: 'unsubscribe', channel: 'x' });
    assert.equal((error['error'] as { code: string }).code, 'not_subscribed');
    const again = await client.request({ id: 5, type: 'subscribe', channel: 'y' });
    assert.equal((again['error'] as { code: string }).code, 'already_subscribed');
    client.close();
  });

  test('excludeSelf keeps a publish from echoing to its sender', async () => {
    const { client: a } = await connectV1(t);
    const { client: b } = await connectV1(t);
    await a.request({ id: 1, type: 'subscribe', channel: 'quiet' });
    await b.request({ id: 1, type: 'subscribe', channel: 'quiet' });
    await a.request({ id: 2, type: 'publish', channel: 'quiet', data: 'not for me', excludeSelf: true });
    assert.equal((await b.nextOfType('message'))['data'], 'not for me');
    await b.request({ id: 2, type: 'publish', channel: 'quiet', data: 'for everyone' });
    // a's first message is the second publish: the first was excluded
    assert.equal((await a.nextOfType('message'))['data'], 'for everyone');
    a.close();
    b.close();
  });

  test('sendToUser reaches every connection of that user and nobody else; exclude works', async () => {
    const bob1 = await connectV1(t, {}, '?user=bob');
    const bob2 = await connectV1(t, {}, '?user=bob');
    const carol = await connectV1(t, {}, '?user=carol');
    await t.server.sendToUser('bob', { note: 'hi bob' });
    assert.deepEqual((await bob1.client.nextOfType('direct'))['data'], { note: 'hi bob' });
    assert.deepEqual((await bob2.client.nextOfType('direct'))['data'], { note: 'hi bob' });
    await t.server.sendToUser('bob', 'second', {
      exclude: { connectionId: bob1.connected['connectionId'] as string },
    });
    assert.equal((await bob2.client.nextOfType('direct'))['data'], 'second');
    await t.server.sendToConnection(bob1.connected['connectionId'] as string, 'only bob1');
    assert.equal((await bob1.client.nextOfType('direct'))['data'], 'only bob1');
    await t.server.sendToUser('carol', 'marker');
    assert.equal((await carol.client.nextOfType('direct'))['data'], 'marker');
    assert.deepEqual(carol.client.pending(), [], 'carol received nothing meant for bob');
    assert.deepEqual(bob2.client.pending(), [], 'bob2 did not receive the connection-targeted message');
    for (const c of [bob1, bob2, carol]) c.client.close();
  });

  test('broadcast reaches every connection in both formats, except the excluded user', async () => {
    const v1 = await connectV1(t, {}, '?user=dave');
    const room = await connect(`${t.wsUrl}/ws/any-room`);
    const excluded = await connectV1(t, {}, '?user=erin');
    await t.server.broadcast({ notice: 'maintenance' }, { exclude: { userId: 'erin' } });
    assert.deepEqual((await v1.client.nextOfType('broadcast'))['data'], { notice: 'maintenance' });
    assert.deepEqual(await room.next(), { notice: 'maintenance' });
    await t.server.sendToUser('erin', 'marker');
    assert.equal((await excluded.client.nextOfType('direct'))['data'], 'marker');
    assert.deepEqual(excluded.client.pending(), []);
    v1.client.close();
    room.close();
    excluded.client.close();
  });

  test('join and leave notices on channels with presence (leave after the grace period)', async () => {
    const a = await connectV1(t, {}, '?user=ann');
    const b = await connectV1(t, {}, '?user=ben');
    await a.client.request({ id: 1, type: 'subscribe', channel: 'lobby:1' });
    await b.client.request({ id: 1, type: 'subscribe', channel: 'lobby:1' });
    const join = await a.client.nextOfType('join');
    assert.equal(join['channel'], 'lobby:1');
    assert.equal(join['userId'], 'ben');
    assert.equal(join['connectionId'], undefined, 'presence is per user for identified users');
    b.client.close();
    const leave = await a.client.nextOfType('leave');
    assert.equal(leave['userId'], 'ben');
    // channels without the rule get no notices
    await a.client.request({ id: 2, type: 'subscribe', channel: 'plain' });
    const c = await connectV1(t);
    await c.client.request({ id: 1, type: 'subscribe', channel: 'plain' });
    await t.server.publish('plain', 'marker');
    assert.equal((await a.client.nextOfType('message'))['data'], 'marker');
    assert.deepEqual(a.client.pending(), []);
    a.client.close();
    c.client.close();
  });

  test('send reaches the onMessage hook; its result or error is the reply', async () => {
    const { client } = await connectV1(t, {}, '?user=frank');
    const ok = await client.request({ id: 1, type: 'send', data: { op: 'echo' } });
    assert.deepEqual(ok['result'], { echo: { op: 'echo' }, from: 'frank' });
    const failed = await client.request({ id: 2, type: 'send', data: { op: 'fail' } });
    assert.deepEqual(failed['error'], { code: 'application_error', message: 'nope', temporary: false });
    const crashed = await client.request({ id: 3, type: 'send', data: { op: 'crash' } });
    assert.equal(
      (crashed['error'] as { message: string }).message.includes('secret'),
      false,
      'internals never leak',
    );
    client.close();
  });

  test('ping with an id is answered; the disconnect hook sees the close code', async () => {
    const { client, connected: push } = await connectV1(t);
    assert.deepEqual((await client.request({ id: 7, type: 'ping' }))['result'], {});
    await t.server.disconnectConnection(push['connectionId'] as string);
    const closed = await client.closed;
    assert.equal(closed.code, 4502);
    const entry = disconnected.find((d) => d.connection.id === push['connectionId']);
    assert.equal(entry?.info.code, 4502);
  });

  test('disconnectUser closes every connection of the user with the given code; others keep service', async () => {
    const g1 = await connectV1(t, {}, '?user=gina');
    const g2 = await connectV1(t, {}, '?user=gina');
    const h = await connectV1(t, {}, '?user=hank');
    await t.server.disconnectUser('gina', { code: 4002, reason: 'rebalance' });
    assert.deepEqual(await g1.client.closed, { code: 4002, reason: 'rebalance' });
    assert.deepEqual(await g2.client.closed, { code: 4002, reason: 'rebalance' });
    assert.deepEqual((await h.client.request({ id: 1, type: 'ping' }))['result'], {});
    assert.equal(t.server.getUserConnections('gina').length, 0);
    h.client.close();
  });
});

describe('/ws without a message hook', () => {
  test('send answers not_available', async () => {
    const t = await startServer();
    try {
      const { client } = await connectV1(t);
      const reply = await client.request({ id: 1, type: 'send', data: 1 });
      assert.equal((reply['error'] as { code: string }).code, 'not_available');
      client.close();
    } finally {
      await t.stop();
    }
  });

  test('subscription and member limits answer with their codes', async () => {
    const t = await startServer({
      maxSubscriptionsPerConnection: 2,
      channels: [{ pattern: 'one', maxMembers: 1 }],
    });
    try {
      const { client: a } = await connectV1(t);
      const { client: b } = await connectV1(t);
      await a.request({ id: 1, type: 'subscribe', channel: 'one' });
      const full = await b.request({ id: 1, type: 'subscribe', channel: 'one' });
      assert.deepEqual(full['error'], {
        code: 'channel_full',
        message: 'one is full (1 members)',
        temporary: true,
      });
      await a.request({ id: 2, type: 'subscribe', channel: 'two' });
      const tooMany = await a.request({ id: 3, type: 'subscribe', channel: 'three' });
      assert.equal((tooMany['error'] as { code: string }).code, 'too_many_subscriptions');
      a.close();
      b.close();
    } finally {
      await t.stop();
    }
  });
});

describe('library calls with undeliverable payloads', () => {
  test('reject with InvalidArgumentError and leave no gap in message ids', async () => {
    const t = await startServer();
    try {
      const { client } = await connectV1(t);
      await client.request({ id: 1, type: 'subscribe', channel: 'gapless' });
      const cyclic: Record<string, unknown> = {};
      cyclic['self'] = cyclic;
      for (const bad of [
        undefined,
        10n,
        cyclic,
        {
          toJSON: () => {
            throw new Error('no');
          },
        },
      ]) {
        await assert.rejects(t.server.publish('gapless', bad), {
          name: 'InvalidArgumentError',
          code: 'bad_request',
        });
      }
      await assert.rejects(t.server.broadcast(10n), { name: 'InvalidArgumentError' });
      await assert.rejects(t.server.sendToUser('u', cyclic), { name: 'InvalidArgumentError' });
      await assert.rejects(t.server.publish('bad channel', 1), {
        name: 'InvalidArgumentError',
        code: 'invalid_channel',
      });
      assert.deepEqual(await t.server.publish('gapless', 'ok'), { id: 1 });
      const message = await client.nextOfType('message');
      assert.deepEqual([message['id'], message['data']], [1, 'ok']);
      client.close();
    } finally {
      await t.stop();
    }
  });
});

describe('refused requests are not bad input', () => {
  test('many application errors do not close the connection; only malformed frames spend the error budget', async () => {
    const t = await startServer({
      errorBurst: 3,
      errorRefillPerSecond: 0.001,
      onMessage: () => {
        throw new ApplicationError('refused');
      },
    });
    try {
      const { client } = await connectV1(t);
      for (let id = 1; id <= 10; id++) {
        const reply = await client.request({ id, type: 'send', data: id });
        assert.equal((reply['error'] as { code: string }).code, 'application_error');
      }
      for (let id = 11; id <= 15; id++) {
        const reply = await client.request({ id, type: 'unsubscribe', channel: 'never' });
        assert.equal((reply['error'] as { code: string }).code, 'not_subscribed');
      }
      assert.deepEqual((await client.request({ id: 99, type: 'ping' }))['result'], {});
      client.close();
    } finally {
      await t.stop();
    }
  });

  test('at most 32 send commands wait on the hook at once; the rest get rate_limited', async () => {
    const release: (() => void)[] = [];
    const t = await startServer({
      onMessage: () => new Promise<string>((resolve) => release.push(() => resolve('done'))),
    });
    try {
      const { client } = await connectV1(t);
      for (let id = 1; id <= 33; id++) client.send({ id, type: 'send', data: id });
      const limited = await client.reply(33);
      assert.deepEqual(limited['error'], {
        code: 'rate_limited',
        message: 'at most 32 send commands in flight',
        temporary: true,
      });
      for (const r of release.splice(0)) r();
      assert.equal((await client.reply(1))['result'], 'done');
      const again = client.reply(34);
      client.send({ id: 34, type: 'send', data: 'again' });
      await until(() => release.length === 1, 3000, 'the hook to be called again');
      for (const r of release.splice(0)) r();
      assert.equal((await again)['result'], 'done', 'capacity came back once hooks finished');
      client.close();
    } finally {
      for (const r of release) r();
      await t.stop();
    }
  });
});
