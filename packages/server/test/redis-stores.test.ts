/**
 * The Redis presence store, ticket store and node registry against real Redis: a standalone server and a
 * 3-master cluster. The presence and ticket contracts run on both; then several "nodes" (contexts with
 * their own client and node id) share one Redis: totals across nodes, the presence grace across nodes,
 * a crashed node's members leaving within ttl + ttl/3, and cluster-wide counts as nodes come and go.
 * A crash is a node whose timers stop and whose client drops, without any cleanup.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { silentLogger, systemClock } from '../src/index.js';
import type { Clock, PresenceMember, TimerHandle } from '../src/index.js';
import { RedisPresenceStore } from '../src/presence/redis-presence-store.js';
import { RedisTicketStore } from '../src/auth/redis-ticket-store.js';
import { RedisNodeRegistry } from '../src/nodes/redis-node-registry.js';
import { RedisKeys } from '../src/redis/redis-keys.js';
import { createRedisClient, parseRedisUrl } from '../src/redis/redis-connection.js';
import type { RedisContext } from '../src/redis/redis-context.js';
import type { ClusterCounts } from '../src/nodes/node-registry.js';
import { PresenceTracker } from '../src/hub/presence-tracker.js';
import { redisRequirement, startRedis, startRedisCluster } from './redis-harness.js';
import { freshChannel, presenceStoreContract, user } from './presence-contract.js';
import { ticketStoreContract } from './ticket-store-contract.js';

const SKIP = redisRequirement.skip;
const TEST = { skip: SKIP, timeout: 20_000 };
/** Presence TTL of the expiry tests: a dead node's members are gone within TTL * 4/3. */
const TTL = 300;
/** Report interval of the registry tests: a silent node drops out within 3 intervals. */
const INTERVAL = 100;
/** What a loaded machine may add to a timer-driven bound (scheduling, round trips). */
const SLACK = 500;

/** A clock whose timers can all be stopped at once: a node that crashed stops refreshing. */
class StoppableClock implements Clock {
  private readonly timers = new Set<TimerHandle>();
  private stopped = false;

  now(): number {
    return Date.now();
  }
  setInterval(fn: () => void, ms: number): TimerHandle {
    return this.track(systemClock.setInterval(fn, ms));
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.track(systemClock.setTimeout(fn, ms));
  }
  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) timer.cancel();
  }
  private track(timer: TimerHandle): TimerHandle {
    if (this.stopped) timer.cancel();
    else this.timers.add(timer);
    return { cancel: () => (timer.cancel(), this.timers.delete(timer)) };
  }
}

/** Poll `probe` until `done` holds for its value (errors count as not yet); fails after `timeoutMs`. */
async function waitFor<T>(
  what: string,
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (done(value)) return value;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) assert.fail(`${what}: not within ${timeoutMs} ms (last: ${String(last)})`);
    await delay(20);
  }
}

