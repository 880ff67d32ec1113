/** The client against a real Switchboard server on a free port. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { ApplicationError } from '@switchboard/server';
import { ConnectionClosedError, ServerError, SwitchboardClient, UnsubscribedError } from '../src/index.js';
import type { ChannelMessage, StateChange, SubscribedEvent } from '../src/index.js';
import { newClient, nextEvent, record, startServer, testScope } from './helpers.js';

/** Closers of the current test's clients, run before its server stops. */
const scope = testScope();
const server = scope.server;
const cleanup = scope.defer;

describe('connect', () => {
  it('resolves with the connected push and exposes it as the connection', async () => {
    const t = await server({ heartbeatIntervalMs: 5000, heartbeatTimeoutMs: 20000 });
    const client = newClient(t, cleanup);
    const connectedEvent = nextEvent(client, 'connected');
    const info = await client.connect();
    assert.equal(info.version, 1);
    assert.match(info.connectionId, new RegExp(`^${t.server.nodeId}-`));
    assert.equal(typeof info.sessionId, 'string');
    assert.equal(info.userId, null);
    assert.deepEqual(info.heartbeat, { interval: 5000, timeout: 20000 });
    assert.equal(typeof info.time, 'number');
    assert.equal(client.state, 'connected');
    assert.deepEqual(client.connection, info);
    assert.deepEqual(await connectedEvent, info);
    assert.notEqual(t.server.getConnection(info.connectionId), undefined);
  });

  it('returns the same promise while connecting, and the info at once when connected', async () => {
    const t = await server();
    const client = newClient(t, cleanup);
    const first = client.connect();
    assert.equal(client.connect(), first);
    const info = await first;
    assert.deepEqual(await client.connect(), info);
  });

  it('emits state changes in order, with codes and reasons', async () => {
    const t = await server();
    const client = newClient(t, cleanup);
    const states = record(client, 'state');
    const closed = record(client, 'closed');
    await client.connect();
    client.close(4100, 'bye');
    client.close();
    const summary = (s: StateChange): string => `${s.from}>${s.to}:${s.code}`;
    assert.deepEqual(states.map(summary), [
      'disconnected>connecting:0',
      'connecting>connected:1',
      'connected>closed:4100',
    ]);
    assert.equal(states[2]?.reason, 'bye');
    assert.deepEqual(closed, [{ code: 4100, reason: 'bye' }]);
    assert.equal(client.state, 'closed');
    assert.equal(client.connection, null);
  });

  it('connects again after close()', async () => {
    const t = await server();
    const client = newClient(t, cleanup);
    const first = await client.connect();
    client.close();
    const second = await client.connect();
    assert.notEqual(second.connectionId, first.connectionId);
    assert.equal(client.state, 'connected');
  });

  it('with reconnect: false, rejects with ConnectionClosedError (1006) when nothing listens', async () => {
    const t = await startServer();
    const url = t.url;
    await t.stop();
    const client = new SwitchboardClient(url, { WebSocket, reconnect: false });
    cleanup(() => client.close());
    const states = record(client, 'state');
    const disconnected = nextEvent(client, 'disconnected');
    await assert.rejects(client.connect(), (error: unknown) => {
      assert.ok(error instanceof ConnectionClosedError);
      assert.equal(error.code, 'connection_closed');
      assert.equal(error.closeCode, 1006);
      assert.equal(error.reconnect, false);
      return true;
    });
    assert.deepEqual(await disconnected, { code: 1006, reason: '', reconnect: false });
    assert.deepEqual(
      states.map((s) => s.to),
      ['connecting', 'disconnected'],
    );
  });

  it('rejects the connect() in progress when close() is called', async () => {
    const t = await server();
    const client = newClient(t, cleanup);
    const attempt = client.connect();
    client.close();
    await assert.rejects(attempt, { name: 'ConnectionClosedError', closeCode: 1000, reconnect: false });
    assert.equal(client.state, 'closed');
  });
});

