/**
 * The Broker and HistoryStore contracts against every engine: the in-memory engine, the Redis engine on a
 * standalone redis-server, and the Redis engine on a 3-master Redis Cluster (sharded pub/sub). The Redis
 * runs skip loudly without redis-server (and fail where SWITCHBOARD_REQUIRE names it).
 */
import { after, before, describe } from 'node:test';
import { randomBytes } from 'node:crypto';
import { createMemoryEngine } from '../src/engine/memory-engine.js';
import { createRedisEngine } from '../src/engine/redis-engine.js';
import { ShiftedClock } from './auth-fixtures.js';
import { brokerContract } from './broker-contract.js';
import type { EngineFixture } from './broker-contract.js';
import { historyContract } from './history-contract.js';
import { redisRequirement, startRedis, startRedisCluster } from './redis-harness.js';
import type { RedisCluster, RedisProcess } from './redis-harness.js';

async function memoryFixture(): Promise<EngineFixture> {
  const clock = new ShiftedClock();
  const engine = createMemoryEngine(clock);
  return {
    broker: engine.broker,
    history: engine.history,
    nodeId: 'memory',
    clock,
    close: async () => {
      await engine.broker.close();
      await engine.history.close();
      await engine.presence.close();
    },
  };
}

/** A Redis engine on `url` under a key prefix of its own. */
async function redisFixture(url: string | undefined): Promise<EngineFixture> {
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
  });
  return Promise.resolve({
    broker: engine.broker,
    history: engine.history,
    nodeId: engine.nodeId,
    clock,
    close: async () => {
      await engine.broker.close();
      await engine.history.close();
      await engine.close();
    },
  });
}

describe('memory engine', () => {
  brokerContract('memory', memoryFixture);
  historyContract('memory', memoryFixture);
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
  const make = (): Promise<EngineFixture> => redisFixture(redis?.url);
  brokerContract('Redis standalone', make);
  historyContract('Redis standalone', make);
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
  const make = (): Promise<EngineFixture> => redisFixture(cluster?.url);
  brokerContract('Redis Cluster', make);
  historyContract('Redis Cluster', make);
});
