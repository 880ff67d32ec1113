/**
 * The InboxStore contract (inbox-contract.ts) on every implementation: memory here; Redis and PostgreSQL
 * runs are added beside it.
 */
import { describe } from 'node:test';
import { randomBytes } from 'node:crypto';
import { MemoryInboxStore } from '../src/inbox/memory-inbox-store.js';
import { runInboxContract } from './inbox-contract.js';
import { createPostgresStores } from '../src/inbox/postgres-stores.js';
import { postgresPerSuite, postgresRequirement } from './postgres-harness.js';

runInboxContract('memory', (limits) => {
  const store = new MemoryInboxStore(limits === undefined ? {} : { limits });
  return Promise.resolve({ store, cleanup: () => store.close() });
});

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
