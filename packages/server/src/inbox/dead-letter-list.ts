/**
 * One owner's dead letters in memory (a user's or a queue's), oldest first, at most `max`: adding past
 * it drops the oldest and says how many. Each letter keeps the maxAttempts (and a job's TTL) its message had, for redeliver.
 */
import type { DeadLetter } from './inbox-store.js';

/** A dead letter with what redelivering it needs. */
export interface KeptLetter {
  readonly letter: DeadLetter;
  readonly maxAttempts: number;
  /** The job's TTL (queues), kept for redeliver. */
  readonly ttlMs?: number;
}

/** An owner's dead letters, oldest first (Map insertion order). */
export class DeadLetterList {
  private readonly letters = new Map<string, KeptLetter>();

  constructor(private readonly max: number) {}

  get size(): number {
    return this.letters.size;
  }

  /** Add a letter; resolves with how many old ones were dropped to stay within `max`. */
  add(letter: DeadLetter, maxAttempts: number, ttlMs?: number): number {
    this.letters.set(letter.id, { letter, maxAttempts, ...(ttlMs === undefined ? {} : { ttlMs }) });
    let dropped = 0;
    for (const id of this.letters.keys()) {
      if (this.letters.size <= this.max) break;
      this.letters.delete(id);
      dropped++;
    }
    return dropped;
  }

  get(id: string): KeptLetter | undefined {
    return this.letters.get(id);
  }

  delete(id: string): boolean {
    return this.letters.delete(id);
  }

  /** The oldest `limit` letters. */
  list(limit: number): DeadLetter[] {
    const out: DeadLetter[] = [];
    for (const { letter } of this.letters.values()) {
      if (out.length >= limit) break;
      out.push(letter);
    }
    return out;
  }
}
