import type { Clock, TimerHandle } from '../util/clock.js';

/** What the watch needs from a connection. */
export interface Watched {
  authDeadline: number;
  expiresAt: number;
}

/**
 * Deadlines of connections: first-message authentication that must arrive in time, and credentials that
 * expire. Entries sit in one-second buckets swept by a single timer, so a tick costs what has expired, not
 * one check per connection, and no connection owns a timer.
 */
export class AuthClock<C extends Watched> {
  private readonly buckets = new Map<number, Set<C>>();
  private timer: TimerHandle | null = null;

  constructor(
    private readonly clock: Clock,
    private readonly graceMs: number,
    private readonly onDeadline: (connection: C, kind: 'auth' | 'expired') => void,
  ) {}

  start(): void {
    this.timer ??= this.clock.setInterval(() => this.sweep(), 250);
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = null;
    this.buckets.clear();
  }

  /** Watch `connection` until its auth deadline or its expiry (plus the grace), whichever is set. */
  watch(connection: C): void {
    const due = this.due(connection);
    if (due === 0) return;
    const key = Math.floor(due / 1000);
    let bucket = this.buckets.get(key);
    if (bucket === undefined) this.buckets.set(key, (bucket = new Set()));
    bucket.add(connection);
  }

  /** Stop watching (before changing its deadlines, or when it closes). */
  unwatch(connection: C): void {
    const due = this.due(connection);
    if (due === 0) return;
    const key = Math.floor(due / 1000);
    const bucket = this.buckets.get(key);
    bucket?.delete(connection);
    if (bucket?.size === 0) this.buckets.delete(key);
  }

  private due(connection: C): number {
    if (connection.authDeadline !== 0) return connection.authDeadline;
    return connection.expiresAt === 0 ? 0 : connection.expiresAt + this.graceMs;
  }

  private sweep(): void {
    const now = this.clock.now();
    const current = Math.floor(now / 1000);
    for (const [key, bucket] of this.buckets) {
      if (key > current) continue;
      for (const connection of [...bucket]) {
        const due = this.due(connection);
        if (due === 0 || due > now) continue;
        bucket.delete(connection);
        this.onDeadline(connection, connection.authDeadline !== 0 ? 'auth' : 'expired');
      }
      if (bucket.size === 0) this.buckets.delete(key);
    }
  }
}
