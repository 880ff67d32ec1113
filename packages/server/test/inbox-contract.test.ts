/**
 * The InboxStore contract (inbox-contract.ts) on every implementation: memory here; Redis and PostgreSQL
 * runs are added beside it.
 */
import { MemoryInboxStore } from '../src/inbox/memory-inbox-store.js';
import { runInboxContract } from './inbox-contract.js';

runInboxContract('memory', (limits) => {
  const store = new MemoryInboxStore(limits === undefined ? {} : { limits });
  return Promise.resolve({ store, cleanup: () => store.close() });
});
