import type { Principal } from './authenticator.js';
import type { TicketStore } from './ticket-store.js';
import type { RedisContext } from '../redis/redis-context.js';
import { toBackendError } from '../redis/redis-connection.js';

/**
 * One-time tickets in Redis, so a ticket minted on one node opens a connection on any: `SET key JSON PX
 * ttl NX` to add, `GETDEL` to take (atomic, Redis 6.2 or newer). Redis expires them by itself.
 *
 * `add` resolves false when Redis refuses the write for memory (`OOM`: `maxmemory` reached under the
 * `noeviction` policy), which is this store being full; Redis has no count cap of its own. It also
 * resolves false if the key is already taken: keys are digests of random tickets, so that never happens
 * by chance, and keeping the first principal means a ticket can never redeem someone else's.
 * Redis being unreachable rejects with BackendUnavailableError.
 */
export class RedisTicketStore implements TicketStore {
  constructor(readonly context: RedisContext) {}

  async add(key: string, principal: Principal, ttlMs: number): Promise<boolean> {
    const { client, keys } = this.context;
    try {
      const reply = await client.set(
        keys.ticket(key),
        JSON.stringify(principal),
        'PX',
        Math.max(1, Math.ceil(ttlMs)),
        'NX',
      );
      return reply === 'OK';
    } catch (error) {
      if (error instanceof Error && error.name === 'ReplyError' && error.message.startsWith('OOM'))
        return false;
      throw toBackendError(error, 'ticket add');
    }
  }

  async take(key: string): Promise<Principal | null> {
    let json: string | null;
    try {
      json = await this.context.client.getdel(this.context.keys.ticket(key));
    } catch (error) {
      throw toBackendError(error, 'ticket take');
    }
    return json === null ? null : (JSON.parse(json) as Principal);
  }
}
