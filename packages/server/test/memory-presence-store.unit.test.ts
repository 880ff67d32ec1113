// The memory presence store: the PresenceStore contract.
import { MemoryPresenceStore } from '../src/index.js';
import { presenceStoreContract } from './presence-contract.js';

presenceStoreContract('memory', () => new MemoryPresenceStore());
