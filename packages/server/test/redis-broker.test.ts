/**
 * The Redis broker beyond the contract, on real redis-server processes: several brokers ("nodes") on one
 * Redis route channel publications, user and connection envelopes only where they are wanted; subscribes
 * are batched and acknowledged, unsubscribes delayed; a Redis outage fails fast and recovers (resubscribed
 * in one batch, then onReconnected); the pub/sub probe finds a silent subscriber; on a 3-master cluster
 * everything runs over sharded pub/sub, one subscriber connection per master.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { RedisBroker } from '../src/broker/redis-broker.js';
import type { RedisBrokerOptions } from '../src/broker/redis-broker.js';
import { RedisHistoryStore } from '../src/history/redis-history-store.js';
import type { RedisContext } from '../src/redis/redis-context.js';
import { createRedisClient, parseRedisUrl } from '../src/redis/redis-connection.js';
import { RedisKeys, hashSlot } from '../src/redis/redis-keys.js';
import type { NodeMembership } from '../src/nodes/node-registry.js';
import { BackendUnavailableError } from '../src/errors.js';
import { silentLogger, systemClock } from '../src/index.js';
import { Recorder, durable, freshChannel, sendUntilDelivered } from './broker-contract.js';
import { redisRequirement, startRedis, startRedisCluster } from './redis-harness.js';
import type { RedisCluster, RedisProcess } from './redis-harness.js';
import { adminClient, eventually } from './scale-helpers.js';
import { TcpProxy } from '../../client/test/tcp-proxy.js';

const SUITE = { skip: redisRequirement.skip };
const T = { timeout: 20_000 };
const COMMAND_TIMEOUT_MS = 1000;

/** Every NodeMembership call, as `added channel x` / `removed user y`. */
class MembershipLog implements NodeMembership {
  readonly calls: string[] = [];
  channelAdded(channel: string): void {
    this.calls.push(`added channel ${channel}`);
  }
  channelRemoved(channel: string): void {
    this.calls.push(`removed channel ${channel}`);
  }
  userAdded(userId: string): void {
    this.calls.push(`added user ${userId}`);
  }
  userRemoved(userId: string): void {
    this.calls.push(`removed user ${userId}`);
  }
}

interface TestNode {
  readonly nodeId: string;
  readonly keys: RedisKeys;
  readonly broker: RedisBroker;
  readonly history: RedisHistoryStore;
  readonly recorder: Recorder;
  readonly membership: MembershipLog;
  close(): Promise<void>;
}

const cleanups: (() => Promise<void> | void)[] = [];

/** A redis-server of the test's own, stopped when the test ends. */
async function ownRedis(): Promise<RedisProcess> {
  redisRequirement.assert();
  const redis = await startRedis();
  cleanups.push(() => redis.stop());
  return redis;
}

/** A proxy in front of `redis` (a path the test can cut or stall), closed when the test ends. */
async function linkTo(redis: RedisProcess): Promise<TcpProxy> {
  const link = await TcpProxy.start(redis.url);
  cleanups.push(() => link.close());
  return link;
}

interface NodeOptions extends Partial<RedisBrokerOptions> {
  readonly nodeId?: string;
  /** The command connection's reconnect delay (ms); default: the engine's backoff. */
  readonly commandRetryMs?: number;
  readonly recorder?: Recorder;
}

/** A started broker on `url` (a node), closed after the suite. */
async function node(url: string, prefix: string, options: NodeOptions = {}): Promise<TestNode> {
  const {
    nodeId = randomBytes(3).toString('hex'),
    commandRetryMs,
    recorder = new Recorder(),
    ...rest
  } = options;
  const address = parseRedisUrl(url);
  const context: RedisContext = {
    address,
    client: createRedisClient(address, {
      commandTimeoutMs: COMMAND_TIMEOUT_MS,
      ...(commandRetryMs === undefined ? {} : { extra: { retryStrategy: () => commandRetryMs } }),
    }),
    keys: new RedisKeys(prefix),
    nodeId,
    clock: systemClock,
    logger: silentLogger,
    commandTimeoutMs: COMMAND_TIMEOUT_MS,
  };
  const membership = new MembershipLog();
  const broker = new RedisBroker(context, {
    unsubscribeDelayMs: 100,
    probeIntervalMs: 100,
    probeTimeoutMs: 400,
    idempotencyWindowMs: 60_000,
    streamTtlMs: 60_000,
    membership,
    ...rest,
  });
  const history = new RedisHistoryStore(context, { streamTtlMs: 60_000 });
  const close = async (): Promise<void> => {
    await broker.close();
    await history.close();
    context.client.disconnect();
  };
  cleanups.push(close);
  await broker.start(recorder);
  return { nodeId, keys: context.keys, broker, history, recorder, membership, close };
}

