/**
 * Channel streams are bounded (issue 17): a stream with no members and no messages left is forgotten once
 * its time has passed and beyond `maxIdleStreams`, `/stats` `streams` shows what the node holds, members
 * protect a stream, and forgetting is honest (an old position gets `recovered: false`, the new messages
 * arrive). On the memory engine with a clock the tests move, then on the Redis engine, whose keys expire on
 * the same rule (checked with PTTL and EXISTS on a Redis of the test's own).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { createRedisEngine } from '../src/engine/redis-engine.js';
import { createRedisClient, parseRedisUrl } from '../src/redis/redis-connection.js';
import { RedisKeys } from '../src/redis/redis-keys.js';
import type { ServerOptions } from '../src/index.js';
import { ShiftedClock } from './auth-fixtures.js';
import { connectV1, startServer } from './helpers.js';
import type { TestClient, TestServer } from './helpers.js';
import { redisPerSuite, redisRequirement } from './redis-harness.js';

/** The shortest history TTL the server takes (ms): with the default stream TTL, the idle streams' time. */
const HISTORY_TTL_MS = 1000;
/** Bound on Redis expiring a key once its PX has run out (lazily, and in a 10 Hz sweep), plus a loaded machine. */
const EXPIRY_BOUND_MS = 2000;

interface Subscribed {
  offset: number;
  epoch: string;
  recovered?: boolean;
  messages?: { id: number; data: unknown }[];
}

async function subscribe(
  client: TestClient,
  id: number,
  channel: string,
  since?: { offset: number; epoch: string },
): Promise<Subscribed> {
  const reply = await client.request({ id, type: 'subscribe', channel, ...(since ? { since } : {}) });
  assert.equal(reply['error'], undefined, JSON.stringify(reply['error']));
  return reply['result'] as Subscribed;
}

async function unsubscribe(client: TestClient, id: number, channel: string): Promise<void> {
  const reply = await client.request({ id, type: 'unsubscribe', channel });
  assert.equal(reply['error'], undefined, JSON.stringify(reply['error']));
}

async function http(t: TestServer, method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${t.httpUrl}${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  assert.equal(res.status, 200, `${method} ${path}: ${res.status}`);
  return res.json();
}

/** `/stats` `streams`, as an operator reads it. */
async function streams(t: TestServer): Promise<number | null> {
  return ((await http(t, 'GET', '/stats')) as { streams: number | null }).streams;
}

/** Publish `{n}` to `channel` through the HTTP API; resolves with the message id. */
async function publish(t: TestServer, channel: string, n: number): Promise<number> {
  return ((await http(t, 'POST', '/api/publish', { channel, data: { n } })) as { id: number }).id;
}

/** Resolve once `/stats` `streams` satisfies `done`, polling (the sweeper runs on real timers). */
async function untilStreams(t: TestServer, done: (n: number) => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const n = await streams(t);
    if (n !== null && done(n)) return;
    assert.ok(Date.now() < deadline, `timed out waiting for ${what} (streams: ${n})`);
    await delay(25);
  }
}

describe('channel streams are bounded (memory engine)', () => {
  const servers: TestServer[] = [];
  async function serve(options: ServerOptions): Promise<TestServer> {
    const t = await startServer({ messagesPerSecond: 0, ...options });
    servers.push(t);
    return t;
  }
  after(async () => {
    await Promise.all(servers.map((t) => t.stop()));
  });

  test('a flood of distinct channels keeps at most maxIdleStreams idle streams, as /stats streams shows', async () => {
    const t = await serve({ maxIdleStreams: 50, historySize: 0 });
    assert.equal(await streams(t), 0);
    const { client } = await connectV1(t);
    await subscribe(client, 1, 'kept');
    for (let i = 0; i < 500; i++) {
      await publish(t, `dist-${i}`, i);
      if (i % 100 === 99) assert.ok(((await streams(t)) ?? Infinity) <= 51, `after ${i + 1} publishes`);
    }
    assert.equal(await streams(t), 51, '50 idle streams and the one with a member');
    // The least recently used went first: the last publishes are still known, the first are not.
    assert.equal(((await http(t, 'GET', '/api/channels/dist-499')) as { offset: number }).offset, 1);
    assert.equal(((await http(t, 'GET', '/api/channels/dist-0')) as { offset: number }).offset, 0);
    // Reads of channels that have no stream are bounded the same way.
    for (let i = 0; i < 200; i++) await http(t, 'GET', `/api/channels/read-${i}`);
    await http(t, 'GET', '/api/channels/read-history/history');
    assert.equal(await streams(t), 51);
    client.close();
  });

  test('a stream with no members and no messages left is forgotten once its history TTL has passed', async () => {
    const clock = new ShiftedClock();
    const t = await serve({ clock, historyTtlMs: HISTORY_TTL_MS });
    for (let i = 0; i < 100; i++) await publish(t, `dist-${i}`, i);
    await http(t, 'GET', '/api/channels/never-published');
    assert.equal(await streams(t), 101);
    assert.equal(((await http(t, 'GET', '/api/channels/dist-99')) as { offset: number }).offset, 1);
    clock.advance(HISTORY_TTL_MS + 1);
    await untilStreams(t, (n) => n === 0, 'every stream to be forgotten');
    // The probe: the channel is no longer known (a read creates a new stream, bounded the same way).
    const info = (await http(t, 'GET', '/api/channels/dist-99')) as { offset: number };
    assert.equal(info.offset, 0);
  });

  test('forgetting is honest: an old position gets recovered false, and the new messages arrive', async () => {
    const clock = new ShiftedClock();
    const t = await serve({ clock, historyTtlMs: HISTORY_TTL_MS });
    const { client } = await connectV1(t);
    const start = await subscribe(client, 1, 'honest');
    await publish(t, 'honest', 1);
    await publish(t, 'honest', 2);
    assert.equal((await client.nextOfType('message'))['id'], 1);
    assert.equal((await client.nextOfType('message'))['id'], 2);
    const old = { offset: 2, epoch: start.epoch };
    await unsubscribe(client, 2, 'honest');
    clock.advance(HISTORY_TTL_MS + 1);
    await untilStreams(t, (n) => n === 0, 'the stream to be forgotten');
    assert.equal(await publish(t, 'honest', 3), 1, 'the next publish starts a new stream');
    const back = await subscribe(client, 3, 'honest', old);
    assert.equal(back.recovered, false);
    assert.deepEqual(back.messages, []);
    assert.equal(back.offset, 1);
    assert.notEqual(back.epoch, old.epoch);
    await publish(t, 'honest', 4);
    const live = await client.nextOfType('message');
    assert.deepEqual([live['id'], live['data']], [2, { n: 4 }]);
    client.close();
  });

  test('members protect a stream: neither time nor a flood of channels forgets it under them', async () => {
    const clock = new ShiftedClock();
    const t = await serve({ clock, historyTtlMs: HISTORY_TTL_MS, maxIdleStreams: 5, historySize: 0 });
    const { client } = await connectV1(t);
    const start = await subscribe(client, 1, 'guarded');
    assert.equal(await publish(t, 'guarded', 1), 1);
    await client.nextOfType('message');
    clock.advance(10 * HISTORY_TTL_MS);
    for (let i = 0; i < 50; i++) await publish(t, `flood-${i}`, i);
    assert.ok(((await streams(t)) ?? Infinity) <= 6);
    clock.advance(HISTORY_TTL_MS + 1);
    await untilStreams(t, (n) => n === 1, 'the flood to be forgotten');
    assert.equal(await publish(t, 'guarded', 2), 2, 'the same stream goes on');
    assert.equal((await client.nextOfType('message'))['id'], 2);
    const { client: other } = await connectV1(t);
    const resumed = await subscribe(other, 1, 'guarded', { offset: 2, epoch: start.epoch });
    assert.equal(resumed.recovered, true, 'a position under the members still recovers');
    client.close();
    other.close();
  });
});

