/**
 * Dead letters in PostgreSQL, shared by the inbox store (kind 'inbox', owner = user id) and the queue
 * store (kind 'queue', owner = queue): one table, oldest first by insertion, bounded per owner.
 */
import type { DeadLetter, DeadLetterReason } from './inbox-store.js';
import { int } from './postgres-pool.js';
import type { Queryable } from './postgres-pool.js';

/** Whose dead letters: a user's inbox or a queue. */
export type DeadLetterKind = 'inbox' | 'queue';

/** A dead letter row as selected by {@link DEAD_LETTER_COLUMNS}. */
export interface DeadLetterRow {
  readonly owner: string;
  readonly id: string;
  readonly json: string;
  readonly time: string;
  readonly dead_at: string;
  readonly reason: string;
  readonly attempts: number;
  readonly device: string | null;
  readonly max_attempts: number;
  readonly ttl_ms: string | null;
}

/** The columns {@link toDeadLetter} reads. */
export const DEAD_LETTER_COLUMNS =
  'owner, id, json, time, dead_at, reason, attempts, device, max_attempts, ttl_ms';

/** A row as the seam's DeadLetter. */
export function toDeadLetter(row: DeadLetterRow): DeadLetter {
  return {
    id: row.id,
    json: row.json,
    time: int(row.time),
    deadAt: int(row.dead_at),
    reason: row.reason as DeadLetterReason,
    attempts: row.attempts,
    ...(row.device === null ? {} : { device: row.device }),
  };
}

/** What a new dead letter holds. */
export interface NewDeadLetter {
  readonly owner: string;
  readonly id: string;
  readonly json: string;
  readonly time: number;
  readonly reason: DeadLetterReason;
  readonly attempts: number;
  readonly device?: string | undefined;
  readonly maxAttempts: number;
  /** A job's TTL, kept for its redelivery. */
  readonly ttlMs?: number | undefined;
}

/** Dead letters of one kind in schema `s`. */
export class PostgresDeadLetters {
  private readonly table: string;

  constructor(
    s: string,
    private readonly kind: DeadLetterKind,
    private readonly maxDeadLetters: number,
  ) {
    this.table = `${s}.switchboard_dead_letters`;
  }

  /**
   * Write `letters` (dead at `now`) and drop the oldest of each owner past the bound, in `tx`. Resolves
   * with the letters written and how many were dropped. A letter whose id is already a dead letter of
   * the same owner replaces it.
   */
  async add(
    tx: Queryable,
    letters: readonly NewDeadLetter[],
    now: number,
  ): Promise<{ letters: DeadLetter[]; dropped: number }> {
    if (letters.length === 0) return { letters: [], dropped: 0 };
    const { rows } = await tx.query<DeadLetterRow>(
      `INSERT INTO ${this.table} (kind, owner, id, json, time, dead_at, reason, attempts, device, max_attempts, ttl_ms)
       SELECT $1::text, * FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::text[],
                                $8::int[], $9::text[], $10::int[], $11::bigint[])
       ON CONFLICT (kind, owner, id) DO UPDATE SET json = excluded.json, time = excluded.time,
         dead_at = excluded.dead_at, reason = excluded.reason, attempts = excluded.attempts,
         device = excluded.device, max_attempts = excluded.max_attempts, ttl_ms = excluded.ttl_ms
       RETURNING ${DEAD_LETTER_COLUMNS}`,
      [
        this.kind,
        letters.map((l) => l.owner),
        letters.map((l) => l.id),
        letters.map((l) => l.json),
        letters.map((l) => l.time),
        letters.map(() => now),
        letters.map((l) => l.reason),
        letters.map((l) => l.attempts),
        letters.map((l) => l.device ?? null),
        letters.map((l) => l.maxAttempts),
        letters.map((l) => l.ttlMs ?? null),
      ],
    );
    const owners = [...new Set(letters.map((l) => l.owner))];
    const trimmed = await tx.query(
      `DELETE FROM ${this.table} WHERE pk IN (
         SELECT pk FROM (
           SELECT pk, row_number() OVER (PARTITION BY owner ORDER BY pk DESC) AS rank
           FROM ${this.table} WHERE kind = $1 AND owner = ANY($2::text[])
         ) ranked WHERE rank > $3)`,
      [this.kind, owners, this.maxDeadLetters],
    );
    // RETURNING gives no order: keep the caller's.
    const byId = new Map(rows.map((row) => [`${row.owner}\u0000${row.id}`, toDeadLetter(row)]));
    const written = letters.flatMap((l) => byId.get(`${l.owner}\u0000${l.id}`) ?? []);
    return { letters: written, dropped: trimmed.rowCount };
  }

  /** The owner's dead letters, oldest first, at most `limit`. */
  async list(db: Queryable, owner: string, limit: number): Promise<DeadLetter[]> {
    const { rows } = await db.query<DeadLetterRow>(
      `SELECT ${DEAD_LETTER_COLUMNS} FROM ${this.table} WHERE kind = $1 AND owner = $2 ORDER BY pk LIMIT $3`,
      [this.kind, owner, Math.max(0, limit)],
    );
    return rows.map(toDeadLetter);
  }

  /** Remove dead letter `id` of `owner` and resolve with its row (undefined when there was none). */
  async take(tx: Queryable, owner: string, id: string): Promise<DeadLetterRow | undefined> {
    const { rows } = await tx.query<DeadLetterRow>(
      `DELETE FROM ${this.table} WHERE kind = $1 AND owner = $2 AND id = $3 RETURNING ${DEAD_LETTER_COLUMNS}`,
      [this.kind, owner, id],
    );
    return rows[0];
  }
}