describe('channels', () => {
  it('subscribe and publish round-trip with sequential message ids', async () => {
    const t = await server();
    const alice = newClient<{ text: string }>(t, cleanup);
    const bob = newClient<{ text: string }>(t, cleanup);
    await Promise.all([alice.connect(), bob.connect()]);
    assertSubscribed(await alice.subscribe('chat:lobby').ready(), 'chat:lobby');
    assertSubscribed(await bob.subscribe('chat:lobby').ready(), 'chat:lobby');
    const aliceSeen = record(alice, 'message');
    const bobThird = nextEvent(bob, 'message', (m) => m.id === 3);
    const bobSeen = record(bob, 'message');
    const results = [];
    for (const text of ['one', 'two', 'three']) results.push(await alice.publish('chat:lobby', { text }));
    assert.deepEqual(results, [{ id: 1 }, { id: 2 }, { id: 3 }]);
    await bobThird;
    const strip = (m: ChannelMessage<{ text: string }>): unknown => ({
      channel: m.channel,
      id: m.id,
      data: m.data,
    });
    const expected = [
      { channel: 'chat:lobby', id: 1, data: { text: 'one' } },
      { channel: 'chat:lobby', id: 2, data: { text: 'two' } },
      { channel: 'chat:lobby', id: 3, data: { text: 'three' } },
    ];
    assert.deepEqual(bobSeen.map(strip), expected);
    // The publisher's own messages arrive before the replies to its publishes.
    assert.deepEqual(aliceSeen.map(strip), expected);
    for (const m of bobSeen) assert.equal(typeof m.time, 'number');
    assertSubscribed(await bob.subscribe('chat:other').ready(), 'chat:other');
    // One Subscription per channel: subscribing again returns it; a raw subscribe is refused.
    assert.equal(alice.subscribe('chat:lobby'), alice.subscription('chat:lobby'));
    assert.deepEqual(
      await alice
        .request({ type: 'subscribe', channel: 'chat:lobby' })
        .catch((e: unknown) => e instanceof ServerError && e.code),
      'already_subscribed',
    );
  });

  it('ephemeral publishes carry no id; excludeSelf keeps a message from echoing back', async () => {
    const t = await server();
    const client = newClient(t, cleanup);
    await client.connect();
    await client.subscribe('cursor').ready();
    const seen = record(client, 'message');
    assert.deepEqual(await client.publish('cursor', { x: 1 }, { excludeSelf: true }), { id: 1 });
    const ephemeral = nextEvent(client, 'message');
    assert.deepEqual(await client.publish('cursor', { x: 2 }, { ephemeral: true }), {});
    const message = await ephemeral;
    assert.equal(message.id, undefined);
    assert.deepEqual(message.data, { x: 2 });
    assert.equal(seen.length, 1);
  });

  it('unsubscribe stops delivery; the server no longer holds the subscription', async () => {
    const t = await server();
    const client = newClient(t, cleanup);
    await client.connect();
    const news = client.subscribe('news');
    await news.ready();
    await client.unsubscribe('news');
    assert.equal(news.state, 'unsubscribed');
    assert.equal(news.position, null);
    await client.unsubscribe('news');
    await assert.rejects(client.request({ type: 'unsubscribe', channel: 'news' }), {
      name: 'ServerError',
      code: 'not_subscribed',
      temporary: false,
    });
    const seen = record(client, 'message');
    await t.server.publish('news', 'ignored');
    await client.ping();
    assert.equal(seen.length, 0);
  });

  it('an error reply rejects its request with a ServerError carrying the protocol code', async () => {
    const t = await server();
    const client = newClient(t, cleanup);
    await client.connect();
    await assert.rejects(client.history('no spaces allowed'), (error: unknown) => {
      assert.ok(error instanceof ServerError);
      assert.equal(error.name, 'ServerError');
      assert.equal(error.code, 'invalid_channel');
      assert.equal(error.temporary, false);
      assert.match(error.message, /channel may contain only/);
      return true;
    });
    // The connection is still usable, and ids keep matching replies.
    assertSubscribed(await client.subscribe('fine').ready(), 'fine');
  });

  it('a subscription refused for good ends unsubscribed, with an error event and a rejected ready()', async () => {
    const t = await server();
    const client = newClient(t, cleanup);
    await client.connect();
    const bad = client.subscribe('no spaces allowed');
    const failed = new Promise<Error>((resolve) => bad.once('error', (e) => resolve(e.error)));
    await assert.rejects(bad.ready({ timeoutMs: 3000 }), (error: unknown) => {
      assert.ok(error instanceof UnsubscribedError);
      assert.equal(error.code, 'unsubscribed');
      assert.ok(error.cause instanceof ServerError);
      assert.equal(error.cause.code, 'invalid_channel');
      return true;
    });
    assert.equal((await failed).name, 'ServerError');
    assert.equal(bad.state, 'unsubscribed');
    assert.equal(client.state, 'connected');
  });

  it('generic request() sends any command and matches replies by id when answered out of order', async () => {
    let release: (() => void) | undefined;
    const t = await server({
      onMessage: (_connection, data) =>
        data === 'slow' ? new Promise<string>((resolve) => (release = () => resolve('slow done'))) : data,
    });
    const client = newClient(t, cleanup);
    await client.connect();
    const slow = client.request({ type: 'send', data: 'slow' });
    const fast = client.request({ type: 'send', data: 'fast' });
    const subscribed = client.request({ type: 'subscribe', channel: 'c' });
    assert.equal(await fast, 'fast');
    const { epoch, ...rest } = await subscribed;
    assert.equal(typeof epoch, 'string');
    assert.deepEqual(rest, { channel: 'c', offset: 0 });
    assert.ok(release);
    release();
    assert.equal(await slow, 'slow done');
    assert.deepEqual(await client.request({ type: 'ping' }), {});
  });

  it('join and leave notices arrive as events', async () => {
    const t = await server({ presenceGraceMs: 0, channels: [{ pattern: 'room:*', presence: true }] });
    const alice = newClient(t, cleanup);
    const bob = newClient(t, cleanup);
    await alice.connect();
    const bobInfo = await bob.connect();
    const room = alice.subscribe('room:1');
    await room.ready();
    const join = nextEvent(alice, 'join');
    const roomJoin = new Promise((resolve) => room.once('join', resolve));
    await bob.subscribe('room:1').ready();
    assert.deepEqual(
      { ...(await join), time: 0 },
      { type: 'join', channel: 'room:1', connectionId: bobInfo.connectionId, userId: null, time: 0 },
    );
    assert.equal(await roomJoin, await join);
    const leave = nextEvent(alice, 'leave');
    await bob.unsubscribe('room:1');
    const left = await leave;
    assert.equal(left.connectionId, bobInfo.connectionId);
    assert.equal(left.channel, 'room:1');
  });
});

