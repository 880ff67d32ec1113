// PLACEHOLDER: replaced by the Redis history implementation.
import type { StreamPosition } from '@switchboard/protocol';
import type { HistoryPage, HistoryStore, Recovery } from './history-store.js';
import type { RedisContext } from '../engine/redis-engine.js';

/** Channel streams in Redis Streams. */
export class RedisHistoryStore implements HistoryStore {
  constructor(readonly context: RedisContext) {}
  position(channel: string): Promise<StreamPosition> {
    void channel;
    return Promise.reject(new Error('not implemented'));
  }
  read(channel: string, query: { readonly since?: number; readonly limit: number }): Promise<HistoryPage> {
    void channel;
    void query;
    return Promise.reject(new Error('not implemented'));
  }
  recover(channel: string, since: StreamPosition, limit: number): Promise<Recovery> {
    void channel;
    void since;
    void limit;
    return Promise.reject(new Error('not implemented'));
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}
