/**
 * The QueueStore contract (queue-contract.ts) on every implementation: memory here; Redis and PostgreSQL
 * runs are added beside it.
 */
import { MemoryQueueStore } from '../src/inbox/memory-queue-store.js';
import { runQueueContract } from './queue-contract.js';

runQueueContract('memory', (limits) => {
  const store = new MemoryQueueStore(limits === undefined ? {} : { limits });
  return Promise.resolve({ store, cleanup: () => store.close() });
});
