/**
 * The ticket seam: where one-time connection tickets wait between `POST <base>/auth/ticket` and the
 * upgrade that redeems them. The memory store serves one node; a store shared by every node (Redis
 * `SET PX` + `GETDEL`) lets a ticket minted on one node open a connection on another.
 */
import type { Principal } from './authenticator.js';

/** Keeps verified principals under ticket keys until they are taken once or expire. */
export interface TicketStore {
  /**
   * Keep `principal` under `key` for `ttlMs`. `key` is a digest of the ticket, never the ticket itself,
   * so whoever can read the store cannot redeem what it holds. The principal must survive JSON (a shared
   * store serializes it). Resolves false when the store is full (the caller answers 503).
   */
  add(key: string, principal: Principal, ttlMs: number): Promise<boolean>;
  /**
   * Remove and return the principal under `key`; null when the key is unknown, already taken or expired.
   * Atomic: of two concurrent takes of one key at most one gets the principal.
   */
  take(key: string): Promise<Principal | null>;
}
