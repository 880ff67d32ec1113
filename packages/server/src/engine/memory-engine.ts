import { MemoryBroker } from '../broker/memory-broker.js';
import { MemoryHistoryStore } from '../history/memory-history-store.js';
import { MemoryPresenceStore } from '../presence/memory-presence-store.js';
import { MemoryInboxStore } from '../inbox/memory-inbox-store.js';
import { MemoryQueueStore } from '../inbox/memory-queue-store.js';
import type { InboxLimits } from '../inbox/inbox-store.js';
import type { QueueLimits } from '../inbox/queue-store.js';
import type { Engine } from './engine.js';
import type { Clock } from '../util/clock.js';
import { systemClock } from '../util/clock.js';

/**
 * Options of {@link createMemoryEngine}: how long and how many idle channel streams are kept, and the
 * bounds of the users' inboxes and the work queues.
 */
export interface MemoryEngineOptions {
  /**
   * How long a stream with no members and no messages left keeps its position after its last use (ms).
   * Default 300000 (the server's default history TTL; `createServer` passes its own `streamTtlMs`, at least
   * its `historyTtlMs`, to the engine it creates).
   */
  readonly streamTtlMs?: number;
  /** Idle streams (no members, no messages left) kept at most; the least recently used go first. Default 10000. */
  readonly maxIdleStreams?: number;
  /** Bounds of each user's inbox; each left out is DEFAULT_INBOX_LIMITS' (1000 messages, 1 MiB, reject). */
  readonly inboxLimits?: Partial<InboxLimits>;
  /** Bounds of each work queue; each left out is DEFAULT_QUEUE_LIMITS' (100000 jobs). */
  readonly queueLimits?: Partial<QueueLimits>;
}

/**
 * The in-memory engine: broker, history, presence, inboxes and work queues in this process. The default,
 * and the one a single process needs. The broker appends to the same streams the history store reads.
 */
export function createMemoryEngine(clock: Clock = systemClock, options: MemoryEngineOptions = {}): Engine {
  const { inboxLimits, queueLimits, ...streams } = options;
  const history = new MemoryHistoryStore({ clock, ...streams });
  return {
    broker: new MemoryBroker(history, clock),
    history,
    presence: new MemoryPresenceStore(),
    inbox: new MemoryInboxStore(inboxLimits === undefined ? {} : { limits: inboxLimits }),
    queues: new MemoryQueueStore(queueLimits === undefined ? {} : { limits: queueLimits }),
  };
}