describe('messages to the application and from the server', () => {
  it('send() resolves with what the onMessage hook returned', async () => {
    const t = await server({
      onMessage: (connection, data) => ({ echo: data, from: connection.id }),
    });
    const client = newClient(t, cleanup);
    const info = await client.connect();
    assert.deepEqual(await client.send({ hello: 'world' }), {
      echo: { hello: 'world' },
      from: info.connectionId,
    });
  });

  it('send() rejects with not_available when the server has no hook, and application_error when it throws', async () => {
    const bare = await server();
    const client = newClient(bare, cleanup);
    await client.connect();
    await assert.rejects(client.send('hi'), { name: 'ServerError', code: 'not_available', temporary: false });

    const strict = await server({
      onMessage: () => {
        throw new ApplicationError('nope');
      },
    });
    const other = newClient(strict, cleanup);
    await other.connect();
    await assert.rejects(other.send('hi'), {
      name: 'ServerError',
      code: 'application_error',
      message: 'nope',
    });
  });

  it('direct and broadcast messages arrive as events', async () => {
    const t = await server();
    const client = newClient(t, cleanup);
    const info = await client.connect();
    const direct = nextEvent(client, 'direct');
    await t.server.sendToConnection(info.connectionId, { for: 'you' });
    assert.deepEqual((await direct).data, { for: 'you' });
    const broadcast = nextEvent(client, 'broadcast');
    await t.server.broadcast('everyone');
    assert.equal((await broadcast).data, 'everyone');
  });

  it('notify() sends without an id; a failure comes back as an error event', async () => {
    const t = await server();
    const client = newClient(t, cleanup);
    await client.connect();
    const error = nextEvent(client, 'error');
    assert.equal(client.notify({ type: 'subscribe', channel: 'bad channel' }), 'sent');
    const pushed = await error;
    assert.ok(pushed instanceof ServerError);
    assert.equal(pushed.code, 'invalid_channel');
    assert.equal(client.notify({ type: 'subscribe', channel: 'good' }), 'sent');
    // Commands are handled in order, so this reply proves the notified subscribe took effect.
    await assert.rejects(client.request({ type: 'subscribe', channel: 'good' }), {
      code: 'already_subscribed',
    });
    const message = nextEvent(client, 'message');
    await t.server.publish('good', 42);
    assert.equal((await message).data, 42);
  });
});