function prefix(): string {
  return `rb${randomBytes(4).toString('hex')}`;
}

/** Subscribers of a classic pub/sub channel. */
async function numsub(admin: Redis, topic: string): Promise<number> {
  const [, count] = (await admin.call('PUBSUB', 'NUMSUB', topic)) as [string, number];
  return Number(count);
}

/** Calls of one command since the last CONFIG RESETSTAT. */
async function calls(admin: Redis, command: string): Promise<number> {
  const info = String(await admin.call('INFO', 'commandstats'));
  return Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
}

/**
 * Deliver a connection envelope to `target` itself and wait for it: on a standalone Redis one subscriber
 * connection carries everything in publish order, so whatever was published before has arrived by then.
 */
async function barrier(target: TestNode): Promise<void> {
  const marker = randomBytes(4).toString('hex');
  await target.broker.send({
    kind: 'connection',
    connectionId: `${target.nodeId}-${marker}`,
    json: '"barrier"',
    time: 0,
  });
  await target.recorder.until(
    () => target.recorder.envelopes.some((e) => e.kind === 'connection' && e.connectionId.endsWith(marker)),
    'the barrier',
  );
}

after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe('Redis broker on one standalone Redis', SUITE, () => {
  let redis: RedisProcess | undefined;
  let admin: Redis | undefined;
  before(async () => {
    redisRequirement.assert();
    redis = await startRedis();
    admin = adminClient(redis.url);
  });
  after(async () => {
    admin?.disconnect();
    await redis?.stop();
  });
  const url = (): string => redis?.url ?? '';
  const redisAdmin = (): Redis => {
    if (admin === undefined) throw new Error('redis was not started');
    return admin;
  };

  it('a publish on node A reaches node B only while B is subscribed', T, async () => {
    const shared = prefix();
    const a = await node(url(), shared);
    const b = await node(url(), shared);
    const channel = freshChannel();
    await b.broker.subscribe(channel);
    // Acknowledged before subscribe() resolved: no polling needed.
    assert.equal(await numsub(redisAdmin(), b.keys.channelTopic(channel)), 1);
    const first = await a.broker.publish(channel, durable('"one"'));
    await b.recorder.until(() => b.recorder.of(channel).length === 1, 'the publication on B');
    assert.deepEqual(b.recorder.of(channel)[0], first);

    await b.broker.unsubscribe(channel);
    await eventually(
      async () => (await numsub(redisAdmin(), b.keys.channelTopic(channel))) === 0,
      'B to unsubscribe after the delay',
    );
    await a.broker.publish(channel, durable('"two"'));
    await barrier(b);
    await barrier(a);
    assert.equal(b.recorder.of(channel).length, 1, 'B no longer hears the channel');
    assert.equal(a.recorder.of(channel).length, 0, 'A never subscribed');
    assert.deepEqual(b.membership.calls, [`added channel ${channel}`, `removed channel ${channel}`]);
  });

  it('user envelopes reach only the nodes watching the user', T, async () => {
    const shared = prefix();
    const a = await node(url(), shared);
    const b = await node(url(), shared);
    a.broker.watchUser('alice');
    await sendUntilDelivered(
      b.broker,
      a.recorder,
      { kind: 'user', userId: 'alice', json: '"hi"', time: 1 },
      (e) => e.kind === 'user',
    );
    await b.broker.send({ kind: 'disconnect-user', userId: 'alice', code: 4000, reason: 'bye' });
    await a.recorder.until(
      () => a.recorder.envelopes.some((e) => e.kind === 'disconnect-user'),
      'disconnect',
    );
    await barrier(b);
    assert.deepEqual(
      b.recorder.envelopes.filter((e) => e.kind !== 'connection'),
      [],
      'B does not hold alice',
    );

    a.broker.unwatchUser('alice');
    await eventually(
      async () => (await numsub(redisAdmin(), a.keys.userTopic('alice'))) === 0,
      'A to let go of alice',
    );
    assert.deepEqual(a.membership.calls, ['added user alice', 'removed user alice']);
  });

  it(
    "guaranteed delivery's wake-ups: an inbox one reaches the user's nodes, a queue one every node",
    T,
    async () => {
      const shared = prefix();
      const a = await node(url(), shared);
      const b = await node(url(), shared);
      a.broker.watchUser('bea');
      await sendUntilDelivered(
        b.broker,
        a.recorder,
        { kind: 'inbox', userId: 'bea' },
        (e) => e.kind === 'inbox',
      );
      await b.broker.send({ kind: 'queue', queue: 'emails' });
      for (const n of [a, b])
        await n.recorder.until(
          () => n.recorder.envelopes.some((e) => e.kind === 'queue' && e.queue === 'emails'),
          'the queue wake-up',
        );
      await barrier(b);
      assert.deepEqual(
        b.recorder.envelopes.filter((e) => e.kind === 'inbox'),
        [],
        'B does not hold bea',
      );
      // sendUntilDelivered may have sent it more than once (until A's subscription was up).
      const woken = a.recorder.envelopes.filter((e) => e.kind === 'inbox');
      assert.ok(woken.length >= 1 && woken.every((e) => e.kind === 'inbox' && e.userId === 'bea'));
    },
  );

  it(
    'connection envelopes reach only the node owning the connection (its id up to the last dash)',
    T,
    async () => {
      const shared = prefix();
      const a = await node(url(), shared, { nodeId: 'web-1' });
      const b = await node(url(), shared, { nodeId: 'web-1-b' });
      await a.broker.send({ kind: 'connection', connectionId: 'web-1-b-7', json: '"to b"', time: 5 });
      await a.broker.send({
        kind: 'disconnect-connection',
        connectionId: 'web-1-b-7',
        code: 4001,
        reason: 'kicked',
      });
      await b.broker.send({ kind: 'connection', connectionId: 'web-1-3', json: '"to a"', time: 6 });
      await b.recorder.until(() => b.recorder.envelopes.length === 2, 'both envelopes on B');
      await a.recorder.until(() => a.recorder.envelopes.length === 1, 'the envelope on A');
      await barrier(a);
      await barrier(b);
      const plain = (list: readonly unknown[]): unknown[] =>
        list.filter((e) => (e as { json?: string }).json !== '"barrier"');
      assert.deepEqual(plain(a.recorder.envelopes), [
        { kind: 'connection', connectionId: 'web-1-3', json: '"to a"', time: 6 },
      ]);
      assert.deepEqual(plain(b.recorder.envelopes), [
        { kind: 'connection', connectionId: 'web-1-b-7', json: '"to b"', time: 5 },
        { kind: 'disconnect-connection', connectionId: 'web-1-b-7', code: 4001, reason: 'kicked' },
      ]);
    },
  );

  it(
    'subscribes within one tick go out as one SUBSCRIBE; unsubscribes wait, and a comeback cancels them',
    T,
    async () => {
      const admin = redisAdmin();
      const a = await node(url(), prefix(), { unsubscribeDelayMs: 300 });
      const channels = Array.from({ length: 50 }, () => freshChannel());
      await admin.call('CONFIG', 'RESETSTAT');
      await Promise.all(channels.map((channel) => a.broker.subscribe(channel)));
      assert.equal(await calls(admin, 'subscribe'), 1, 'fifty channels, one SUBSCRIBE');
      for (const channel of channels) assert.equal(await numsub(admin, a.keys.channelTopic(channel)), 1);

      const [kept = '', gone = ''] = channels;
      await a.broker.unsubscribe(kept);
      await a.broker.unsubscribe(gone);
      assert.equal(await numsub(admin, a.keys.channelTopic(kept)), 1, 'still subscribed during the delay');
      await a.broker.subscribe(kept); // back within the delay: resolves at once, nothing sent
      await eventually(
        async () => (await numsub(admin, a.keys.channelTopic(gone))) === 0,
        'the delayed unsubscribe',
      );
      assert.equal(
        await numsub(admin, a.keys.channelTopic(kept)),
        1,
        'the comeback cancelled its unsubscribe',
      );
      assert.equal(await calls(admin, 'subscribe'), 1, 'the comeback sent nothing');
      assert.equal(await calls(admin, 'unsubscribe'), 1);
      assert.equal(
        a.membership.calls.filter((call) => call.includes(kept)).length,
        1,
        'added once, never removed',
      );
    },
  );

  it('health reports the connections and the last probe round trip', T, async () => {
    const a = await node(url(), prefix());
    const health = await eventually(() => {
      const now = a.broker.health();
      return typeof now.details?.['lastProbeRttMs'] === 'number' && now;
    }, 'a probe round trip');
    assert.equal(health.ready, true);
    assert.equal(health.details?.['commandClient'], 'ready');
    assert.deepEqual(Object.values(health.details?.['subscribers'] as object), ['ready']);
  });
});

