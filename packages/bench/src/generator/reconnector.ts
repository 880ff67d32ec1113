/**
 * Reconnection after unexpected closes, for the storm scenario: each lost connection waits a full-jitter
 * backoff (random in [0, min(max, min * 2^attempt)]), reconnects, resubscribes, and counts as back once
 * its subscription is acknowledged.
 */
import type { Client, ClientPool } from './client-pool.js';
import type { ReconnectParams, ReconnectStatus } from './plan.js';
import { roomOf } from './plan.js';

/** Reconnects a pool's lost connections and tracks how fast they come back. */
export class Reconnector {
  private params: ReconnectParams = { enabled: false, minDelayMs: 0, maxDelayMs: 0, rooms: null };
  private reconnects = 0;
  private firstCloseAt = 0;
  private lastBackAt = 0;
  private readonly backPer100Ms: number[] = [];
  private readonly attempts = new Map<Client, number>();

  constructor(private readonly pool: ClientPool) {}

  /** Start (or stop) reconnecting the pool's connections as they are lost. */
  configure(params: ReconnectParams): void {
    this.params = params;
    for (const client of this.pool.clients) client.onLost = params.enabled ? (c) => this.lost(c) : null;
  }

  private lost(client: Client): void {
    if (!this.params.enabled) return;
    if (this.firstCloseAt === 0) this.firstCloseAt = Date.now();
    const attempt = this.attempts.get(client) ?? 0;
    this.attempts.set(client, attempt + 1);
    const cap = Math.min(this.params.maxDelayMs, this.params.minDelayMs * 2 ** attempt);
    setTimeout(() => this.retry(client), Math.random() * cap);
  }

  private retry(client: Client): void {
    this.reconnects++;
    client.onSettled = (ok) => {
      if (!ok) {
        this.lost(client);
        return;
      }
      const rooms = this.params.rooms;
      if (rooms === null) this.back(client);
      else {
        client.onAcked = () => {
          client.onAcked = null;
          this.back(client);
        };
        this.pool.subscribeOne(client, roomOf(rooms, client.index));
      }
    };
    void this.pool.open(client, 10_000).catch(() => this.lost(client));
  }

  private back(client: Client): void {
    this.attempts.delete(client);
    this.lastBackAt = Date.now();
    const slot = Math.floor((this.lastBackAt - this.firstCloseAt) / 100);
    while (this.backPer100Ms.length <= slot) this.backPer100Ms.push(0);
    this.backPer100Ms[slot] = (this.backPer100Ms[slot] ?? 0) + 1;
  }

  /** Progress so far. */
  status(): ReconnectStatus {
    return {
      ready: this.pool.openCount() - this.attempts.size,
      held: this.pool.clients.length,
      reconnects: this.reconnects,
      backPer100Ms: [...this.backPer100Ms],
      firstCloseAt: this.firstCloseAt,
      lastBackAt: this.lastBackAt,
    };
  }
}