describe('closing', () => {
  it('close() rejects pending requests with connection_closed', async () => {
    const t = await server({ onMessage: () => new Promise(() => {}) });
    const client = newClient(t, cleanup);
    await client.connect();
    const pending = [client.send(1), client.send(2), client.ping()];
    client.close();
    for (const request of pending) {
      await assert.rejects(request, {
        name: 'ConnectionClosedError',
        code: 'connection_closed',
        closeCode: 1000,
      });
    }
    await assert.rejects(client.send(3), { name: 'NotConnectedError', state: 'closed' });
  });

  it('a terminal close from the server (kicked, 4502) is reported with reconnect: false and fails pending requests', async () => {
    const t = await server({ onMessage: () => new Promise(() => {}) });
    const client = newClient(t, cleanup);
    const info = await client.connect();
    const pending = client.send('waiting');
    const states = record(client, 'state');
    const disconnected = nextEvent(client, 'disconnected');
    await t.server.disconnectConnection(info.connectionId);
    assert.deepEqual(await disconnected, {
      code: 4502,
      reason: 'disconnected by the server',
      reconnect: false,
    });
    await assert.rejects(pending, { name: 'ConnectionClosedError', closeCode: 4502, reconnect: false });
    assert.deepEqual(states, [
      { from: 'connected', to: 'disconnected', code: 4502, reason: 'disconnected by the server' },
    ]);
    assert.equal(client.state, 'disconnected');
  });

  it('a server shutdown (1001) is reported with reconnect: true', async () => {
    const t = await startServer();
    const client = newClient(t, cleanup);
    await client.connect();
    const disconnected = nextEvent(client, 'disconnected');
    await t.stop();
    assert.deepEqual(await disconnected, { code: 1001, reason: 'server shutting down', reconnect: true });
  });

  it('a force-reconnect close (4002) is reported with reconnect: true', async () => {
    const t = await server();
    const client = newClient(t, cleanup);
    const info = await client.connect();
    const disconnected = nextEvent(client, 'disconnected');
    await t.server.disconnectConnection(info.connectionId, { code: 4002, reason: 'rebalance' });
    assert.deepEqual(await disconnected, { code: 4002, reason: 'rebalance', reconnect: true });
  });
});

/** The subscribed event of a fresh channel: offset 0 and the stream's epoch (random, so only its type is checked). */
function assertSubscribed(event: SubscribedEvent, channel: string): void {
  assert.equal(typeof event.position.epoch, 'string');
  assert.deepEqual(event, { channel, position: { offset: 0, epoch: event.position.epoch }, replayed: 0 });
}