describe('Redis broker through an outage', SUITE, () => {
  it(
    'Redis killed: everything rejects fast with BackendUnavailableError; restarted: resubscribed in one batch, then onReconnected, with a new epoch',
    T,
    async () => {
      const redis = await ownRedis();
      const shared = prefix();
      const a = await node(redis.url, shared);
      const b = await node(redis.url, shared);
      const channel = freshChannel();
      await b.broker.subscribe(channel);
      b.broker.watchUser('alice');
      const before = await a.broker.publish(channel, durable('"before"'));
      await b.recorder.until(() => b.recorder.of(channel).length === 1, 'the first publication');

      await redis.kill();
      await eventually(() => !a.broker.health().ready && !b.broker.health().ready, 'both nodes not ready');
      assert.match(a.broker.health().reason ?? '', /redis|pub\/sub/);
      const started = Date.now();
      const attempts = await Promise.allSettled([
        a.broker.publish(channel, durable('"lost"')),
        a.broker.publish(channel, { ...durable('"typing"'), ephemeral: true }),
        a.broker.send({ kind: 'broadcast', json: '1', time: 1 }),
        a.history.position(channel),
        a.history.read(channel, { limit: 10 }),
        a.history.recover(channel, { offset: 1, epoch: before.epoch ?? '' }, 10),
        b.broker.subscribe(freshChannel()),
        ...Array.from({ length: 500 }, () => a.broker.publish(channel, durable('"burst"'))),
      ]);
      const elapsed = Date.now() - started;
      assert.ok(elapsed < COMMAND_TIMEOUT_MS + 500, `all settled in ${elapsed} ms`);
      for (const attempt of attempts) {
        assert.equal(attempt.status, 'rejected');
        assert.ok(
          attempt.reason instanceof BackendUnavailableError,
          `a BackendUnavailableError, got ${String(attempt.reason)}`,
        );
        assert.equal(attempt.reason.code, 'unavailable');
      }
      const wantedWhileDown = freshChannel();
      await assert.rejects(b.broker.subscribe(wantedWhileDown), BackendUnavailableError);

      await redis.restart();
      await b.recorder.until(() => b.recorder.reconnects === 1, 'onReconnected on B', 10_000);
      await a.recorder.until(() => a.recorder.reconnects === 1, 'onReconnected on A', 10_000);
      await eventually(() => a.broker.health().ready && b.broker.health().ready, 'both nodes ready', 10_000);
      const admin = adminClient(redis.url);
      cleanups.push(() => admin.disconnect());
      // B's topics (node, broadcast, the channel, alice, and the channel asked for while down) went out as one
      // SUBSCRIBE on the fresh server (its command stats start empty), and were acknowledged before onReconnected.
      for (const topic of [
        b.keys.channelTopic(channel),
        b.keys.channelTopic(wantedWhileDown),
        b.keys.userTopic('alice'),
      ])
        assert.equal(await numsub(admin, topic), 1, topic);
      assert.equal(await calls(admin, 'subscribe'), 2, 'one SUBSCRIBE per node');

      const after = await a.broker.publish(channel, durable('"after"'));
      assert.equal(after.id, 1, 'the restarted Redis kept nothing: offsets start over');
      assert.notEqual(after.epoch, before.epoch, 'under a new epoch');
      await b.recorder.until(() => b.recorder.of(channel).length === 2, 'the publication after the restart');
      assert.deepEqual(
        b.recorder.of(channel).map((p) => p.json),
        ['"before"', '"after"'],
        'nothing refused during the outage shows up later',
      );
      assert.equal(b.recorder.reconnects, 1);
    },
  );

  it(
    'Redis not answering (a stalled path): calls reject after the command timeout, never hang; the connections are reopened',
    T,
    async () => {
      const redis = await ownRedis();
      const link = await linkTo(redis);
      const shared = prefix();
      const channel = freshChannel();
      // What the hub does on onReconnected: read the stream through the command connection.
      const checks: Promise<string>[] = [];
      const nodeA: { history?: RedisHistoryStore } = {};
      const recorder = new (class extends Recorder {
        override onReconnected(): void {
          const read = nodeA.history?.position(channel) ?? Promise.reject(new Error('no history'));
          checks.push(
            read.then(
              () => 'read',
              (error: unknown) => String(error),
            ),
          );
          super.onReconnected();
        }
      })();
      // A probe shorter than the command timeout: the probe must not blame the subscriber for a PUBLISH
      // that Redis never acknowledged.
      const a = await node(link.url(redis.url), shared, { recorder, probeTimeoutMs: 400 });
      nodeA.history = a.history;
      const b = await node(redis.url, shared);
      await a.broker.subscribe(channel);

      link.stall(); // every open connection of A: no error, no close, no answer
      const started = Date.now();
      const attempts = await Promise.allSettled([
        a.broker.publish(channel, durable('"stuck"')),
        a.broker.send({ kind: 'broadcast', json: '1', time: 1 }),
        a.history.position(channel),
      ]);
      const elapsed = Date.now() - started;
      assert.ok(
        elapsed >= COMMAND_TIMEOUT_MS - 50 && elapsed < COMMAND_TIMEOUT_MS + 1000,
        `settled in ${elapsed} ms`,
      );
      for (const attempt of attempts) {
        assert.equal(attempt.status, 'rejected');
        assert.ok(attempt.reason instanceof BackendUnavailableError, String(attempt.reason));
      }
      // The probe notices, both connections are reopened (the proxy forwards new ones), and A recovers.
      await a.recorder.until(() => a.recorder.reconnects >= 1, 'onReconnected on A', 10_000);
      assert.deepEqual(await Promise.all(checks), ['read'], 'history answers when onReconnected comes');
      await eventually(() => a.broker.health().ready, 'A ready again', 10_000);
      await a.broker.publish(channel, durable('"unstuck"'));
      await b.broker.publish(channel, durable('"from b"'));
      await a.recorder.until(
        () => a.recorder.of(channel).some((p) => p.json === '"from b"'),
        'delivery to A',
      );
    },
  );

  it('onReconnected waits for the command connection too (the hub reads history in it)', T, async () => {
    const redis = await ownRedis();
    const statuses: string[] = [];
    let command: () => string = () => '';
    const recorder = new (class extends Recorder {
      override onReconnected(): void {
        statuses.push(command());
        super.onReconnected();
      }
    })();
    // The subscriber reconnects within ~100 ms; the command connection only 1.5 s after each failure.
    const a = await node(redis.url, prefix(), { commandRetryMs: 1500, recorder });
    command = () => String(a.broker.health().details?.['commandClient']);
    await a.broker.subscribe(freshChannel());
    await redis.kill();
    await redis.restart();
    await eventually(() => {
      const { details } = a.broker.health();
      const subscribers = Object.values(details?.['subscribers'] as object);
      return details?.['commandClient'] !== 'ready' && subscribers.every((state) => state === 'ready');
    }, 'the subscriber back first');
    assert.deepEqual(statuses, [], 'not before the command connection is back');
    await recorder.until(() => recorder.reconnects === 1, 'onReconnected', 10_000);
    assert.deepEqual(statuses, ['ready']);
  });

  it(
    'the probe finds a subscriber that went silent: not ready, reconnected, resubscribed, onReconnected',
    T,
    async () => {
      const redis = await ownRedis();
      const link = await linkTo(redis);
      const admin = adminClient(redis.url);
      cleanups.push(() => admin.disconnect());
      const shared = prefix();
      const a = await node(link.url(redis.url), shared);
      const b = await node(redis.url, shared);
      const channel = freshChannel();
      await a.broker.subscribe(channel);
      await eventually(
        () => typeof a.broker.health().details?.['lastProbeRttMs'] === 'number',
        'a first probe',
      );

      // A's subscriber connection (found by its client name) stays open but carries nothing any more.
      const clients = String(await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub'));
      const line = clients.split('\n').find((entry) => entry.includes(`name=switchboard:sub:${a.nodeId}`));
      const port = Number(/ addr=[^ ]*:(\d+) /.exec(` ${line ?? ''} `)?.[1]);
      assert.ok(port > 0, `A's subscriber in CLIENT LIST:\n${clients}`);
      assert.equal(
        link.stallWhere((upstreamPort) => upstreamPort === port),
        1,
      );
      await b.broker.publish(channel, durable('"into the silence"'));
      await eventually(() => a.broker.health().reason === 'pub/sub probe timed out', 'the probe to time out');
      await a.recorder.until(
        () => a.recorder.reconnects === 1,
        'onReconnected after the new subscriber',
        5000,
      );
      await eventually(() => a.broker.health().ready, 'A ready again');
      assert.equal(
        a.recorder.of(channel).length,
        0,
        'the silent message is for the hub to refill from history',
      );
      await b.broker.publish(channel, durable('"heard again"'));
      await a.recorder.until(
        () => a.recorder.of(channel).length === 1,
        'delivery through the new subscriber',
      );
    },
  );

  it(
    'a subscriber killed by Redis (CLIENT KILL TYPE pubsub) comes back resubscribed, then onReconnected',
    T,
    async () => {
      const redis = await ownRedis();
      const admin = adminClient(redis.url);
      cleanups.push(() => admin.disconnect());
      const shared = prefix();
      const a = await node(redis.url, shared);
      const b = await node(redis.url, shared);
      const channel = freshChannel();
      await a.broker.subscribe(channel);
      const wasReady: boolean[] = [];
      const watching = setInterval(() => wasReady.push(a.broker.health().ready), 1);
      cleanups.push(() => clearInterval(watching));
      await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
      await a.recorder.until(() => a.recorder.reconnects === 1, 'onReconnected on A');
      clearInterval(watching);
      assert.ok(wasReady.includes(false), 'not ready while the subscriber was away');
      assert.equal(a.broker.health().ready, true);
      await b.broker.publish(channel, durable('"back"'));
      await a.recorder.until(() => a.recorder.of(channel).length === 1, 'delivery after the reconnect');
    },
  );
});

describe('Redis broker on a 3-master cluster (sharded pub/sub)', SUITE, () => {
  let cluster: RedisCluster | undefined;
  let admins: Redis[] = [];
  before(async () => {
    redisRequirement.assert();
    cluster = await startRedisCluster({ masters: 3 });
    admins = cluster.nodes.map((n) => adminClient(n.url));
  });
  after(async () => {
    for (const admin of admins) admin.disconnect();
    await cluster?.stop();
  });

  /** The admin client of the master owning `topic`'s slot (slots are split evenly, in node order). */
  function ownerOf(topic: string): Redis {
    const slot = hashSlot(topic);
    const masters = admins.length;
    const index = admins.findIndex((_, i) => slot < Math.floor((16_384 * (i + 1)) / masters));
    const admin = admins[index];
    if (admin === undefined) throw new Error('cluster was not started');
    return admin;
  }

  it(
    'publishes and envelopes cross nodes over SSUBSCRIBE/SPUBLISH, one subscriber connection per master',
    T,
    async () => {
      const url = cluster?.url ?? '';
      const shared = prefix();
      const a = await node(url, shared);
      const b = await node(url, shared);
      const channels = Array.from({ length: 12 }, () => freshChannel());
      await Promise.all(channels.map((channel) => b.broker.subscribe(channel)));
      for (const channel of channels) {
        const topic = b.keys.channelTopic(channel);
        const [, shardSubscribers] = (await ownerOf(topic).call('PUBSUB', 'SHARDNUMSUB', topic)) as [
          string,
          number,
        ];
        assert.equal(Number(shardSubscribers), 1, `${topic} is a shard channel on its slot's master`);
        assert.equal(await numsub(ownerOf(topic), topic), 0, 'no classic pub/sub');
      }
      for (const channel of channels) await a.broker.publish(channel, durable(JSON.stringify(channel)));
      await b.recorder.until(() => b.recorder.publications.length === channels.length, 'every publication');
      for (const channel of channels)
        assert.deepEqual(
          b.recorder.of(channel).map((p) => [p.id, p.json]),
          [[1, JSON.stringify(channel)]],
        );

      b.broker.watchUser('zoe');
      await sendUntilDelivered(
        a.broker,
        b.recorder,
        { kind: 'user', userId: 'zoe', json: '1', time: 1 },
        (e) => e.kind === 'user',
      );
      await a.broker.send({ kind: 'connection', connectionId: `${b.nodeId}-9`, json: '2', time: 2 });
      await a.broker.send({ kind: 'broadcast', json: '3', time: 3 });
      await b.recorder.until(
        () => b.recorder.envelopes.some((e) => e.kind === 'connection'),
        'the connection envelope',
      );
      await b.recorder.until(
        () => b.recorder.envelopes.some((e) => e.kind === 'broadcast'),
        'the broadcast on B',
      );
      await a.recorder.until(
        () => a.recorder.envelopes.some((e) => e.kind === 'broadcast'),
        'the broadcast on A',
      );

      for (const admin of admins) {
        const list = String(await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub'));
        const mine = list.split('\n').filter((entry) => entry.includes(`name=switchboard:sub:${b.nodeId} `));
        assert.equal(mine.length, 1, 'one subscriber connection of B on each master');
      }
      const health = await eventually(() => {
        const now = b.broker.health();
        return typeof now.details?.['lastProbeRttMs'] === 'number' && now;
      }, 'a probe round trip');
      assert.equal(health.ready, true);
      assert.equal(Object.keys(health.details?.['subscribers'] as object).length, 3);
    },
  );

  it(
    'a slot moved to another master: the subscriber follows it (SUNSUBSCRIBE, topology refresh, SSUBSCRIBE), then onReconnected',
    T,
    async () => {
      const url = cluster?.url ?? '';
      const shared = prefix();
      const a = await node(url, shared);
      const b = await node(url, shared);
      const channel = freshChannel();
      await b.broker.subscribe(channel);
      const topic = b.keys.channelTopic(channel);
      const slot = String(hashSlot(topic));
      const from = ownerOf(topic);
      const to = admins[(admins.indexOf(from) + 1) % admins.length] as Redis;
      const fromId = String(await from.call('CLUSTER', 'MYID'));
      const toId = String(await to.call('CLUSTER', 'MYID'));
      // The slot holds no key (nothing was published), so moving it is only a change of owner.
      await to.call('CLUSTER', 'SETSLOT', slot, 'IMPORTING', fromId);
      await from.call('CLUSTER', 'SETSLOT', slot, 'MIGRATING', toId);
      for (const admin of [to, from, ...admins.filter((x) => x !== to && x !== from)])
        await admin.call('CLUSTER', 'SETSLOT', slot, 'NODE', toId);

      await b.recorder.until(() => b.recorder.reconnects === 1, 'onReconnected after the move', 10_000);
      const [, count] = (await to.call('PUBSUB', 'SHARDNUMSUB', topic)) as [string, number];
      assert.equal(Number(count), 1, 'subscribed on the new owner');
      await eventually(() => b.broker.health().ready, 'B ready');
      await a.broker.publish(channel, durable('"after the move"'));
      await b.recorder.until(
        () => b.recorder.of(channel).length === 1,
        'the publication through the new owner',
      );
    },
  );
});
