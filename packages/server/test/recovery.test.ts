// History, positions, epochs and recovery on the server: never a silent gap, never a partial replay.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, connectV1, startServer, waitMembers } from './helpers.js';
import type { TestClient, TestServer } from './helpers.js';
import { BackendUnavailableError, createMemoryEngine, systemClock } from '../src/index.js';
import type { Broker, BrokerHandler, Clock, Engine, HistoryStore, Publication } from '../src/index.js';

interface SubscribeResult {
  channel: string;
  offset: number;
  epoch: string;
  recovered?: boolean;
  messages?: { id: number; data: unknown; time: number }[];
}

async function subscribe(
  client: TestClient,
  id: number,
  channel: string,
  since?: { offset: number; epoch: string },
): Promise<SubscribeResult> {
  const reply = await client.request({
    id,
    type: 'subscribe',
    channel,
    ...(since === undefined ? {} : { since }),
  });
  assert.equal(reply['error'], undefined, JSON.stringify(reply['error']));
  return reply['result'] as SubscribeResult;
}

async function publishMany(t: TestServer, channel: string, from: number, to: number): Promise<void> {
  for (let n = from; n <= to; n++) await t.server.publish(channel, { n });
}

describe('recovery from a position', () => {
  let t: TestServer;
  before(async () => {
    t = await startServer({
      historySize: 10,
      channels: [{ pattern: 'big:*', history: { size: 1000 } }],
      // One test publishes 250 messages back to back over one connection: past the default rate limit.
      messagesPerSecond: 0,
    });
  });
  after(() => t.stop());

  test('the subscribe reply carries the position; a later subscribe from it recovers exactly what was missed', async () => {
    const { client } = await connectV1(t);
    const start = await subscribe(client, 1, 'news');
    assert.equal(start.offset, 0);
    await publishMany(t, 'news', 1, 3);
    for (let n = 1; n <= 3; n++) assert.equal((await client.nextOfType('message'))['id'], n);
    client.close();
    await publishMany(t, 'news', 4, 8); // missed while away
    const { client: back } = await connectV1(t);
    const result = await subscribe(back, 1, 'news', { offset: 3, epoch: start.epoch });
    assert.equal(result.recovered, true);
    assert.deepEqual(
      result.messages?.map((m) => [m.id, m.data]),
      [4, 5, 6, 7, 8].map((n) => [n, { n }]),
    );
    assert.equal(result.offset, 8);
    await t.server.publish('news', { n: 9 });
    const live = await back.nextOfType('message');
    assert.equal(live['id'], 9, 'live messages continue right after the replay');
    back.close();
  });

  test('a position from before the retained window is not recovered, and nothing partial is replayed', async () => {
    const { client } = await connectV1(t);
    const start = await subscribe(client, 1, 'short');
    client.close();
    await publishMany(t, 'short', 1, 25); // only the last 10 are retained
    const { client: back } = await connectV1(t);
    const result = await subscribe(back, 1, 'short', { offset: 0, epoch: start.epoch });
    assert.equal(result.recovered, false);
    assert.deepEqual(result.messages, []);
    assert.equal(result.offset, 25);
    // exactly at the edge of the window: 15 is the last message before the 10 retained (16..25)
    const edge = await subscribe(back, 2, 'short', { offset: 15, epoch: start.epoch });
    assert.equal(edge.recovered, true, 'a resync from the edge of the window recovers');
    assert.deepEqual(
      edge.messages?.map((m) => m.id),
      [16, 17, 18, 19, 20, 21, 22, 23, 24, 25],
    );
    back.close();
  });

  test('another epoch is never recovered', async () => {
    const { client } = await connectV1(t);
    await publishMany(t, 'epochs', 1, 2);
    const result = await subscribe(client, 1, 'epochs', { offset: 1, epoch: 'not-the-epoch' });
    assert.deepEqual([result.recovered, result.messages], [false, []]);
    const ahead = await subscribe(client, 2, 'epochs', { offset: 99, epoch: result.epoch });
    assert.equal(ahead.recovered, false, 'a position ahead of the stream is not recoverable');
    client.close();
  });

  test('messages published while the history is read are neither lost nor duplicated', async () => {
    const { client: publisher } = await connectV1(t);
    const { client } = await connectV1(t);
    const start = await subscribe(client, 1, 'big:race');
    await publishMany(t, 'big:race', 1, 50);
    await client.request({ id: 2, type: 'unsubscribe', channel: 'big:race' });
    client.messages.length = 0;
    // Recover from 0 while a stream of publishes keeps arriving.
    let published = 50;
    const publishing = (async () => {
      while (published < 300) {
        await publisher.request({
          id: published,
          type: 'publish',
          channel: 'big:race',
          data: { n: published + 1 },
        });
        published++;
      }
    })();
    const result = await subscribe(client, 3, 'big:race', { offset: 0, epoch: start.epoch });
    assert.equal(result.recovered, true);
    await publishing;
    const ids = (result.messages ?? []).map((m) => m.id);
    while (ids[ids.length - 1] !== 300) ids.push((await client.nextOfType('message'))['id'] as number);
    assert.deepEqual(
      ids,
      Array.from({ length: 300 }, (_, i) => i + 1),
      'every message once, in order',
    );
    client.close();
    publisher.close();
  });

  test('a subscribe with since on a held channel re-synchronises it', async () => {
    const { client } = await connectV1(t);
    const start = await subscribe(client, 1, 'resync');
    await publishMany(t, 'resync', 1, 4);
    for (let n = 1; n <= 4; n++) await client.nextOfType('message');
    const again = await subscribe(client, 2, 'resync', { offset: 2, epoch: start.epoch });
    assert.deepEqual([again.recovered, again.messages?.map((m) => m.id)], [true, [3, 4]]);
    await t.server.publish('resync', { n: 5 });
    assert.equal(
      (await client.nextOfType('message'))['id'],
      5,
      'still subscribed, no duplicate of 3 and 4 afterwards',
    );
    const plain = await client.request({ id: 3, type: 'subscribe', channel: 'resync' });
    assert.equal(
      (plain['error'] as { code: string }).code,
      'already_subscribed',
      'without since it is still an error',
    );
    client.close();
  });

  test('ephemeral messages skip history and take no id', async () => {
    const { client } = await connectV1(t);
    const start = await subscribe(client, 1, 'typing');
    assert.deepEqual(await t.server.publish('typing', { typing: true }, { ephemeral: true }), {});
    assert.equal((await client.nextOfType('message'))['id'], undefined);
    await t.server.publish('typing', 'kept');
    const history = await client.request({ id: 2, type: 'history', channel: 'typing' });
    const result = history['result'] as {
      messages: { id: number; data: unknown }[];
      offset: number;
      epoch: string;
    };
    assert.deepEqual(
      result.messages.map((m) => [m.id, m.data]),
      [[1, 'kept']],
    );
    assert.equal(result.epoch, start.epoch);
    client.close();
  });

  test('history: since, limit and completeness, over the protocol and the library', async () => {
    await publishMany(t, 'big:history', 1, 30);
    const { client } = await connectV1(t);
    const page = (
      await client.request({ id: 1, type: 'history', channel: 'big:history', since: 10, limit: 5 })
    )['result'] as {
      messages: { id: number }[];
      complete: boolean;
      offset: number;
    };
    assert.deepEqual(
      page.messages.map((m) => m.id),
      [11, 12, 13, 14, 15],
    );
    assert.deepEqual([page.complete, page.offset], [true, 30]);
    const trimmed = await t.server.history('short', { since: 0 });
    assert.equal(trimmed.complete, false, 'messages 1..15 of `short` were trimmed');
    assert.deepEqual(trimmed.messages[0]?.id, 16);
    const bad = await client.request({ id: 2, type: 'history', channel: 'big:history', limit: 5000 });
    assert.equal((bad['error'] as { code: string }).code, 'bad_request');
    client.close();
  });
});

