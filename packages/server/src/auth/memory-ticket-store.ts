import type { Principal } from './authenticator.js';
import type { TicketStore } from './ticket-store.js';
import { systemClock } from '../util/clock.js';
import type { Clock } from '../util/clock.js';
import { InvalidOptionError } from '../errors.js';

/** Options of {@link MemoryTicketStore}. */
export interface MemoryTicketStoreOptions {
  /** Default: the system clock. */
  readonly clock?: Clock;
  /**
   * Tickets outstanding at once; past it `add` resolves false. Bounds the memory an authenticated client
   * minting in a loop can take. Default 100000.
   */
  readonly maxTickets?: number;
}

interface Entry {
  readonly principal: Principal;
  readonly expiresAt: number;
}

/**
 * Tickets in this process's memory: right for a single node or sticky routing. No timers: a Map keeps
 * insertion order, so expired tickets are dropped from its head whenever one is added or taken.
 */
export class MemoryTicketStore implements TicketStore {
  private readonly entries = new Map<string, Entry>();
  private readonly clock: Clock;
  private readonly maxTickets: number;

  constructor(options: MemoryTicketStoreOptions = {}) {
    this.clock = options.clock ?? systemClock;
    const maxTickets = options.maxTickets ?? 100_000;
    if (!Number.isInteger(maxTickets) || maxTickets < 1)
      throw new InvalidOptionError('maxTickets', maxTickets, 'a positive integer');
    this.maxTickets = maxTickets;
  }

  /** Tickets held, including expired ones not yet dropped. */
  get size(): number {
    return this.entries.size;
  }

  add(key: string, principal: Principal, ttlMs: number): Promise<boolean> {
    const now = this.clock.now();
    this.dropExpired(now);
    if (this.entries.size >= this.maxTickets) return Promise.resolve(false);
    // Re-adding a key moves it to the tail, which keeps the Map ordered by insertion time.
    this.entries.delete(key);
    this.entries.set(key, { principal, expiresAt: now + ttlMs });
    return Promise.resolve(true);
  }

  take(key: string): Promise<Principal | null> {
    const now = this.clock.now();
    this.dropExpired(now);
    const entry = this.entries.get(key);
    if (entry === undefined) return Promise.resolve(null);
    this.entries.delete(key);
    return Promise.resolve(entry.expiresAt > now ? entry.principal : null);
  }

  /**
   * Drop expired entries from the head. With one TTL for every ticket (the server's case) the head is
   * always the oldest, so this is exact; with mixed TTLs a long-lived head can shelter expired entries
   * behind it, which `take` still refuses and `maxTickets` still bounds.
   */
  private dropExpired(now: number): void {
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt > now) return;
      this.entries.delete(key);
    }
  }
}
