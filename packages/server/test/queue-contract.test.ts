/**
 * The QueueStore contract (queue-contract.ts) on every implementation: memory, Redis on a standalone
 * redis-server and on a 3-master Redis Cluster (each store under a key prefix of its own; the Redis runs
 * skip loudly without redis-server, and fail where SWITCHBOARD_REQUIRE names it); PostgreSQL runs are
 * added beside them.
 */
import { describe } from 'node:test';
import { MemoryQueueStore } from '../src/inbox/memory-queue-store.js';
import { runQueueContract } from './queue-contract.js';
import { redisRequirement } from './redis-harness.js';
import { redisPerDescribe, redisQueueFixture } from './redis-delivery-fixtures.js';

runQueueContract('memory', (limits) => {
  const store = new MemoryQueueStore(limits === undefined ? {} : { limits });
  return Promise.resolve({ store, cleanup: () => store.close() });
});

for (const topology of ['standalone', 'cluster'] as const) {
  describe(`Redis ${topology}`, { skip: redisRequirement.skip }, () => {
    const url = redisPerDescribe(topology);
    runQueueContract(`Redis ${topology}`, (limits) => redisQueueFixture(url(), limits));
  });
}
