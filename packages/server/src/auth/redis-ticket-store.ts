// PLACEHOLDER: replaced by the Redis ticket store implementation.
import type { Principal } from './authenticator.js';
import type { TicketStore } from './ticket-store.js';
import type { RedisContext } from '../engine/redis-engine.js';

/** One-time tickets in Redis (`SET PX NX` + `GETDEL`): minted on one node, redeemed on any. */
export class RedisTicketStore implements TicketStore {
  constructor(readonly context: RedisContext) {}
  add(key: string, principal: Principal, ttlMs: number): Promise<boolean> {
    void key;
    void principal;
    void ttlMs;
    return Promise.reject(new Error('not implemented'));
  }
  take(key: string): Promise<Principal | null> {
    void key;
    return Promise.reject(new Error('not implemented'));
  }
}