describe('channel streams are bounded (Redis engine)', { skip: redisRequirement.skip }, () => {
  const redis = redisPerSuite();
  let t: TestServer;
  let keys: RedisKeys;
  let client: ReturnType<typeof createRedisClient>;
  before(async () => {
    const { url } = redis();
    keys = new RedisKeys(`t${randomBytes(4).toString('hex')}`);
    client = createRedisClient(parseRedisUrl(url), { commandTimeoutMs: 2000 });
    client.on('error', () => {});
    await client.connect();
    // The stream TTL the CLI passes: at least the history TTL.
    const engine = createRedisEngine({
      url,
      prefix: keys.prefix,
      streamTtlMs: HISTORY_TTL_MS,
      unsubscribeDelayMs: 50,
    });
    t = await startServer({ engine, historyTtlMs: HISTORY_TTL_MS, messagesPerSecond: 0 });
  });
  after(async () => {
    await t.stop();
    client.disconnect();
  });

  /** Resolve once the channel's keys are gone from Redis, within their TTL and the expiry bound. */
  async function gone(channel: string): Promise<void> {
    const deadline = Date.now() + HISTORY_TTL_MS + EXPIRY_BOUND_MS;
    while ((await client.exists(keys.meta(channel), keys.stream(channel))) > 0) {
      assert.ok(Date.now() < deadline, `the keys of ${channel} are still in Redis`);
      await delay(25);
    }
  }

  test('/stats streams is null: the streams live in Redis', async () => {
    assert.equal(await streams(t), null);
  });

  test('a publish, or a read of a channel with no stream, leaves keys that expire after the stream TTL', async () => {
    await publish(t, 'lonely', 1);
    const meta = await client.pttl(keys.meta('lonely'));
    const stream = await client.pttl(keys.stream('lonely'));
    assert.ok(meta > 0 && meta <= HISTORY_TTL_MS, `meta PTTL ${meta}`);
    assert.ok(stream > 0 && stream <= HISTORY_TTL_MS, `stream PTTL ${stream}`);
    await http(t, 'GET', '/api/channels/unread');
    const unread = await client.pttl(keys.meta('unread'));
    assert.ok(unread > 0 && unread <= HISTORY_TTL_MS, `meta PTTL of a read ${unread}`);
    await gone('lonely');
    await gone('unread');
  });

  test('members keep the keys alive; after the last leaves they expire, and a later subscriber is told honestly', async () => {
    const { client: ws } = await connectV1(t);
    const start = await subscribe(ws, 1, 'guarded');
    await publish(t, 'guarded', 1);
    assert.equal((await ws.nextOfType('message'))['id'], 1);
    // Three stream TTLs with a member: the keys never expire (the node pushes them forward).
    const until3 = Date.now() + 3 * HISTORY_TTL_MS;
    while (Date.now() < until3) {
      const ttl = await client.pttl(keys.meta('guarded'));
      assert.ok(ttl > 0, `meta PTTL ${ttl} under a member`);
      await delay(100);
    }
    await unsubscribe(ws, 2, 'guarded');
    await gone('guarded');
    assert.equal(await publish(t, 'guarded', 2), 1, 'forgotten: a new stream');
    const back = await subscribe(ws, 3, 'guarded', { offset: 1, epoch: start.epoch });
    assert.equal(back.recovered, false);
    assert.notEqual(back.epoch, start.epoch);
    await publish(t, 'guarded', 3);
    const live = await ws.nextOfType('message');
    assert.deepEqual([live['id'], live['data']], [2, { n: 3 }]);
    ws.close();
  });
});
