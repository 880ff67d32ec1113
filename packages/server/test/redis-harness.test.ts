/**
 * The integration-test harness itself: a standalone redis-server that dies and comes back empty on its
 * port, a formed 3-master cluster (routing and sharded pub/sub), and the built `switchboard` CLI as a
 * child process. Redis cases skip loudly without redis-server (fail under SWITCHBOARD_REQUIRE); the CLI
 * case needs `npm run build` first.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect as connectTcp } from 'node:net';
import { Cluster, Redis } from 'ioredis';
import { connect } from './helpers.js';
import { startNode } from './node-process.js';
import { redisRequirement, startRedis, startRedisCluster } from './redis-harness.js';
import type { RedisCluster, RedisProcess } from './redis-harness.js';

const REDIS_TEST = { skip: redisRequirement.skip, timeout: 10_000 };

/** Fail fast instead of queueing and retrying: a test wants the first answer. */
const FAIL_FAST = { maxRetriesPerRequest: 0, connectTimeout: 2000 } as const;
const NO_RETRY = { ...FAIL_FAST, retryStrategy: () => null } as const;

function present<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`${what} was not started`);
  return value;
}

/** 'connected', or the error code of a fresh TCP connection to `port` (ECONNREFUSED once nothing listens). */
function tcpOutcome(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connectTcp({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

describe('startRedis', () => {
  let redis: RedisProcess | undefined;
  const clients: Redis[] = [];
  const client = (url: string): Redis => {
    const made = new Redis(url, NO_RETRY);
    clients.push(made);
    return made;
  };

  before(async () => {
    if (redisRequirement.skip !== false) return;
    redisRequirement.assert();
    redis = await startRedis();
  });

  after(async () => {
    for (const made of clients) made.disconnect();
    await redis?.stop();
  });

  it(
    'serves on a free loopback port, refuses after SIGKILL, and restarts empty on the same port',
    REDIS_TEST,
    async () => {
      const server = present(redis, 'redis');
      assert.notEqual(server.port, 6379, 'never the machine’s own Redis');
      assert.equal(server.url, `redis://127.0.0.1:${server.port}`);

      const before = client(server.url);
      assert.equal(await before.set('greeting', 'hello'), 'OK');
      assert.equal(await before.get('greeting'), 'hello');
      before.disconnect(); // its reconnect attempts would only add noise once the server dies

      const firstPid = server.pid;
      await server.kill();
      assert.equal(server.running, false);
      assert.equal(await tcpOutcome(server.port), 'ECONNREFUSED');

      await server.restart();
      assert.equal(server.running, true);
      assert.notEqual(server.pid, firstPid);
      const after = client(server.url);
      assert.equal(await after.ping(), 'PONG');
      assert.equal(await after.get('greeting'), null, 'nothing persisted across the restart');
    },
  );
});

describe('startRedisCluster', () => {
  let cluster: RedisCluster | undefined;
  const clients: (Redis | Cluster)[] = [];
  const plain = (port: number): Redis => {
    const made = new Redis({ host: '127.0.0.1', port, ...NO_RETRY });
    clients.push(made);
    return made;
  };

  before(async () => {
    if (redisRequirement.skip !== false) return;
    redisRequirement.assert();
    cluster = await startRedisCluster({ masters: 3 });
  });

  after(async () => {
    for (const made of clients) made.disconnect();
    await cluster?.stop();
  });

  /** The port of the master serving `key`'s slot, from CLUSTER KEYSLOT and CLUSTER SLOTS on `admin`. */
  async function ownerOf(admin: Redis, key: string): Promise<number> {
    const slot = Number(await admin.call('CLUSTER', 'KEYSLOT', key));
    const ranges = (await admin.call('CLUSTER', 'SLOTS')) as [
      number,
      number,
      [string, number, ...unknown[]],
    ][];
    const range = ranges.find(([first, last]) => first <= slot && slot <= last);
    if (range === undefined) throw new Error(`no node serves slot ${slot}`);
    return range[2][1];
  }

  it('routes keys in every slot range through an ioredis Cluster', REDIS_TEST, async () => {
    const { nodes, url, startupNodes } = present(cluster, 'cluster');
    assert.equal(nodes.length, 3);
    assert.equal(url, `redis-cluster://${nodes.map((node) => `127.0.0.1:${node.port}`).join(',')}`);
    const admin = plain(present(nodes[0], 'node 0').port);

    // One key per master, found by asking the cluster where keys live.
    const keyByOwner = new Map<number, string>();
    for (let i = 0; keyByOwner.size < nodes.length; i++) {
      const key = `key:${i}`;
      const owner = await ownerOf(admin, key);
      if (!keyByOwner.has(owner)) keyByOwner.set(owner, key);
    }
    assert.deepEqual(
      [...keyByOwner.keys()].sort(),
      nodes.map((node) => node.port).sort(),
      'every master owns a slot range',
    );

    const routed = new Cluster([...startupNodes], {
      redisOptions: FAIL_FAST,
      clusterRetryStrategy: () => null,
    });
    clients.push(routed);
    for (const key of keyByOwner.values()) assert.equal(await routed.set(key, `value of ${key}`), 'OK');
    for (const [owner, key] of keyByOwner) {
      assert.equal(await routed.get(key), `value of ${key}`);
      // Stored on the owner itself: a plain GET there answers without a MOVED redirection.
      assert.equal(await plain(owner).get(key), `value of ${key}`);
    }
  });

  it('delivers SPUBLISH to SSUBSCRIBE on the shard channel’s owner', REDIS_TEST, async () => {
    const { nodes } = present(cluster, 'cluster');
    const channel = 'room:42';
    const owner = await ownerOf(plain(present(nodes[0], 'node 0').port), channel);

    const subscriber = plain(owner);
    await subscriber.ssubscribe(channel);
    const received = once(subscriber, 'smessage') as Promise<[string, string]>;
    assert.equal(await plain(owner).spublish(channel, 'hello'), 1, 'one shard subscriber');
    assert.deepEqual(await received, [channel, 'hello']);
  });
});

describe('startNode', () => {
  it(
    'runs the built CLI on a free port: /health answers, SIGTERM drains clients (1012) and exits 0',
    { timeout: 10_000 },
    async () => {
      const node = await startNode();
      try {
        assert.notEqual(node.port, 0);
        assert.equal(node.url, `http://127.0.0.1:${node.port}`);
        assert.equal(node.wsUrl, `ws://127.0.0.1:${node.port}`);
        const health = await fetch(`${node.url}/health`);
        assert.equal(health.status, 200);
        assert.equal(((await health.json()) as { status?: unknown }).status, 'ok');

        const client = await connect(`${node.wsUrl}/ws`);
        assert.equal(await node.stop(), 0);
        // The CLI drains on SIGTERM: 1012 with a retry hint (docs/operations.md#draining).
        assert.equal((await client.closed).code, 1012);
        assert.match(node.stdout(), /switchboard stopped/);
      } finally {
        await node.kill();
      }
    },
  );
});
