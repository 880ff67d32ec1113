/**
 * The node registry seam: what every node of a deployment holds, for the cluster-wide counts in /stats.
 * The memory engine has none (one node is the whole deployment); the Redis engine keeps a report per live
 * node, with an expiry, and the distinct users and channels of each node.
 */

/** This node's own figures. */
export interface LocalCounts {
  readonly connections: number;
  readonly users: number;
  readonly channels: number;
}

/** Figures across every live node; users and channels are distinct across nodes. */
export interface ClusterCounts {
  readonly nodes: number;
  readonly connections: number;
  readonly users: number;
  readonly channels: number;
}

/** Cluster-wide counts. */
export interface NodeRegistry {
  /** Report this node from now on; `local` is read at each report. */
  start(local: () => LocalCounts): Promise<void>;
  /** Counts across every live node (a node that stopped reporting drops out within its expiry). */
  counts(): Promise<ClusterCounts>;
  /** Stop reporting and withdraw this node. */
  close(): Promise<void>;
}

/**
 * What this node holds, as the registry counts it: fed by the broker as users and channels come and go
 * on this node (it already learns both to route deliveries). Never throws.
 */
export interface NodeMembership {
  userAdded(userId: string): void;
  userRemoved(userId: string): void;
  channelAdded(channel: string): void;
  channelRemoved(channel: string): void;
}
