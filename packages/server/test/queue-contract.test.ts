/**
 * The QueueStore contract (queue-contract.ts) on every implementation: memory here; Redis and PostgreSQL
 * runs are added beside it.
 */
import { describe } from 'node:test';
import { randomBytes } from 'node:crypto';
import { MemoryQueueStore } from '../src/inbox/memory-queue-store.js';
import { runQueueContract } from './queue-contract.js';
import { createPostgresStores } from '../src/inbox/postgres-stores.js';
import { postgresPerSuite, postgresRequirement } from './postgres-harness.js';

runQueueContract('memory', (limits) => {
  const store = new MemoryQueueStore(limits === undefined ? {} : { limits });
  return Promise.resolve({ store, cleanup: () => store.close() });
});

// PostgreSQL: one database for the suite, a fresh schema (migrated by createPostgresStores) per case.
describe('PostgreSQL', { skip: postgresRequirement.skip }, () => {
  const database = postgresPerSuite();
  runQueueContract(
    'postgres',
    async (limits) => {
      const schema = `t_${randomBytes(5).toString('hex')}`;
      const stores = await createPostgresStores({
        url: database().url,
        schema,
        max: 4,
        ...(limits === undefined ? {} : { queueLimits: limits }),
      });
      return { store: stores.queues, cleanup: () => stores.close() };
    },
    postgresRequirement.skip,
  );
});
