/**
 * Scale-out (issue 4): two or three in-process nodes sharing one real redis-server behave as one server.
 * Channel publishes (v1, HTTP API, room dialect), targeted sends (user, connection, everyone,
 * disconnects), presence with its grace period, recovery after reconnecting to a different node, and the
 * cluster-wide counts in /stats. Each test has its own key prefix, so tests never see each other's nodes.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import type { Redis } from 'ioredis';
import type { SubscribedEvent } from '@switchboard/client';
import { connect, connectV1 } from './helpers.js';
import { redisRequirement, startRedis } from './redis-harness.js';
import type { RedisProcess } from './redis-harness.js';
import {
  adminClient,
  awaitSubscribers,
  eventually,
  http,
  keysOf,
  messages,
  nextEvent,
  queued,
  range,
  received,
  sdkClient,
  stats,
  testScope,
  uniquePrefix,
} from './scale-helpers.js';
import type { NodeOptions, RedisNode } from './scale-helpers.js';
import { TcpProxy } from '../../client/test/tcp-proxy.js';

const SUITE = { skip: redisRequirement.skip };
const T = { timeout: 15_000 };
const PRESENCE = { channels: [{ pattern: 'room:*', presence: true }] } as const;

const scope = testScope();

describe('scale-out over one Redis', SUITE, () => {
  let redis: RedisProcess | undefined;
  let admin: Redis | undefined;

  before(async () => {
    if (redisRequirement.skip !== false) return;
    redisRequirement.assert();
    redis = await startRedis();
    admin = adminClient(redis.url);
  });

  after(async () => {
    admin?.disconnect();
    await redis?.stop();
  });

  /** `count` nodes on the shared Redis under a prefix of their own. */
  async function nodes(count: number, options: NodeOptions = {}) {
    if (redis === undefined || admin === undefined) throw new Error('redis was not started');
    const prefix = uniquePrefix();
    const started: RedisNode[] = [];
    for (let i = 0; i < count; i++) started.push(await scope.node(redis.url, prefix, options));
    return { keys: keysOf(prefix), nodes: started, admin };
  }

  function pick<T>(list: readonly T[], index: number): T {
    const value = list[index];
    if (value === undefined) throw new Error(`no item ${index}`);
    return value;
  }

  it(
    'a publish on one node (v1 frame, HTTP API on either node) reaches subscribers on both, once, same ids in order',
    T,
    async () => {
      const { nodes: started } = await nodes(2);
      const [a, b] = [pick(started, 0), pick(started, 1)];
      const { client: onA } = await connectV1(a);
      const { client: onB } = await connectV1(b);
      // The subscribe reply waits for the node's own Redis subscription: both nodes listen from here on.
      await onA.request({ id: 1, type: 'subscribe', channel: 'news' });
      await onB.request({ id: 1, type: 'subscribe', channel: 'news' });

      const reply = await onA.request({ id: 2, type: 'publish', channel: 'news', data: { via: 'v1 on A' } });
      assert.deepEqual(reply['result'], { id: 1 });
      const viaApiA = await http(`${a.httpUrl}/api/publish`, { channel: 'news', data: { via: 'api on A' } });
      assert.deepEqual([viaApiA.status, viaApiA.body], [200, { id: 2 }]);
      const viaApiB = await http(`${b.httpUrl}/api/publish`, { channel: 'news', data: { via: 'api on B' } });
      assert.deepEqual([viaApiB.status, viaApiB.body], [200, { id: 3 }]);
      const expected = [
        { id: 1, data: { via: 'v1 on A' } },
        { id: 2, data: { via: 'api on A' } },
        { id: 3, data: { via: 'api on B' } },
      ];
      assert.deepEqual(await messages(onA, 3), expected);
      assert.deepEqual(await messages(onB, 3), expected);

      // Once: a marker published after them is the very next message, and nothing else is queued.
      assert.deepEqual(await b.server.publish('news', 'marker'), { id: 4 });
      assert.deepEqual(await messages(onA, 1), [{ id: 4, data: 'marker' }]);
      assert.deepEqual(await messages(onB, 1), [{ id: 4, data: 'marker' }]);
      assert.deepEqual([queued(onA, 'message'), queued(onB, 'message')], [[], []]);
      onA.close();
      onB.close();
    },
  );

  it('/ws/:room members on different nodes share the room, its ids and its replay', T, async () => {
    const { nodes: started, keys, admin } = await nodes(2);
    const [a, b] = [pick(started, 0), pick(started, 1)];
    const onA = await connect(`${a.wsUrl}/ws/lobby`);
    const onB = await connect(`${b.wsUrl}/ws/lobby`);
    // A room member has no reply to wait for: wait for both nodes' Redis subscriptions instead.
    await awaitSubscribers(admin, keys.channelTopic('lobby'), 2);

    onA.send({ type: 'message', text: 'from A' });
    assert.deepEqual(await onA.next(), { type: 'message', text: 'from A', id: 1 });
    assert.deepEqual(await onB.next(), { type: 'message', text: 'from A', id: 1 });
    onB.send({ type: 'message', text: 'from B', id: 99 });
    assert.deepEqual(await onB.next(), { type: 'message', text: 'from B', id: 2 });
    assert.deepEqual(await onA.next(), { type: 'message', text: 'from B', id: 2 });

    // A member reconnecting to the other node replays from its last id, served from the shared history.
    const late = await connect(`${b.wsUrl}/ws/lobby?last_message_id=0`);
    assert.deepEqual(await late.next(), { type: 'message', text: 'from A', id: 1 });
    assert.deepEqual(await late.next(), { type: 'message', text: 'from B', id: 2 });
    const recovery = await late.next();
    assert.equal(recovery['type'], 'recovery');
    assert.equal(recovery['recovered'], true);
    assert.equal(recovery['offset'], 2);
    for (const c of [onA, onB, late]) c.close();
  });

  it('sendToUser on one node reaches the user on the other two nodes, and nobody else', T, async () => {
    const { nodes: started, keys, admin } = await nodes(3);
    const [a, b, c] = [pick(started, 0), pick(started, 1), pick(started, 2)];
    const { client: aliceB } = await connectV1(b, {}, '?user=alice');
    const { client: aliceC } = await connectV1(c, {}, '?user=alice');
    const { client: bobB } = await connectV1(b, {}, '?user=bob');
    const { client: carolA } = await connectV1(a, {}, '?user=carol');
    await awaitSubscribers(admin, keys.userTopic('alice'), 2);
    await awaitSubscribers(admin, keys.userTopic('bob'), 1);

    await a.server.sendToUser('alice', { note: 'for alice' });
    for (const alice of [aliceB, aliceC]) {
      const direct = await alice.nextOfType('direct');
      assert.deepEqual(direct['data'], { note: 'for alice' });
    }
    // The HTTP API of a third node does the same.
    const viaApi = await http(`${c.httpUrl}/api/users/alice/send`, { data: 'again' });
    assert.equal(viaApi.status, 200);
    for (const alice of [aliceB, aliceC]) assert.equal((await alice.nextOfType('direct'))['data'], 'again');

    // Nobody else: bob's first direct is his own marker; carol (on the sending node) got nothing.
    await a.server.sendToUser('bob', 'marker for bob');
    assert.equal((await bobB.nextOfType('direct'))['data'], 'marker for bob');
    await carolA.request({ id: 1, type: 'ping' });
    assert.deepEqual([queued(bobB, 'direct'), queued(carolA, 'direct')], [[], []]);
    assert.deepEqual([queued(aliceB, 'direct'), queued(aliceC, 'direct')], [[], []]);
    for (const client of [aliceB, aliceC, bobB, carolA]) client.close();
  });

  it('sendToConnection and disconnectConnection reach a connection on another node', T, async () => {
    const { nodes: started, keys, admin } = await nodes(2);
    const [a, b] = [pick(started, 0), pick(started, 1)];
    const { client: target, connected } = await connectV1(b);
    const { client: bystander } = await connectV1(b);
    const connectionId = String(connected['connectionId']);
    assert.ok(connectionId.startsWith(`${b.server.nodeId}-`), `${connectionId} names its node`);
    await awaitSubscribers(admin, keys.nodeTopic(b.server.nodeId), 1);

    await a.server.sendToConnection(connectionId, { only: 'you' });
    assert.deepEqual((await target.nextOfType('direct'))['data'], { only: 'you' });
    const viaApi = await http(`${a.httpUrl}/api/connections/${connectionId}/send`, { data: [1, 2] });
    assert.equal(viaApi.status, 200);
    assert.deepEqual((await target.nextOfType('direct'))['data'], [1, 2]);

    await a.server.disconnectConnection(connectionId, { code: 4502, reason: 'bye' });
    assert.deepEqual(await target.closed, { code: 4502, reason: 'bye' });
    await bystander.request({ id: 1, type: 'ping' });
    assert.deepEqual(queued(bystander, 'direct'), []);
    bystander.close();
  });

  it('broadcast from one node reaches every connection on every node once', T, async () => {
    const { nodes: started, keys, admin } = await nodes(3);
    const [a, b, c] = [pick(started, 0), pick(started, 1), pick(started, 2)];
    const clients = await Promise.all([a, b, c].map(async (node) => (await connectV1(node)).client));
    const room = await connect(`${b.wsUrl}/ws/plaza`);
    await awaitSubscribers(admin, keys.broadcastTopic(), 3);

    await a.server.broadcast({ notice: 'maintenance at 5' });
    await a.server.broadcast('second');
    for (const client of clients) {
      assert.deepEqual((await client.nextOfType('broadcast'))['data'], { notice: 'maintenance at 5' });
      assert.deepEqual((await client.nextOfType('broadcast'))['data'], 'second');
    }
    assert.deepEqual(await room.next(), { notice: 'maintenance at 5' });
    assert.deepEqual(await room.next(), { type: 'broadcast', data: 'second' });
    // Once: a round trip later nothing more is queued anywhere.
    for (const client of clients) await client.request({ id: 1, type: 'ping' });
    assert.deepEqual(
      clients.map((client) => queued(client, 'broadcast')),
      [[], [], []],
    );
    for (const client of [...clients, room]) client.close();
  });

  it('disconnectUser on one node closes the user on the other nodes, and only them', T, async () => {
    const { nodes: started, keys, admin } = await nodes(3);
    const [a, b, c] = [pick(started, 0), pick(started, 1), pick(started, 2)];
    const { client: malloryB } = await connectV1(b, {}, '?user=mallory');
    const { client: malloryC } = await connectV1(c, {}, '?user=mallory');
    const { client: bobB } = await connectV1(b, {}, '?user=bob');
    await awaitSubscribers(admin, keys.userTopic('mallory'), 2);

    await a.server.disconnectUser('mallory');
    assert.equal((await malloryB.closed).code, 4502);
    assert.equal((await malloryC.closed).code, 4502);
    assert.deepEqual((await bobB.request({ id: 1, type: 'ping' }))['result'], {});
    await eventually(async () => b.server.getUserConnections('mallory').length === 0, 'mallory gone from B');
    bobB.close();
  });

  it(
    'presence spans nodes: joins and leaves are pushed across, lists show members of every node',
    T,
    async () => {
      const { nodes: started } = await nodes(3, { server: { ...PRESENCE, presenceGraceMs: 200 } });
      const [a, b, c] = [pick(started, 0), pick(started, 1), pick(started, 2)];
      const { client: olga } = await connectV1(a, {}, '?user=olga');
      await olga.request({ id: 1, type: 'subscribe', channel: 'room:1' });
      const { client: peteB } = await connectV1(b, {}, '?user=pete');
      await peteB.request({ id: 1, type: 'subscribe', channel: 'room:1' });
      const join = await olga.nextOfType('join');
      assert.deepEqual([join['channel'], join['userId']], ['room:1', 'pete']);

      // A second tab on a third node: still one member, with two connections, and no second join.
      const { client: peteC } = await connectV1(c, {}, '?user=pete');
      await peteC.request({ id: 1, type: 'subscribe', channel: 'room:1' });
      await eventually(
        async () => (await a.server.presenceStats('room:1')).connections === 3,
        'three connections present',
      );
      const listed = (await olga.request({ id: 2, type: 'presence', channel: 'room:1' }))['result'] as {
        users: { userId: string; connections: number }[];
      };
      assert.deepEqual(
        listed.users
          .map(({ userId, connections }) => ({ userId, connections }))
          .sort((x, y) => x.userId.localeCompare(y.userId)),
        [
          { userId: 'olga', connections: 1 },
          { userId: 'pete', connections: 2 },
        ],
      );
      for (const node of [a, b, c]) {
        assert.deepEqual(await node.server.presenceStats('room:1'), { users: 2, connections: 3 });
      }

      // Both tabs go: one leave, after the grace period, seen on the node that holds neither.
      peteB.close();
      peteC.close();
      const leave = await olga.nextOfType('leave');
      assert.deepEqual([leave['channel'], leave['userId']], ['room:1', 'pete']);
      assert.deepEqual(await a.server.presenceStats('room:1'), { users: 1, connections: 1 });
      await a.server.publish('room:1', 'marker');
      await olga.next((m) => m['type'] === 'message' && m['data'] === 'marker');
      assert.deepEqual([queued(olga, 'join'), queued(olga, 'leave')], [[], []]);
      olga.close();
    },
  );

  it(
    'a user leaving one node and joining another within the presence grace causes no leave and no join',
    T,
    async () => {
      const { nodes: started } = await nodes(3, { server: { ...PRESENCE, presenceGraceMs: 1000 } });
      const [a, b, c] = [pick(started, 0), pick(started, 1), pick(started, 2)];
      const { client: olga } = await connectV1(c, {}, '?user=olga');
      await olga.request({ id: 1, type: 'subscribe', channel: 'room:1' });
      const { client: peteA } = await connectV1(a, {}, '?user=pete');
      await peteA.request({ id: 1, type: 'subscribe', channel: 'room:1' });
      assert.equal((await olga.nextOfType('join'))['userId'], 'pete');

      peteA.close();
      await peteA.closed;
      const { client: peteB } = await connectV1(b, {}, '?user=pete');
      await peteB.request({ id: 1, type: 'subscribe', channel: 'room:1' });
      // Node A's grace for pete's old connection runs out (its count leaves the store): the only sign of it.
      await eventually(
        async () => (await c.server.presenceStats('room:1')).connections === 2,
        "node A's departure after its grace",
        5000,
      );
      await c.server.publish('room:1', 'marker');
      await olga.next((m) => m['type'] === 'message' && m['data'] === 'marker');
      assert.deepEqual([queued(olga, 'leave'), queued(olga, 'join')], [[], []]);
      const listed = await c.server.presence('room:1');
      assert.deepEqual(listed.map((entry) => [entry.userId, entry.connections]).sort(), [
        ['olga', 1],
        ['pete', 1],
      ]);
      olga.close();
      peteB.close();
    },
  );

  it(
    'the SDK reconnecting to a different node recovers every message exactly once, in order',
    T,
    async () => {
      const { nodes: started } = await nodes(2);
      const [a, b] = [pick(started, 0), pick(started, 1)];
      const proxy = await TcpProxy.start(a.wsUrl);
      scope.defer(() => proxy.close());
      const client = sdkClient(scope, proxy.url(`${a.wsUrl}/ws`));
      const first = await client.connect();
      assert.ok(first.connectionId.startsWith(`${a.server.nodeId}-`), 'first connected to A');
      const chat = client.subscribe('chat');
      await chat.ready({ timeoutMs: 3000 });
      const got = received(chat);
      for (const i of range(1, 3)) await a.server.publish('chat', { n: i });
      await got.until(3);

      // The path to A breaks; meanwhile B takes publishes; the balancer then sends the client to B.
      proxy.refuse();
      const disconnected = nextEvent(client, 'disconnected');
      proxy.cut();
      await disconnected;
      for (const i of range(4, 8)) await b.server.publish('chat', { n: i });
      proxy.retarget(b.wsUrl);
      const reconnected = nextEvent(client, 'connected');
      const resubscribed = new Promise<SubscribedEvent>((resolve) => chat.once('subscribed', resolve));
      proxy.admit();
      const second = await reconnected;
      assert.ok(second.connectionId.startsWith(`${b.server.nodeId}-`), 'reconnected to B');
      assert.equal((await resubscribed).recovered, true);

      await a.server.publish('chat', { n: 9 });
      await got.until(9);
      assert.deepEqual(got.ids(), range(1, 9));
      assert.deepEqual(
        got.seen.map((m) => m.data),
        range(1, 9).map((n) => ({ n })),
      );
      assert.equal(chat.recovered, true);
    },
  );

  it(
    '/stats reports cluster-wide counts (distinct users and channels) beside the node’s own',
    T,
    async () => {
      const { nodes: started } = await nodes(2);
      const [a, b] = [pick(started, 0), pick(started, 1)];
      const { client: aliceA } = await connectV1(a, {}, '?user=alice');
      const { client: anonymousA } = await connectV1(a);
      const { client: aliceB } = await connectV1(b, {}, '?user=alice');
      const { client: bobB } = await connectV1(b, {}, '?user=bob');
      await aliceA.request({ id: 1, type: 'subscribe', channel: 'x' });
      await aliceA.request({ id: 2, type: 'subscribe', channel: 'y' });
      await aliceB.request({ id: 1, type: 'subscribe', channel: 'y' });
      await bobB.request({ id: 1, type: 'subscribe', channel: 'z' });

      const whole = { nodes: 2, connections: 4, users: 2, channels: 3 };
      for (const node of [a, b]) {
        const body = await eventually(async () => {
          const s = await stats(node);
          return isDeepStrictEqual(s.cluster, whole) && s;
        }, `cluster counts on ${node.server.nodeId}`);
        assert.equal(body['nodeId'], node.server.nodeId);
      }
      const own = async (node: RedisNode) => {
        const s = await stats(node);
        return [s['connections'], s['users'], (s['channels'] as { total: number }).total];
      };
      assert.deepEqual(await own(a), [2, 1, 2]);
      assert.deepEqual(await own(b), [2, 2, 2]);

      // A node that stops withdraws from the counts.
      await b.stop();
      await eventually(async () => {
        const s = await stats(a);
        return isDeepStrictEqual(s.cluster, { nodes: 1, connections: 2, users: 1, channels: 2 });
      }, 'cluster counts without B');
      for (const client of [aliceA, anonymousA]) client.close();
    },
  );
});
