/**
 * The engine seam: the parts a deployment shares between its nodes (broker, history, presence, and
 * optionally tickets, sessions and the node registry), composed by `memory-engine.ts` or
 * `redis-engine.ts`. The parts must share their storage: the broker appends to the streams the history
 * store reads.
 */
import type { Broker, EngineHealth } from '../broker/broker.js';
import type { HistoryStore } from '../history/history-store.js';
import type { HistoryReadStats } from '../history/history-read-pacing.js';
import type { PresenceStore } from '../presence/presence-store.js';
import type { SessionStore } from '../sessions/session-store.js';
import type { TicketStore } from '../auth/ticket-store.js';
import type { NodeRegistry } from '../nodes/node-registry.js';
import type { InboxStore } from '../inbox/inbox-store.js';
import type { QueueStore } from '../inbox/queue-store.js';
import type { OnlineStore } from '../presence/online-store.js';

/** What a deployment shares between nodes: the memory engine (one process) or Redis. */
export interface Engine {
  readonly broker: Broker;
  readonly history: HistoryStore;
  readonly presence: PresenceStore;
  /** This node's id, when the engine chose it (it names the node's routes in a shared backend). */
  readonly nodeId?: string;
  /** One-time tickets shared by every node. Default: the `auth` options' store, else one in memory. */
  readonly tickets?: TicketStore;
  /** Sessions shared by every node, so a client resumes on any node. Absent: sessions wait on their node. */
  readonly sessions?: SessionStore;
  /** Cluster-wide counts for /stats. Absent: this node is the whole deployment. */
  readonly nodes?: NodeRegistry;
  /** Users' acknowledged inboxes (guaranteed delivery), shared by every node. */
  readonly inbox?: InboxStore;
  /** Which users are online anywhere, for `onUserOffline`. Absent: this node's users are all there are. */
  readonly online?: OnlineStore;
  /** Work queues, shared by every node. */
  readonly queues?: QueueStore;
  /** Whether the backend can serve now; `/ready` answers 503 while it cannot. Absent: always ready. */
  health?(): EngineHealth;
  /**
   * History reads in flight, waiting for their turn and refused, for /stats and metrics, when the engine
   * paces them (Redis). Absent: reads are not paced, every count is 0 and `limits` is null.
   */
  historyReads?(): HistoryReadStats;
  /** Release what the parts share (connections), after the hub has closed each part. */
  close?(): Promise<void>;
}