test('a restart of the in-memory engine changes the epoch: recovered false', async () => {
  const first = await startServer();
  const { client } = await connectV1(first);
  const start = await subscribe(client, 1, 'restart');
  await publishMany(first, 'restart', 1, 3);
  await first.stop();
  const second = await startServer();
  try {
    await publishMany(second, 'restart', 1, 5);
    const { client: back } = await connectV1(second);
    const result = await subscribe(back, 1, 'restart', { offset: 3, epoch: start.epoch });
    assert.notEqual(result.epoch, start.epoch);
    assert.deepEqual([result.recovered, result.messages, result.offset], [false, [], 5]);
    back.close();
  } finally {
    await second.stop();
  }
});

test('history expires after its time-to-live (injected clock)', async () => {
  let skew = 0;
  const clock: Clock = { ...systemClock, now: () => Date.now() + skew };
  const t = await startServer({
    clock,
    historyTtlMs: 60_000,
    heartbeatTimeoutMs: 3_600_000,
    heartbeatIntervalMs: 1_000_000,
  });
  try {
    const { client } = await connectV1(t);
    const start = await subscribe(client, 1, 'ttl');
    client.close();
    await publishMany(t, 'ttl', 1, 3);
    skew = 61_000;
    const { client: back } = await connectV1(t);
    const result = await subscribe(back, 1, 'ttl', { offset: 0, epoch: start.epoch });
    assert.equal(result.recovered, false, 'the missed messages expired');
    back.close();
  } finally {
    await t.stop();
  }
});

