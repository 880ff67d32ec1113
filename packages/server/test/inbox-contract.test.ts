/**
 * The InboxStore contract (inbox-contract.ts) on every implementation: memory, Redis on a standalone
 * redis-server and on a 3-master Redis Cluster (each store under a key prefix of its own; the Redis runs
 * skip loudly without redis-server, and fail where SWITCHBOARD_REQUIRE names it); PostgreSQL runs are
 * added beside them.
 */
import { describe } from 'node:test';
import { MemoryInboxStore } from '../src/inbox/memory-inbox-store.js';
import { runInboxContract } from './inbox-contract.js';
import { redisRequirement } from './redis-harness.js';
import { redisInboxFixture, redisPerDescribe } from './redis-delivery-fixtures.js';

runInboxContract('memory', (limits) => {
  const store = new MemoryInboxStore(limits === undefined ? {} : { limits });
  return Promise.resolve({ store, cleanup: () => store.close() });
});

for (const topology of ['standalone', 'cluster'] as const) {
  describe(`Redis ${topology}`, { skip: redisRequirement.skip }, () => {
    const url = redisPerDescribe(topology);
    runInboxContract(`Redis ${topology}`, (limits) => redisInboxFixture(url(), limits));
  });
}
