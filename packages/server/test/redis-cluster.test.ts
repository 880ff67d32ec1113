/**
 * Scale-out over a real three-master Redis Cluster (`redis-cluster://` URL): channel publishes, targeted
 * sends and history recovery across two in-process nodes, and the cluster layout underneath: each
 * channel's topic is a *sharded* pub/sub channel (SSUBSCRIBE) held on the master that owns the channel's
 * slot, beside its stream, rather than a classic channel broadcast to every master.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import type { SubscribedEvent } from '@switchboard/client';
import { connectV1 } from './helpers.js';
import { redisRequirement, startRedisCluster } from './redis-harness.js';
import type { RedisCluster } from './redis-harness.js';
import {
  adminClient,
  awaitSubscribers,
  keysOf,
  messages,
  nextEvent,
  queued,
  range,
  received,
  sdkClient,
  testScope,
  uniquePrefix,
} from './scale-helpers.js';
import type { RedisNode } from './scale-helpers.js';
import { TcpProxy } from '../../client/test/tcp-proxy.js';

const SUITE = { skip: redisRequirement.skip };
const T = { timeout: 15_000 };

const scope = testScope();

describe('Redis Cluster', SUITE, () => {
  let cluster: RedisCluster | undefined;
  /** One plain connection per master, by port. */
  const admins = new Map<number, Redis>();

  before(async () => {
    if (redisRequirement.skip !== false) return;
    redisRequirement.assert();
    cluster = await startRedisCluster({ masters: 3 });
    for (const node of cluster.nodes) admins.set(node.port, adminClient(node.url));
  });

  after(async () => {
    for (const admin of admins.values()) admin.disconnect();
    await cluster?.stop();
  });

  function adminOf(port: number): Redis {
    const admin = admins.get(port);
    if (admin === undefined) throw new Error(`no master on port ${port}`);
    return admin;
  }

  /** The port of the master serving `key`'s slot, asked of the cluster itself (CLUSTER KEYSLOT, SLOTS). */
  async function ownerOf(key: string): Promise<number> {
    const [any] = admins.values();
    if (any === undefined) throw new Error('the cluster was not started');
    const slot = Number(await any.call('CLUSTER', 'KEYSLOT', key));
    const ranges = (await any.call('CLUSTER', 'SLOTS')) as [number, number, [string, number, ...unknown[]]][];
    const range = ranges.find(([first, last]) => first <= slot && slot <= last);
    if (range === undefined) throw new Error(`no master serves slot ${slot}`);
    return range[2][1];
  }

  async function twoNodes(): Promise<{ a: RedisNode; b: RedisNode; prefix: string }> {
    if (cluster === undefined) throw new Error('the cluster was not started');
    const prefix = uniquePrefix();
    const a = await scope.node(cluster.url, prefix);
    const b = await scope.node(cluster.url, prefix);
    return { a, b, prefix };
  }

  it(
    'channels on every shard: a publish on either node reaches both, in order, over sharded pub/sub on the owning master',
    T,
    async () => {
      const { a, b, prefix } = await twoNodes();
      const keys = keysOf(prefix);
      // One channel on each master.
      const channels: string[] = [];
      const owners = new Set<number>();
      for (let i = 0; owners.size < admins.size; i++) {
        const channel = `chat:${i}`;
        const owner = await ownerOf(keys.channelTopic(channel));
        if (owners.has(owner)) continue;
        owners.add(owner);
        channels.push(channel);
      }
      const { client: onA } = await connectV1(a);
      const { client: onB } = await connectV1(b);
      for (const [i, channel] of channels.entries()) {
        await onA.request({ id: 1 + i, type: 'subscribe', channel });
        await onB.request({ id: 1 + i, type: 'subscribe', channel });
      }

      for (const channel of channels) {
        const topic = keys.channelTopic(channel);
        const owner = await ownerOf(topic);
        // The topic is a shard channel on its owner, with both nodes subscribed; no master has it as a
        // classic channel (that would be broadcast over the whole cluster bus).
        const shardChannels = (await adminOf(owner).call('PUBSUB', 'SHARDCHANNELS', topic)) as string[];
        assert.deepEqual(shardChannels, [topic], `${topic} is a shard channel on its owner ${owner}`);
        const [, subscribers] = (await adminOf(owner).call('PUBSUB', 'SHARDNUMSUB', topic)) as [
          string,
          number,
        ];
        assert.equal(Number(subscribers), 2, 'one subscription per node');
        for (const [port, admin] of admins) {
          assert.deepEqual(
            await admin.call('PUBSUB', 'CHANNELS', topic),
            [],
            `no classic ${topic} on ${port}`,
          );
        }

        await a.server.publish(channel, { from: 'A' });
        await b.server.publish(channel, { from: 'B' });
        const expected = [
          { id: 1, data: { from: 'A' } },
          { id: 2, data: { from: 'B' } },
        ];
        assert.deepEqual(await messages(onA, 2), expected, `${channel} on A`);
        assert.deepEqual(await messages(onB, 2), expected, `${channel} on B`);
        // The stream sits with its topic, on the same master.
        assert.equal(await adminOf(owner).exists(keys.stream(channel)), 1, `${channel}'s stream on ${owner}`);
      }
      assert.deepEqual([queued(onA, 'message'), queued(onB, 'message')], [[], []]);
      onA.close();
      onB.close();
    },
  );

  it('user targeting and broadcast reach the right connections on both nodes', T, async () => {
    const { a, b, prefix } = await twoNodes();
    const keys = keysOf(prefix);
    const { client: aliceA } = await connectV1(a, {}, '?user=alice');
    const { client: aliceB } = await connectV1(b, {}, '?user=alice');
    const { client: bobB } = await connectV1(b, {}, '?user=bob');
    for (const [user, count] of [
      ['alice', 2],
      ['bob', 1],
    ] as const) {
      const topic = keys.userTopic(user);
      await awaitSubscribers(adminOf(await ownerOf(topic)), topic, count);
    }

    await b.server.sendToUser('alice', { note: 'for alice' });
    for (const alice of [aliceA, aliceB]) {
      assert.deepEqual((await alice.nextOfType('direct'))['data'], { note: 'for alice' });
    }
    await a.server.sendToUser('bob', 'for bob');
    assert.equal((await bobB.nextOfType('direct'))['data'], 'for bob');
    assert.deepEqual(queued(bobB, 'direct'), [], 'bob got only his own');

    const everyone = keys.broadcastTopic();
    await awaitSubscribers(adminOf(await ownerOf(everyone)), everyone, 2);
    await a.server.broadcast('to everyone');
    for (const client of [aliceA, aliceB, bobB]) {
      assert.equal((await client.nextOfType('broadcast'))['data'], 'to everyone');
    }
    for (const client of [aliceA, aliceB, bobB]) client.close();
  });

  it(
    'history and recovery work across nodes: the SDK moved to the other node recovers exactly once',
    T,
    async () => {
      const { a, b } = await twoNodes();
      const proxy = await TcpProxy.start(a.wsUrl);
      scope.defer(() => proxy.close());
      const client = sdkClient(scope, proxy.url(`${a.wsUrl}/ws`));
      await client.connect();
      const story = client.subscribe('story');
      await story.ready({ timeoutMs: 3000 });
      const got = received(story);
      for (const n of range(1, 3)) await a.server.publish('story', { n });
      await got.until(3);

      proxy.refuse();
      const disconnected = nextEvent(client, 'disconnected');
      proxy.cut();
      await disconnected;
      for (const n of range(4, 7)) await b.server.publish('story', { n });
      proxy.retarget(b.wsUrl);
      const resubscribed = new Promise<SubscribedEvent>((resolve) => story.once('subscribed', resolve));
      const reconnected = nextEvent(client, 'connected');
      proxy.admit();
      assert.ok((await reconnected).connectionId.startsWith(`${b.server.nodeId}-`), 'now on B');
      assert.equal((await resubscribed).recovered, true);
      await b.server.publish('story', { n: 8 });
      await got.until(8);
      assert.deepEqual(got.ids(), range(1, 8));

      // The history command on A reads the same stream.
      const { client: reader } = await connectV1(a);
      const page = (await reader.request({ id: 1, type: 'history', channel: 'story', since: 5 }))[
        'result'
      ] as {
        offset: number;
        messages: { id: number; data: unknown }[];
        complete: boolean;
      };
      assert.equal(page.offset, 8);
      assert.equal(page.complete, true);
      assert.deepEqual(
        page.messages.map((m) => [m.id, m.data]),
        range(6, 8).map((n) => [n, { n }]),
      );
      reader.close();
    },
  );
});