describe('/ws/:room?last_message_id=N', () => {
  let t: TestServer;
  before(async () => {
    t = await startServer({ historySize: 5 });
  });
  after(() => t.stop());

  test('replays every message with id > N, then a recovery notice, then goes live', async () => {
    const ws = await connect(`${t.wsUrl}/ws/replay`);
    for (let n = 1; n <= 4; n++) ws.send({ type: 'message', text: `m${n}` });
    for (let n = 1; n <= 4; n++) assert.equal((await ws.next())['id'], n);
    ws.close();
    const back = await connect(`${t.wsUrl}/ws/replay?last_message_id=2`);
    assert.deepEqual(await back.next(), { type: 'message', text: 'm3', id: 3 });
    assert.deepEqual(await back.next(), { type: 'message', text: 'm4', id: 4 });
    const notice = await back.next();
    assert.deepEqual({ ...notice, epoch: 'x' }, { type: 'recovery', recovered: true, offset: 4, epoch: 'x' });
    back.send({ type: 'message', text: 'm5' });
    assert.deepEqual(await back.next(), { type: 'message', text: 'm5', id: 5 });
    back.close();
  });

  test('a position outside the window gets recovered: false and no partial replay', async () => {
    const ws = await connect(`${t.wsUrl}/ws/window`);
    for (let n = 1; n <= 12; n++) ws.send({ type: 'message', n });
    for (let n = 1; n <= 12; n++) await ws.next();
    ws.close();
    const back = await connect(`${t.wsUrl}/ws/window?last_message_id=1`);
    const notice = await back.next();
    assert.deepEqual([notice['type'], notice['recovered'], notice['offset']], ['recovery', false, 12]);
    const wrongEpoch = await connect(`${t.wsUrl}/ws/window?last_message_id=11&epoch=other`);
    assert.equal((await wrongEpoch.next())['recovered'], false);
    back.close();
    wrongEpoch.close();
  });

  test('a malformed last_message_id is refused before the upgrade with 400', async () => {
    const { upgradeStatus } = await import('./helpers.js');
    const { status, body } = await upgradeStatus(`${t.wsUrl}/ws/replay?last_message_id=abc`);
    assert.equal(status, 400);
    assert.equal((JSON.parse(body) as { error: { code: string } }).error.code, 'bad_request');
  });
});

/** A real broker around the memory one that fails to deliver the publications it is told to (a lossy pub/sub). */
function lossyEngine(drop: (p: Publication) => boolean): Engine {
  const engine = createMemoryEngine();
  const inner = engine.broker;
  const broker: Broker = {
    start: (handler: BrokerHandler) =>
      inner.start({
        onPublication: (p) => {
          if (!drop(p)) handler.onPublication(p);
        },
        onEnvelope: (e) => handler.onEnvelope(e),
        onReconnected: () => handler.onReconnected(),
      }),
    publish: (channel, input) => inner.publish(channel, input),
    send: (envelope) => inner.send(envelope),
    subscribe: (channel) => inner.subscribe(channel),
    unsubscribe: (channel) => inner.unsubscribe(channel),
    watchUser: (userId) => inner.watchUser(userId),
    unwatchUser: (userId) => inner.unwatchUser(userId),
    close: () => inner.close(),
  };
  return { ...engine, broker };
}

/**
 * A backend blip, as the Redis engine has them: while `losing`, the broker delivers nothing; `reconnect()`
 * reports delivery back (the hub then checks every channel against history); and the next
 * `positionFailures` position reads fail as a backend still coming back does.
 */
function blippingEngine(): {
  engine: Engine;
  state: { losing: boolean; positionFailures: number; positionReads: number };
  reconnect(): void;
} {
  const state = { losing: false, positionFailures: 0, positionReads: 0 };
  const lossy = lossyEngine(() => state.losing);
  let handler: BrokerHandler | undefined;
  const broker: Broker = {
    ...lossy.broker,
    start: (h: BrokerHandler) => {
      handler = h;
      return lossy.broker.start(h);
    },
  };
  const inner = lossy.history;
  const history: HistoryStore = {
    position: (channel) => {
      state.positionReads++;
      if (state.positionFailures === 0) return inner.position(channel);
      state.positionFailures--;
      return Promise.reject(new BackendUnavailableError('the backend is coming back'));
    },
    read: (channel, query) => inner.read(channel, query),
    recover: (channel, since, limit) => inner.recover(channel, since, limit),
    hold: (channel) => inner.hold(channel),
    release: (channel) => inner.release(channel),
    close: () => inner.close(),
  };
  return { engine: { ...lossy, broker, history }, state, reconnect: () => handler?.onReconnected() };
}

