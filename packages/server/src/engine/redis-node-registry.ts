// PLACEHOLDER: replaced by the Redis node registry implementation.
import type { ClusterCounts, LocalCounts, NodeMembership, NodeRegistry } from './node-registry.js';
import type { RedisContext } from './redis-engine.js';

/** Options of {@link RedisNodeRegistry}. */
export interface RedisNodeRegistryOptions {
  /** How often this node reports (ms); a node silent for three reports drops out. */
  readonly reportIntervalMs: number;
}

/** Per-node reports and distinct users/channels per node in Redis, for cluster-wide counts. */
export class RedisNodeRegistry implements NodeRegistry, NodeMembership {
  constructor(
    readonly context: RedisContext,
    readonly options: RedisNodeRegistryOptions,
  ) {}
  start(local: () => LocalCounts): Promise<void> {
    void local;
    return Promise.resolve();
  }
  counts(): Promise<ClusterCounts> {
    return Promise.reject(new Error('not implemented'));
  }
  userAdded(): void {}
  userRemoved(): void {}
  channelAdded(): void {}
  channelRemoved(): void {}
  close(): Promise<void> {
    return Promise.resolve();
  }
}
