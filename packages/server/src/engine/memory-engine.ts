import { MemoryBroker } from '../broker/memory-broker.js';
import { MemoryHistoryStore } from '../history/memory-history-store.js';
import { MemoryPresenceStore } from '../presence/memory-presence-store.js';
import type { Engine } from './engine.js';
import type { Clock } from '../util/clock.js';
import { systemClock } from '../util/clock.js';

/**
 * The in-memory engine: broker, history and presence in this process. The default, and the one a single
 * process needs. The broker appends to the same streams the history store reads.
 */
export function createMemoryEngine(clock: Clock = systemClock): Engine {
  const history = new MemoryHistoryStore({ clock });
  return { broker: new MemoryBroker(history, clock), history, presence: new MemoryPresenceStore() };
}