/** The members a store reports expired, with a way to await the next one. */
function expiries(store: RedisPresenceStore): {
  readonly seen: { channel: string; member: PresenceMember }[];
  next(timeoutMs: number): Promise<{ channel: string; member: PresenceMember }>;
} {
  const seen: { channel: string; member: PresenceMember }[] = [];
  let waiter: ((event: { channel: string; member: PresenceMember }) => void) | null = null;
  store.onExpired((channel, member) => {
    seen.push({ channel, member });
    waiter?.({ channel, member });
  });
  return {
    seen,
    next: (timeoutMs) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no expiry within ${timeoutMs} ms`)), timeoutMs);
        waiter = (event) => {
          clearTimeout(timer);
          waiter = null;
          resolve(event);
        };
      }),
  };
}

interface Topology {
  readonly name: string;
  /** Why Redis-restart cases skip here, or false. */
  readonly noRestart: string | false;
  start(): Promise<{ readonly url: string; restart?: () => Promise<void>; stop(): Promise<void> }>;
}

const topologies: Topology[] = [
  {
    name: 'standalone',
    noRestart: false,
    start: async () => {
      const redis = await startRedis();
      return { url: redis.url, restart: () => redis.restart(), stop: () => redis.stop() };
    },
  },
  {
    name: 'cluster',
    noRestart: 'the cluster harness restarts no node',
    start: () => startRedisCluster({ masters: 3 }),
  },
];

for (const topology of topologies) {
  describe(`Redis stores on ${topology.name}`, () => {
    let server: Awaited<ReturnType<Topology['start']>> | undefined;
    let shared: RedisContext | undefined;
    const clients: RedisContext['client'][] = [];

    /** A node: its own connected client and id; `prefix` isolates a test's keys (the registry's above all). */
    async function node(prefix: string, clock: Clock = systemClock): Promise<RedisContext> {
      if (server === undefined) throw new Error('redis was not started');
      const address = parseRedisUrl(server.url);
      const client = createRedisClient(address, { commandTimeoutMs: 2000 });
      clients.push(client);
      await client.connect();
      return {
        address,
        client,
        keys: new RedisKeys(prefix),
        nodeId: randomBytes(4).toString('hex'),
        clock,
        logger: silentLogger,
        commandTimeoutMs: 2000,
      };
    }

    /** The shared context with a fresh node id: contract stores never share a node's entries. */
    function contractNode(): RedisContext {
      if (shared === undefined) throw new Error('redis was not started');
      return { ...shared, nodeId: randomBytes(4).toString('hex') };
    }

    /** Stop a node the hard way: no refresh, no report, no goodbye. */
    function crash(context: RedisContext, clock: StoppableClock): void {
      clock.stop();
      context.client.disconnect();
    }

    before(async () => {
      if (SKIP !== false) return;
      redisRequirement.assert();
      server = await topology.start();
      shared = await node(`t${randomBytes(3).toString('hex')}`);
    });

    after(async () => {
      for (const client of clients) client.disconnect();
      await server?.stop();
    });

    presenceStoreContract(
      `redis ${topology.name}`,
      () => new RedisPresenceStore(contractNode(), { ttlMs: 30_000 }),
      {
        skip: SKIP,
      },
    );

    ticketStoreContract(
      `redis ${topology.name}`,
      () => {
        if (shared === undefined) throw new Error('redis was not started');
        return new RedisTicketStore(shared);
      },
      // Redis expires tickets by its own clock: let the time pass for real (and a little more).
      { skip: SKIP, elapse: (_clock, ms) => delay(ms + 50) },
    );

    describe('presence across nodes', () => {
      test('counts are totals across nodes; list and stats see every node', TEST, async () => {
        const prefix = `p${randomBytes(3).toString('hex')}`;
        const a = new RedisPresenceStore(await node(prefix), { ttlMs: 30_000 });
        const b = new RedisPresenceStore(await node(prefix), { ttlMs: 30_000 });
        const channel = freshChannel();
        try {
          assert.equal(await a.add(channel, user('alice', { via: 'a' })), 1);
          assert.equal(await b.add(channel, user('alice', { via: 'b' })), 2, 'the total across nodes');
          assert.equal(await b.add(channel, user('bob')), 1);
          assert.deepEqual(await a.stats(channel), { users: 2, connections: 3 });
          assert.deepEqual(await b.list(channel).then((l) => l.find((e) => e.userId === 'alice')), {
            userId: 'alice',
            connections: 2,
            info: { via: 'a' },
          });
          assert.equal(await a.remove(channel, 'alice'), 1, 'still on node b');
          assert.equal(await a.remove(channel, 'alice'), 1, 'node a had no more: b’s count stands');
          assert.equal(await b.remove(channel, 'alice'), 0);
          assert.deepEqual(await a.list(channel), [{ userId: 'bob', connections: 1 }]);
        } finally {
          await Promise.all([a.close(), b.close()]);
        }
      });

      test(
        'a member leaving node a and back on node b within a’s grace: no leave, no join',
        TEST,
        async () => {
          const prefix = `p${randomBytes(3).toString('hex')}`;
          const storeA = new RedisPresenceStore(await node(prefix), { ttlMs: 30_000 });
          const storeB = new RedisPresenceStore(await node(prefix), { ttlMs: 30_000 });
          const announced: string[] = [];
          let onAnnounce: (() => void) | null = null;
          const announce = (event: 'join' | 'leave', _channel: string, member: PresenceMember): void => {
            announced.push(`${event} ${member.key}`);
            onAnnounce?.();
          };
          const announcement = (): Promise<void> => new Promise((resolve) => (onAnnounce = resolve));
          const grace = 200;
          const trackerA = new PresenceTracker(storeA, grace, systemClock, announce, silentLogger);
          const trackerB = new PresenceTracker(storeB, grace, systemClock, announce, silentLogger);
          trackerA.start();
          trackerB.start();
          const channel = freshChannel();
          try {
            let joined = announcement();
            trackerA.joined(channel, user('alice'));
            await joined;
            trackerA.left(channel, user('alice')); // a tab reload: the departure waits for the grace
            trackerB.joined(channel, user('alice')); // ...and the member comes back on another node
            await waitFor(
              'node a’s grace to end',
              () => Promise.resolve(trackerA.pendingCount),
              (n) => n === 0,
            );
            // a's delayed remove went out on storeA's client: a later reply on that client follows it.
            await waitFor(
              'only node b to count alice',
              () => storeA.stats(channel),
              (s) => s.connections === 1,
            );
            assert.deepEqual(announced, ['join alice'], 'no leave and no second join');

            joined = announcement();
            trackerB.left(channel, user('alice'));
            await joined;
            assert.deepEqual(announced, ['join alice', 'leave alice']);
          } finally {
            trackerA.stop();
            trackerB.stop();
            await Promise.all([storeA.close(), storeB.close()]);
          }
        },
      );

      test('a crashed node’s members are announced by a survivor within ttl + ttl/3', TEST, async () => {
        const prefix = `p${randomBytes(3).toString('hex')}`;
        const crashClock = new StoppableClock();
        const crashed = await node(prefix, crashClock);
        const a = new RedisPresenceStore(await node(prefix), { ttlMs: TTL });
        const b = new RedisPresenceStore(crashed, { ttlMs: TTL });
        const expired = expiries(a);
        const channel = freshChannel();
        try {
          await a.add(channel, user('alice'));
          await b.add(channel, user('alice'));
          await b.add(channel, user('bob', { from: 'b' }));
          await b.add(channel, user('bob'));
          assert.deepEqual(await a.stats(channel), { users: 2, connections: 4 });

          const next = expired.next(TTL * 4 + SLACK);
          const crashedAt = Date.now();
          crash(crashed, crashClock);
          const event = await next;
          const elapsed = Date.now() - crashedAt;
          assert.deepEqual(event, { channel, member: { key: 'bob', userId: 'bob', info: { from: 'b' } } });
          assert.ok(elapsed <= (TTL * 4) / 3 + SLACK, `announced after ${elapsed} ms`);

          assert.deepEqual(
            await a.list(channel),
            [{ userId: 'alice', connections: 1 }],
            'alice is still on a',
          );
          assert.deepEqual(await a.stats(channel), { users: 1, connections: 1 });
          assert.equal(expired.seen.length, 1, 'announced once, alice not at all');
        } finally {
          await a.close();
        }
      });

      test(
        'where no survivor has members, list and stats drop a crashed node’s and report them',
        TEST,
        async () => {
          const prefix = `p${randomBytes(3).toString('hex')}`;
          const crashClock = new StoppableClock();
          const crashed = await node(prefix, crashClock);
          const a = new RedisPresenceStore(await node(prefix), { ttlMs: TTL });
          const b = new RedisPresenceStore(crashed, { ttlMs: TTL });
          const expired = expiries(a);
          const channel = freshChannel();
          try {
            await b.add(channel, user('carol'));
            await b.add(channel, { key: '#c9', userId: null, connectionId: 'c9' });
            assert.deepEqual(await a.stats(channel), { users: 2, connections: 2 });
            crash(crashed, crashClock);
            await waitFor(
              'the crashed node’s members to go',
              () => a.stats(channel),
              (s) => s.users === 0,
              TTL * 4 + SLACK,
            );
            assert.deepEqual(await a.list(channel), []);
            assert.deepEqual(
              expired.seen.map(({ member }) => member).sort((x, y) => (x.key < y.key ? -1 : 1)),
              [
                { key: '#c9', userId: null, connectionId: 'c9' },
                { key: 'carol', userId: 'carol' },
              ],
            );
          } finally {
            await a.close();
          }
        },
      );

      test('close withdraws a node’s entries at once, announcing nothing', TEST, async () => {
        const prefix = `p${randomBytes(3).toString('hex')}`;
        const a = new RedisPresenceStore(await node(prefix), { ttlMs: 30_000 });
        const b = new RedisPresenceStore(await node(prefix), { ttlMs: 30_000 });
        const expired = expiries(a);
        const channel = freshChannel();
        try {
          await a.add(channel, user('alice'));
          await b.add(channel, user('alice'));
          await b.add(channel, user('bob'));
          await b.close();
          assert.deepEqual(await a.list(channel), [{ userId: 'alice', connections: 1 }]);
          assert.equal(expired.seen.length, 0);
        } finally {
          await a.close();
        }
        const observer = new RedisPresenceStore(await node(prefix), { ttlMs: 30_000 });
        assert.deepEqual(await observer.stats(channel), { users: 0, connections: 0 }, 'a closed too');
        await observer.close();
      });

      test(
        'after Redis restarts empty, a live node restores its members',
        { ...TEST, skip: SKIP === false ? topology.noRestart : SKIP },
        async () => {
          const prefix = `p${randomBytes(3).toString('hex')}`;
          const a = new RedisPresenceStore(await node(prefix), { ttlMs: TTL });
          const channel = freshChannel();
          try {
            await a.add(channel, user('alice', { n: 1 }));
            await a.add(channel, user('alice'));
            await a.add(channel, user('bob'));
            await a.remove(channel, 'bob');
            await server?.restart?.();
            const list = await waitFor(
              'the members to come back',
              () => a.list(channel),
              (l) => l.length > 0,
              10_000,
            );
            assert.deepEqual(list, [{ userId: 'alice', connections: 2, info: { n: 1 } }]);
          } finally {
            await a.close();
          }
        },
      );
    });

    describe('node registry', () => {
      const equalTo =
        (expected: ClusterCounts) =>
        (counts: ClusterCounts): boolean =>
          JSON.stringify(counts) === JSON.stringify(expected);

      test(
        'counts are totals across nodes, users and channels distinct; a silent node drops out',
        TEST,
        async () => {
          const prefix = `r${randomBytes(3).toString('hex')}`;
          const crashClock = new StoppableClock();
          const crashed = await node(prefix, crashClock);
          const a = new RedisNodeRegistry(await node(prefix), { reportIntervalMs: INTERVAL });
          const b = new RedisNodeRegistry(crashed, { reportIntervalMs: INTERVAL });
          try {
            assert.deepEqual(await a.counts(), { nodes: 0, connections: 0, users: 0, channels: 0 });
            a.userAdded('u1'); // before start: sent with the first report
            a.channelAdded('c1');
            await a.start(() => ({ connections: 3, users: 2, channels: 1 }));
            await b.start(() => ({ connections: 4, users: 2, channels: 2 }));
            a.userAdded('u2');
            b.userAdded('u2');
            b.userAdded('u3');
            b.channelAdded('c1');
            b.channelAdded('c2');
            const both = { nodes: 2, connections: 7, users: 3, channels: 2 };
            await waitFor('both nodes counted', () => a.counts(), equalTo(both));

            a.userRemoved('u2'); // still on b
            a.userAdded('u4');
            a.userRemoved('u4'); // came and went within one batch
            await waitFor('u2 counted once', () => b.counts(), equalTo(both));
            a.userRemoved('u1');
            await waitFor('u1 gone', () => b.counts(), equalTo({ ...both, users: 2 }));

            const crashedAt = Date.now();
            crash(crashed, crashClock);
            const alone = { nodes: 1, connections: 3, users: 0, channels: 1 };
            await waitFor(
              'the silent node to drop out',
              () => a.counts(),
              equalTo(alone),
              INTERVAL * 6 + SLACK,
            );
            const elapsed = Date.now() - crashedAt;
            assert.ok(elapsed <= INTERVAL * 3 + SLACK, `dropped out after ${elapsed} ms`);
          } finally {
            await a.close();
          }
          const observer = new RedisNodeRegistry(await node(prefix), { reportIntervalMs: INTERVAL });
          assert.deepEqual(
            await observer.counts(),
            { nodes: 0, connections: 0, users: 0, channels: 0 },
            'a closed',
          );
        },
      );

      test(
        'after Redis restarts empty, nodes report again with their whole sets',
        { ...TEST, skip: SKIP === false ? topology.noRestart : SKIP },
        async () => {
          const prefix = `r${randomBytes(3).toString('hex')}`;
          const a = new RedisNodeRegistry(await node(prefix), { reportIntervalMs: INTERVAL });
          try {
            await a.start(() => ({ connections: 2, users: 2, channels: 1 }));
            a.userAdded('u1');
            a.userAdded('u2');
            a.channelAdded('c1');
            const expected = { nodes: 1, connections: 2, users: 2, channels: 1 };
            await waitFor('counted', () => a.counts(), equalTo(expected));
            await server?.restart?.();
            a.userAdded('u3'); // while Redis is away: fails, then is part of the rewrite
            await waitFor('counted again', () => a.counts(), equalTo({ ...expected, users: 3 }), 10_000);
          } finally {
            await a.close();
          }
        },
      );
    });
  });
}
