/**
 * Redis-backed inbox and queue stores for the contract suites (inbox-contract.test.ts,
 * queue-contract.test.ts) and the restart test: a Redis (standalone or a 3-master cluster) per suite, and
 * per store a connected client under a key prefix of its own, whose keys the cleanup deletes.
 */
import { after, before } from 'node:test';
import { randomBytes } from 'node:crypto';
import type { Cluster } from 'ioredis';
import { RedisInboxStore } from '../src/inbox/redis-inbox-store.js';
import { RedisQueueStore } from '../src/inbox/redis-queue-store.js';
import type { InboxLimits } from '../src/inbox/inbox-store.js';
import type { QueueLimits } from '../src/inbox/queue-store.js';
import { createRedisClient, parseRedisUrl } from '../src/redis/redis-connection.js';
import type { RedisClient } from '../src/redis/redis-connection.js';
import type { RedisContext } from '../src/redis/redis-context.js';
import { RedisKeys } from '../src/redis/redis-keys.js';
import { silentLogger } from '../src/util/logger.js';
import { systemClock } from '../src/util/clock.js';
import { redisRequirement, startRedis, startRedisCluster } from './redis-harness.js';
import type { InboxFixture } from './inbox-contract.js';
import type { QueueFixture } from './queue-contract.js';

/** The Redis topologies the stores run on. */
export type Topology = 'standalone' | 'cluster';

/**
 * Start a Redis of `topology` for the enclosing `describe` (unless Redis suites skip); the returned
 * function gives its URL and throws if it was not started.
 */
export function redisPerDescribe(topology: Topology): () => string {
  let server: { readonly url: string; stop(): Promise<void> } | undefined;
  before(async () => {
    if (redisRequirement.skip !== false) return;
    redisRequirement.assert();
    server = topology === 'standalone' ? await startRedis() : await startRedisCluster({ masters: 3 });
  });
  after(async () => {
    await server?.stop();
  });
  return () => {
    if (server === undefined) throw new Error('redis was not started');
    return server.url;
  };
}

/** A connected context on `url` under a fresh key prefix. */
export async function redisContext(
  url: string,
  prefix = `t${randomBytes(4).toString('hex')}`,
): Promise<RedisContext> {
  const address = parseRedisUrl(url);
  const client = createRedisClient(address, { commandTimeoutMs: 2000 });
  // What the broker does in a server: connection errors are the commands' to report, not a crash.
  client.on('error', () => {});
  await client.connect();
  return {
    address,
    client,
    keys: new RedisKeys(prefix),
    nodeId: randomBytes(4).toString('hex'),
    clock: systemClock,
    logger: silentLogger,
    commandTimeoutMs: 2000,
  };
}

/** Delete every key under the context's prefix (on each master of a cluster), then disconnect. */
export async function dropContext(context: RedisContext): Promise<void> {
  const { client, keys } = context;
  const masters: RedisClient[] =
    'nodes' in client && typeof client.nodes === 'function' ? (client as Cluster).nodes('master') : [client];
  for (const node of masters) {
    let cursor = '0';
    do {
      const [next, found] = await node.scan(cursor, 'MATCH', `${keys.prefix}:*`, 'COUNT', 1000);
      cursor = next;
      // One DEL per key: on a cluster the keys of one master span several slots.
      await Promise.all(found.map((key) => client.del(key)));
    } while (cursor !== '0');
  }
  client.disconnect();
}

/** An inbox contract fixture on the Redis at `url()`. */
export async function redisInboxFixture(url: string, limits?: Partial<InboxLimits>): Promise<InboxFixture> {
  const context = await redisContext(url);
  const store = new RedisInboxStore(context, limits);
  return {
    store,
    cleanup: async () => {
      await store.close();
      await dropContext(context);
    },
  };
}

/** A queue contract fixture on the Redis at `url()`. */
export async function redisQueueFixture(url: string, limits?: Partial<QueueLimits>): Promise<QueueFixture> {
  const context = await redisContext(url);
  const store = new RedisQueueStore(context, limits);
  return {
    store,
    cleanup: async () => {
      await store.close();
      await dropContext(context);
    },
  };
}
