/**
 * The online seam: which users hold a connection anywhere in the deployment, and which one node announces
 * a user's offline transition. A transition is numbered (its epoch: the user's count of offline -> online
 * changes); whoever claims it after the grace period, with no connection anywhere in between, is the only
 * one across every node to fire it. docs/delivery.md ("Offline and undelivered hooks") has the scheme.
 */

/** A user with no connection left anywhere, whose offline transition is to be claimed after the grace. */
export interface OfflineTransition {
  readonly userId: string;
  /** The transition's number: a claim for an older one finds the user back and fires nothing. */
  readonly epoch: number;
  /** How long the user has been offline already (ms): 0 when this node saw the last connection close. */
  readonly offlineForMs: number;
}

/**
 * A claim's answer: `fire` for exactly one caller per transition across the deployment; `wait` when the
 * grace has not run out yet (claim again after `waitMs`); `none` when the user came back or the
 * transition was claimed already.
 */
export type OfflineClaim =
  | { readonly outcome: 'fire' }
  | { readonly outcome: 'wait'; readonly waitMs: number }
  | { readonly outcome: 'none' };

/** Users' online state across nodes. Every method reports failure as a rejected promise. */
export interface OnlineStore {
  /**
   * Whether transitions outlive this node: a shared store hands the ones still in their grace at
   * shutdown (and a crashed node's users) to the surviving nodes; one that is not fires them at shutdown.
   */
  readonly shared: boolean;
  /** The user's first connection on this node. */
  online(userId: string): Promise<void>;
  /** The user's last connection on this node closed: the transition when none is left anywhere, else null. */
  offline(userId: string): Promise<OfflineTransition | null>;
  /** Claim transition `epoch` of `userId` once it has been offline for `graceMs`. */
  claim(userId: string, epoch: number, graceMs: number): Promise<OfflineClaim>;
  /**
   * Transitions the store found by itself: users whose last connections were on a node that stopped
   * refreshing (crashed, or stopped during their grace). Optional: a store of one node has none.
   */
  onOrphaned?(listener: (transition: OfflineTransition) => void): void;
  /** Start refreshing this node's liveness and looking for dead nodes (a no-op in memory). */
  start(): Promise<void>;
  /** Stop; a shared store leaves this node's pending transitions to the survivors. */
  close(): Promise<void>;
}
