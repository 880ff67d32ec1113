import { MemoryBroker } from '../broker/memory-broker.js';
import { MemoryHistoryStore } from '../history/memory-history-store.js';
import { MemoryPresenceStore } from '../presence/memory-presence-store.js';
import type { Engine } from './engine.js';
import type { Clock } from '../util/clock.js';
import { systemClock } from '../util/clock.js';

/** Options of {@link createMemoryEngine}: how long and how many idle channel streams are kept. */
export interface MemoryEngineOptions {
  /**
   * How long a stream with no members and no messages left keeps its position after its last use (ms).
   * Default 300000 (the server's default history TTL; `createServer` passes its own `streamTtlMs`, at least
   * its `historyTtlMs`, to the engine it creates).
   */
  readonly streamTtlMs?: number;
  /** Idle streams (no members, no messages left) kept at most; the least recently used go first. Default 10000. */
  readonly maxIdleStreams?: number;
}

/**
 * The in-memory engine: broker, history and presence in this process. The default, and the one a single
 * process needs. The broker appends to the same streams the history store reads.
 */
export function createMemoryEngine(clock: Clock = systemClock, options: MemoryEngineOptions = {}): Engine {
  const history = new MemoryHistoryStore({ clock, ...options });
  return { broker: new MemoryBroker(history, clock), history, presence: new MemoryPresenceStore() };
}
