/**
 * The InboxStore contract (inbox-contract.ts) on every implementation: memory, Redis on a standalone
 * redis-server and on a 3-master Redis Cluster (each store under a key prefix of its own; the Redis runs
 * skip loudly without redis-server, and fail where SWITCHBOARD_REQUIRE names it); and
 * PostgreSQL (a database per suite, a fresh schema per case; skips loudly without a server).
 */
import { describe } from 'node:test';
import { randomBytes } from 'node:crypto';
import { MemoryInboxStore } from '../src/inbox/memory-inbox-store.js';
import { runInboxContract } from './inbox-contract.js';
import { redisRequirement } from './redis-harness.js';
import { redisInboxFixture, redisPerDescribe } from './redis-delivery-fixtures.js';
import { createPostgresStores } from '../src/inbox/postgres-stores.js';
import { postgresPerSuite, postgresRequirement } from './postgres-harness.js';

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

// PostgreSQL: one database for the suite, a fresh schema (migrated by createPostgresStores) per case.
describe('PostgreSQL', { skip: postgresRequirement.skip }, () => {
  const database = postgresPerSuite();
  runInboxContract(
    'postgres',
    async (limits) => {
      const schema = `t_${randomBytes(5).toString('hex')}`;
      const stores = await createPostgresStores({
        url: database().url,
        schema,
        max: 4,
        ...(limits === undefined ? {} : { inboxLimits: limits }),
      });
      return { store: stores.inbox, cleanup: () => stores.close() };
    },
    postgresRequirement.skip,
  );
});
