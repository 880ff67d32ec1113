// PLACEHOLDER: replaced by the Redis broker implementation.
import type { Broker, BrokerHandler, Envelope, Publication, PublicationInput } from './broker.js';
import type { RedisContext } from '../engine/redis-engine.js';
import type { EngineHealth, NodeMembership } from '../engine/node-registry.js';

/** Options of {@link RedisBroker} (defaults are applied by createRedisEngine). */
export interface RedisBrokerOptions {
  readonly unsubscribeDelayMs: number;
  readonly probeIntervalMs: number;
  readonly probeTimeoutMs: number;
  readonly idempotencyWindowMs: number;
  readonly streamTtlMs: number;
  readonly membership?: NodeMembership;
}

/** The broker over Redis pub/sub (sharded on Cluster) with Streams for offsets and history. */
export class RedisBroker implements Broker {
  constructor(
    readonly context: RedisContext,
    readonly options: RedisBrokerOptions,
  ) {}
  start(handler: BrokerHandler): Promise<void> {
    void handler;
    return Promise.reject(new Error('not implemented'));
  }
  publish(channel: string, input: PublicationInput): Promise<Publication> {
    void channel;
    void input;
    return Promise.reject(new Error('not implemented'));
  }
  send(envelope: Envelope): Promise<void> {
    void envelope;
    return Promise.reject(new Error('not implemented'));
  }
  subscribe(): Promise<void> {
    return Promise.resolve();
  }
  unsubscribe(): Promise<void> {
    return Promise.resolve();
  }
  watchUser(): void {}
  unwatchUser(): void {}
  health(): EngineHealth {
    return { ready: false, reason: 'not implemented' };
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}
