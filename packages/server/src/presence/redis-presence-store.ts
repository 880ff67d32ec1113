// PLACEHOLDER: replaced by the Redis presence implementation.
import type { PresenceEntry } from '@switchboard/protocol';
import type { PresenceMember, PresenceStore } from './presence-store.js';
import type { RedisContext } from '../engine/redis-engine.js';

/** Options of {@link RedisPresenceStore}. */
export interface RedisPresenceStoreOptions {
  /** A node's entries expire this long after its last refresh (ms). */
  readonly ttlMs: number;
}

/** Presence in Redis, with per-node entries that expire unless their node refreshes them. */
export class RedisPresenceStore implements PresenceStore {
  constructor(
    readonly context: RedisContext,
    readonly options: RedisPresenceStoreOptions,
  ) {}
  add(channel: string, member: PresenceMember): Promise<number> {
    void channel;
    void member;
    return Promise.reject(new Error('not implemented'));
  }
  remove(channel: string, key: string): Promise<number> {
    void channel;
    void key;
    return Promise.reject(new Error('not implemented'));
  }
  list(channel: string): Promise<PresenceEntry[]> {
    void channel;
    return Promise.reject(new Error('not implemented'));
  }
  stats(channel: string): Promise<{ users: number; connections: number }> {
    void channel;
    return Promise.reject(new Error('not implemented'));
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}
