/**
 * The Broker, HistoryStore and SessionStore contracts against every engine: the in-memory engine (and
 * MemorySessionStore), the Redis engine on a standalone redis-server, and the Redis engine on a 3-master
 * Redis Cluster (sharded pub/sub). The Redis runs skip loudly without redis-server (and fail where
 * SWITCHBOARD_REQUIRE names it).
 */
import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { createMemoryEngine } from '../src/engine/memory-engine.js';
import { createRedisEngine } from '../src/engine/redis-engine.js';
import { MemorySessionStore } from '../src/sessions/memory-session-store.js';
import { RedisSessionStore } from '../src/sessions/redis-session-store.js';
import { createRedisClient, parseRedisUrl } from '../src/redis/redis-connection.js';
import { RedisKeys } from '../src/redis/redis-keys.js';
import { silentLogger } from '../src/util/logger.js';
import { ShiftedClock } from './auth-fixtures.js';
import { brokerContract } from './broker-contract.js';
import type { EngineFixture, EngineSettings } from './broker-contract.js';
import { historyContract } from './history-contract.js';
import { sessionStoreContract } from './session-store-contract.js';
import type { SessionStoreFixture } from './session-store-contract.js';
import { redisRequirement, startRedis, startRedisCluster } from './redis-harness.js';
import type { RedisCluster, RedisProcess } from './redis-harness.js';

async function memoryFixture(settings: EngineSettings = {}): Promise<EngineFixture> {
  const clock = new ShiftedClock();
  const engine = createMemoryEngine(clock, settings);
  return {
    broker: engine.broker,
    history: engine.history,
    nodeId: 'memory',
    clock,
    pass: (ms) => Promise.resolve(clock.advance(ms)),
    close: async () => {
      await engine.broker.close();
      await engine.history.close();
      await engine.presence.close();
    },
  };
}

/** A Redis engine on `url` under a key prefix of its own. */
async function redisFixture(url: string | undefined, settings: EngineSettings = {}): Promise<EngineFixture> {
  if (url === undefined) throw new Error('redis was not started');
  const clock = new ShiftedClock();
  const engine = createRedisEngine({
    url,
    prefix: `t${randomBytes(4).toString('hex')}`,
    clock,
    commandTimeoutMs: 1000,
    unsubscribeDelayMs: 50,
    probeIntervalMs: 200,
    probeTimeoutMs: 600,
    ...(settings.streamTtlMs === undefined ? {} : { streamTtlMs: settings.streamTtlMs }),
  });
  return Promise.resolve({
    broker: engine.broker,
    history: engine.history,
    nodeId: engine.nodeId,
    clock,
    // Redis expires keys in real time.
    pass: (ms) => delay(ms),
    close: async () => {
      await engine.broker.close();
      await engine.history.close();
      await engine.close();
    },
  });
}

function memorySessions(options: { readonly maxSessions?: number } = {}): Promise<SessionStoreFixture> {
  const clock = new ShiftedClock();
  return Promise.resolve({
    store: new MemorySessionStore(clock, options.maxSessions),
    expire: (_id, ttlMs) => Promise.resolve(clock.advance(ttlMs)),
    close: () => Promise.resolve(),
  });
}

/** Why the count bound of idle streams skips on Redis. */
const NO_STREAM_COUNT =
  'the Redis engine keeps no streams in node memory: their keys expire by the stream TTL, and Redis bounds its memory itself (maxmemory)';

/** Why the `maxSessions` case skips on Redis. */
const NO_SESSION_BOUND = 'RedisSessionStore has no maxSessions: Redis bounds its memory itself (maxmemory)';
/** How long a Redis session store waits for a command; a cut-off store fails within it. */
const SESSION_COMMAND_TIMEOUT_MS = 500;
/** Bound on Redis expiring a key once its PX has run out (Redis expires lazily and in a 10 Hz sweep). */
const EXPIRY_BOUND_MS = 2000;

/**
 * A RedisSessionStore on its own connected client under a key prefix of its own. Its `cutOff` pauses the
 * servers `pids()` names (SIGSTOP), so commands time out; `close` resumes them (SIGCONT).
 */
async function redisSessions(
  url: string | undefined,
  pids: () => readonly number[],
): Promise<SessionStoreFixture> {
  if (url === undefined) throw new Error('redis was not started');
  const address = parseRedisUrl(url);
  const client = createRedisClient(address, { commandTimeoutMs: SESSION_COMMAND_TIMEOUT_MS });
  // What the broker does in a server: connection errors are the commands' to report, not a crash.
  client.on('error', () => {});
  await client.connect();
  const keys = new RedisKeys(`t${randomBytes(4).toString('hex')}`);
  const store = new RedisSessionStore({
    address,
    client,
    keys,
    nodeId: randomBytes(4).toString('hex'),
    clock: new ShiftedClock(),
    logger: silentLogger,
    commandTimeoutMs: SESSION_COMMAND_TIMEOUT_MS,
  });
  let paused: readonly number[] = [];
  return {
    store,
    expire: async (id, ttlMs) => {
      const deadline = Date.now() + ttlMs + EXPIRY_BOUND_MS;
      while ((await client.exists(keys.session(id))) === 1) {
        assert.ok(
          Date.now() < deadline,
          `session ${id} still in Redis ${ttlMs + EXPIRY_BOUND_MS} ms after its save`,
        );
        await delay(10);
      }
    },
    cutOff: () => {
      paused = pids();
      for (const pid of paused) process.kill(pid, 'SIGSTOP');
      return Promise.resolve();
    },
    close: () => {
      for (const pid of paused) process.kill(pid, 'SIGCONT');
      client.disconnect();
      return Promise.resolve();
    },
  };
}

describe('memory engine', () => {
  brokerContract('memory', memoryFixture);
  historyContract('memory', memoryFixture);
  sessionStoreContract('MemorySessionStore', memorySessions, {
    skips: { unreachable: 'the memory store has no backend to lose' },
  });
});

describe('Redis engine, standalone', { skip: redisRequirement.skip }, () => {
  let redis: RedisProcess | undefined;
  before(async () => {
    redisRequirement.assert();
    redis = await startRedis();
  });
  after(async () => {
    await redis?.stop();
  });
  const make = (settings?: EngineSettings): Promise<EngineFixture> => redisFixture(redis?.url, settings);
  brokerContract('Redis standalone', make);
  historyContract('Redis standalone', make, { skips: { countBound: NO_STREAM_COUNT } });
  sessionStoreContract(
    'RedisSessionStore, standalone',
    () => redisSessions(redis?.url, () => (redis === undefined ? [] : [redis.pid])),
    { skips: { bound: NO_SESSION_BOUND } },
  );
});

describe('Redis engine, 3-master cluster (sharded pub/sub)', { skip: redisRequirement.skip }, () => {
  let cluster: RedisCluster | undefined;
  before(async () => {
    redisRequirement.assert();
    cluster = await startRedisCluster({ masters: 3 });
  });
  after(async () => {
    await cluster?.stop();
  });
  const make = (settings?: EngineSettings): Promise<EngineFixture> => redisFixture(cluster?.url, settings);
  brokerContract('Redis Cluster', make);
  historyContract('Redis Cluster', make, { skips: { countBound: NO_STREAM_COUNT } });
  sessionStoreContract(
    'RedisSessionStore, Cluster',
    () => redisSessions(cluster?.url, () => cluster?.nodes.map((node) => node.pid) ?? []),
    { skips: { bound: NO_SESSION_BOUND } },
  );
});
