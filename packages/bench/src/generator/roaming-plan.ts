/**
 * The IPC plan of a roaming generator (drain and failover scenarios): clients that know every node's URL,
 * reconnect as the SDK does (roam-policy.ts), resubscribe with recovery and check that nothing was lost
 * (sequence-check.ts); one of the generators also runs the numbered publisher.
 */
import type { BackoffSettings } from './roam-policy.js';
import type { SequenceFigures } from './sequence-check.js';

/** Settings a roaming generator starts with. */
export interface RoamingInit {
  /** `ws://host:port` of every node, in node order. */
  readonly nodes: readonly string[];
  /** Source addresses `<prefix><n>`, n = 2, 3, ... (plan.ts `sourceAddress`). */
  readonly addressPrefix: string;
  readonly jwtSecret: string;
  /** Rooms: consecutive groups of `roomSize` global indices, named `<roomPrefix><group>`. */
  readonly roomPrefix: string;
  readonly roomSize: number;
  readonly backoff: BackoffSettings;
}

/**
 * Open `count` clients with global indices from `firstIndex`, each on node `start` first; client `i`'s URL
 * list is `start` followed by `others` rotated by `i` (so that refused clients spread over the others, as
 * an application that shuffles its URL list would). Each subscribes to its room; resolves when all are.
 */
export interface RoamConnect {
  readonly firstIndex: number;
  readonly count: number;
  readonly start: number;
  readonly others: readonly number[];
  readonly concurrency: number;
  readonly timeoutMs: number;
}

/** Publish numbered messages through node `node` to rooms 0..rooms-1, round robin, `ratePerSecond` in all. */
export interface PublishPlan {
  readonly node: number;
  readonly rooms: number;
  readonly ratePerSecond: number;
  readonly payloadBytes: number;
}

/** What the numbered publisher did. */
export interface PublishOutcome {
  readonly published: number;
  /** Publishes the server answered with an id, and those it refused (error replies). */
  readonly acked: number;
  readonly refused: number;
  readonly firstRefusal: string;
  /** The last id the server gave in each room (room number -> id). */
  readonly lastIds: Readonly<Record<number, number>>;
}

/** Progress since the mark: clients ready (connected and subscribed), and on which node. */
export interface RoamProgress {
  readonly clients: number;
  readonly ready: number;
  /** Clients lost since the mark, and those of them back (connected and subscribed again). */
  readonly lost: number;
  readonly back: number;
  readonly readyByNode: readonly number[];
}

/** Refused attempts on one node since the mark, by how. */
export interface Refusals {
  /** HTTP 503 (a draining node, or one over its accept budget / event-loop limit). */
  readonly http503: number;
  /** Another HTTP status (429, ...). */
  readonly httpOther: number;
  /** Nothing listening (ECONNREFUSED): a node that is gone. */
  readonly connRefused: number;
  /** No handshake answer within the timeout, or a reset. */
  readonly other: number;
}

/** Everything a roaming generator measured since the mark, per client where it matters. */
export interface RoamReport {
  /** Per client: when it was lost (epoch ms; 0: never), when it was back (0: not), its node (-1: none). */
  readonly lostAt: readonly number[];
  readonly backAt: readonly number[];
  readonly node: readonly number[];
  /** Per client: connection attempts since the mark. */
  readonly attempts: readonly number[];
  /** Per node: when it wrote each accepted connection's `connected` frame (its `time`, epoch ms). */
  readonly acceptedAt: readonly (readonly number[])[];
  readonly refusals: readonly Refusals[];
  /** Closes with a drain hint (1012 + `retry after <n> ms`) and the sum of the hinted delays (ms). */
  readonly hintedCloses: number;
  readonly hintedDelayMs: number;
  /** Other closes of ready connections, by close code. */
  readonly otherCloses: Readonly<Record<number, number>>;
  /** Subscribes refused (error replies, retried) and given up. */
  readonly subscribeRefusals: number;
  readonly firstSubscribeRefusal: string;
  readonly subscribeFailures: number;
  /** What the first duplicate message looked like (empty: none). */
  readonly firstDuplicate: string;
  readonly sequence: SequenceFigures;
  /** Clients back (ready) whose last id is short of their room's last published id, and by how many. */
  readonly behind: number;
  readonly behindBy: number;
}

/** The IPC methods of a roaming generator process. */
export type RoamingApi = {
  init: { params: RoamingInit; result: null };
  connect: { params: RoamConnect; result: { ready: number; failed: number; elapsedMs: number } };
  /** From now on, count losses, attempts, accepts and refusals afresh. */
  mark: { params: null; result: null };
  progress: { params: null; result: RoamProgress };
  startPublisher: { params: PublishPlan; result: null };
  stopPublisher: { params: null; result: PublishOutcome };
  /**
   * Wait (at most `timeoutMs`) until every client has received its room's last id (`lastIds`, by room
   * number), then report.
   */
  report: { params: { lastIds: Readonly<Record<number, number>>; timeoutMs: number }; result: RoamReport };
  closeAll: { params: null; result: { closed: number } };
};
