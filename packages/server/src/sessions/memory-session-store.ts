import type { Clock } from '../util/clock.js';
import { systemClock } from '../util/clock.js';
import type { SessionSnapshot, SessionStore } from './session-store.js';

/**
 * Shared sessions in this process's memory: for several servers embedded in one process (and for tests).
 * Expired sessions are dropped when met; the number kept is bounded (the oldest goes first).
 */
export class MemorySessionStore implements SessionStore {
  private readonly sessions = new Map<string, { snapshot: string; expiresAt: number }>();

  constructor(
    private readonly clock: Clock = systemClock,
    private readonly maxSessions = 100_000,
  ) {}

  save(id: string, snapshot: SessionSnapshot, ttlMs: number): Promise<void> {
    const now = this.clock.now();
    for (const [key, entry] of this.sessions) {
      if (entry.expiresAt > now && this.sessions.size < this.maxSessions) break;
      this.sessions.delete(key);
    }
    this.sessions.delete(id);
    // Through JSON, as a shared store would: what does not survive it is not resumed elsewhere either.
    this.sessions.set(id, { snapshot: JSON.stringify(snapshot), expiresAt: now + ttlMs });
    return Promise.resolve();
  }

  take(id: string): Promise<SessionSnapshot | null> {
    const entry = this.sessions.get(id);
    this.sessions.delete(id);
    if (entry === undefined || entry.expiresAt <= this.clock.now()) return Promise.resolve(null);
    return Promise.resolve(JSON.parse(entry.snapshot) as SessionSnapshot);
  }
}
