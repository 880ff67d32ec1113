import type { RedisContext } from '../redis/redis-context.js';
import { BackendUnavailableError } from '../errors.js';
import type { SessionSnapshot, SessionStore } from './session-store.js';

/**
 * Sessions in Redis: `SET PX` on release, `GETDEL` on resume, so of two nodes racing for one session at
 * most one gets it, and an unclaimed session disappears with its grace period.
 */
export class RedisSessionStore implements SessionStore {
  constructor(private readonly context: RedisContext) {}

  async save(id: string, snapshot: SessionSnapshot, ttlMs: number): Promise<void> {
    try {
      await this.context.client.set(this.context.keys.session(id), JSON.stringify(snapshot), 'PX', ttlMs);
    } catch (error) {
      throw new BackendUnavailableError('session not saved: Redis is unavailable', { cause: error });
    }
  }

  async take(id: string): Promise<SessionSnapshot | null> {
    let json: string | null;
    try {
      json = await this.context.client.getdel(this.context.keys.session(id));
    } catch (error) {
      throw new BackendUnavailableError('session not read: Redis is unavailable', { cause: error });
    }
    return json === null ? null : (JSON.parse(json) as SessionSnapshot);
  }
}