describe('gaps between the broker and this node', () => {
  test('after a blip, a stream check that fails is retried: the node catches up from history, nobody resubscribes', async () => {
    const blip = blippingEngine();
    const t = await startServer({ engine: blip.engine });
    try {
      const { client } = await connectV1(t);
      await subscribe(client, 1, 'blip');
      await publishMany(t, 'blip', 1, 2);
      for (let n = 1; n <= 2; n++) assert.equal((await client.nextOfType('message'))['id'], n);

      blip.state.losing = true;
      await publishMany(t, 'blip', 3, 4); // never delivered to this node
      blip.state.losing = false;
      blip.state.positionFailures = 1;
      const reads = blip.state.positionReads;
      blip.reconnect();
      await publishMany(t, 'blip', 5, 5); // waits behind the check
      for (let n = 3; n <= 5; n++) assert.equal((await client.nextOfType('message'))['id'], n);
      assert.equal(blip.state.positionReads - reads, 2, 'the check failed once, then was retried');
      assert.deepEqual(
        client.pending().filter((m) => (m as { type?: string }).type === 'unsubscribed'),
        [],
        'a blip sends nobody to resubscribe',
      );
      client.close();
    } finally {
      await t.stop();
    }
  });

  test('a lost publication is filled from history: subscribers see every message once, in order', async () => {
    const t = await startServer({ engine: lossyEngine((p) => p.id === 3 || p.id === 7) });
    try {
      const { client } = await connectV1(t);
      await subscribe(client, 1, 'lossy');
      const room = await connect(`${t.wsUrl}/ws/lossy`);
      await waitMembers(t, 'lossy', 2);
      await publishMany(t, 'lossy', 1, 10);
      for (let n = 1; n <= 10; n++) {
        assert.equal((await client.nextOfType('message'))['id'], n);
        assert.equal((await room.next())['id'], n);
      }
      client.close();
      room.close();
    } finally {
      await t.stop();
    }
  });

  test('a gap history cannot fill makes v1 subscribers resubscribe and room members reconnect', async () => {
    const t = await startServer({ historySize: 0, engine: lossyEngine((p) => p.id === 3) });
    try {
      const { client } = await connectV1(t);
      await subscribe(client, 1, 'lossy');
      const room = await connect(`${t.wsUrl}/ws/lossy`);
      await waitMembers(t, 'lossy', 2);
      await publishMany(t, 'lossy', 1, 4);
      assert.equal((await client.nextOfType('message'))['id'], 1);
      assert.equal((await client.nextOfType('message'))['id'], 2);
      const unsubscribed = await client.nextOfType('unsubscribed');
      assert.deepEqual([unsubscribed['channel'], unsubscribed['resubscribe']], ['lossy', true]);
      assert.equal((await room.closed).code, 4002);
      assert.equal(client.pending().length, 0, 'message 4 was not delivered past the gap');
      client.close();
    } finally {
      await t.stop();
    }
  });
});

test('subscribe, unsubscribe, subscribe in one burst: the live hold stays with the last join, nothing is lost or doubled', async () => {
  const t = await startServer();
  try {
    const { client } = await connectV1(t);
    const { client: publisher } = await connectV1(t);
    for (let round = 0; round < 20; round++) {
      const channel = `burst:${round}`;
      // Sent back to back: they reach the server in one chunk, so every join overlaps the next.
      client.send({ id: 1, type: 'subscribe', channel });
      client.send({ id: 2, type: 'unsubscribe', channel });
      client.send({ id: 3, type: 'subscribe', channel });
      publisher.send({ id: 4, type: 'publish', channel, data: round });
      const third = await client.reply(3);
      assert.equal(third['error'], undefined, JSON.stringify(third));
      const first = await client.reply(1);
      assert.ok(
        first['result'] !== undefined || (first['error'] as { code: string }).code === 'not_subscribed',
      );
      await client.reply(2);
      await publisher.reply(4);
      await t.server.publish(channel, 'marker');
      const seen: unknown[] = [];
      for (;;) {
        const m = await client.next((f) => f['type'] === 'message' && f['channel'] === channel);
        if (m['data'] === 'marker') break;
        seen.push(m['data']);
      }
      const offset = (third['result'] as { offset: number }).offset;
      // The publish either landed before the third subscription started (then it is not delivered) or after
      // (then it is delivered exactly once).
      assert.deepEqual(seen, offset >= 1 ? [] : [round]);
    }
    client.close();
    publisher.close();
  } finally {
    await t.stop();
  }
});
