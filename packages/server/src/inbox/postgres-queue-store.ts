/**
 * The QueueStore on PostgreSQL: the classic `FOR UPDATE SKIP LOCKED` job table. A claim locks the oldest
 * available rows no other transaction holds, stamps them with the consumer, a lock expiry, one more
 * attempt and a fresh token, all in one UPDATE; concurrent claims on any node skip each other's rows, so no
 * job is claimed twice. Jobs found past their maxAttempts or TTL become dead letters in the same
 * transaction. The tables: postgres-migrations.ts; docs/delivery.md#postgresql-store.
 */
import { randomUUID } from 'node:crypto';
import type { DeadLetter, DeadLetterReason } from './inbox-store.js';
import { DEFAULT_QUEUE_LIMITS } from './queue-store.js';
import type {
  Claimed,
  EnqueueInput,
  EnqueueOutcome,
  QueueJob,
  QueueLimits,
  QueueStore,
} from './queue-store.js';
import { PostgresDeadLetters } from './postgres-dead-letters.js';
import type { NewDeadLetter } from './postgres-dead-letters.js';
import { int, rollback } from './postgres-pool.js';
import type { PostgresDb, Queryable } from './postgres-pool.js';

interface JobRow {
  readonly pk: string;
  readonly id: string;
  readonly queue: string;
  readonly json: string;
  readonly time: string;
  readonly max_attempts: number;
  readonly expires_at: string | null;
  readonly attempt: number;
  readonly locked_until: string | null;
  readonly token: string | null;
}

const JOB_COLUMNS = 'pk, id, queue, json, time, max_attempts, expires_at, attempt, locked_until, token';

/** How many claim rounds one claim runs when the rows it locked were due for dead letters. */
const CLAIM_ROUNDS = 20;

/** Options of {@link PostgresQueueStore}. */
export interface PostgresQueueStoreOptions {
  readonly db: PostgresDb;
  /** The schema as a quoted identifier (postgres-pool.ts `schemaIdentifier`), already migrated. */
  readonly schema: string;
  /** Default {@link DEFAULT_QUEUE_LIMITS}. */
  readonly limits?: Partial<QueueLimits>;
  /** Whether close() ends the pool (false when the factory shares it). Default false. */
  readonly ownsDb?: boolean;
}

/** Work queues in PostgreSQL. */
export class PostgresQueueStore implements QueueStore {
  private readonly db: PostgresDb;
  private readonly limits: QueueLimits;
  private readonly dead: PostgresDeadLetters;
  private readonly ownsDb: boolean;
  private readonly queues: string;
  private readonly jobs: string;
  private readonly keys: string;

  constructor(options: PostgresQueueStoreOptions) {
    const s = options.schema;
    this.db = options.db;
    this.limits = { ...DEFAULT_QUEUE_LIMITS, ...options.limits };
    this.dead = new PostgresDeadLetters(s, 'queue', this.limits.maxDeadLetters);
    this.ownsDb = options.ownsDb ?? false;
    this.queues = `${s}.switchboard_queues`;
    this.jobs = `${s}.switchboard_jobs`;
    this.keys = `${s}.switchboard_idempotency`;
  }

  enqueue(input: EnqueueInput): Promise<EnqueueOutcome> {
    return this.db.transaction(async (tx) => {
      await this.lockQueue(tx, input.queue);
      const key = input.idempotencyKey;
      if (key !== undefined) {
        const { rows } = await tx.query<{ id: string }>(
          `SELECT id FROM ${this.keys} WHERE kind = 'queue' AND owner = $1 AND key = $2 AND expires_at > $3`,
          [input.queue, key, input.now],
        );
        const earlier = rows[0];
        if (earlier !== undefined) return { ok: true, id: earlier.id, duplicate: true };
        // Keys past their window: this queue's, now (there is no sweep for queues).
        await tx.query(`DELETE FROM ${this.keys} WHERE kind = 'queue' AND owner = $1 AND expires_at <= $2`, [
          input.queue,
          input.now,
        ]);
      }
      const outcome = await this.append(
        tx,
        input.queue,
        input.json,
        input.now,
        input.maxAttempts,
        input.ttlMs,
      );
      if (!outcome.ok) return rollback(outcome);
      if (key !== undefined)
        await tx.query(
          `INSERT INTO ${this.keys} (kind, owner, key, id, time, expires_at) VALUES ('queue', $1, $2, $3, $4, $5)`,
          [input.queue, key, outcome.id, input.now, input.now + this.limits.idempotencyWindowMs],
        );
      return outcome;
    });
  }

  claim(queue: string, consumer: string, count: number, lockMs: number, now: number): Promise<Claimed> {
    return this.db.transaction(async (tx) => {
      const jobs: QueueJob[] = [];
      const doomed: NewDeadLetter[] = [];
      for (let round = 0; round < CLAIM_ROUNDS && jobs.length < count; round++) {
        const want = count - jobs.length;
        // The claim: lock the oldest available rows nobody else holds (SKIP LOCKED: a concurrent claim
        // takes the next ones instead of waiting), and stamp them in the same statement.
        const { rows } = await tx.query<JobRow>(
          `UPDATE ${this.jobs} j
           SET attempt = j.attempt + 1, locked_by = $2, locked_until = $3, token = gen_random_uuid()::text
           WHERE j.pk IN (
             SELECT pk FROM ${this.jobs}
             WHERE queue = $1 AND available_at <= $4 AND (locked_until IS NULL OR locked_until <= $4)
             ORDER BY pk LIMIT $5 FOR UPDATE SKIP LOCKED)
           RETURNING ${JOB_COLUMNS}`,
          [queue, consumer, now + lockMs, now, want],
        );
        rows.sort((a, b) => int(a.pk) - int(b.pk));
        const dead = rows.filter((row) => deadReason(row, now) !== undefined);
        for (const row of rows) if (!dead.includes(row)) jobs.push(toJob(row));
        if (dead.length > 0) {
          await tx.query(`DELETE FROM ${this.jobs} WHERE pk = ANY($1::bigint[])`, [
            dead.map((row) => row.pk),
          ]);
          for (const row of dead) doomed.push(letterOf(row, deadReason(row, now) ?? 'max_attempts'));
        }
        // Fewer rows than asked for: nothing more is available. None dead: every row became a job.
        if (rows.length < want || dead.length === 0) break;
      }
      return { jobs, dead: await this.dead.add(tx, doomed, now) };
    });
  }

  async ack(queue: string, id: string, token: string): Promise<boolean> {
    const { rowCount } = await this.db.query(
      `DELETE FROM ${this.jobs} WHERE queue = $1 AND id = $2 AND token = $3`,
      [queue, id, token],
    );
    return rowCount > 0;
  }

  async nack(queue: string, id: string, token: string, delayMs: number, now: number): Promise<boolean> {
    const { rowCount } = await this.db.query(
      `UPDATE ${this.jobs} SET locked_by = NULL, locked_until = NULL, token = NULL, available_at = $4
       WHERE queue = $1 AND id = $2 AND token = $3`,
      [queue, id, token, now + Math.max(0, delayMs)],
    );
    return rowCount > 0;
  }

  async release(queue: string, consumer: string, now: number): Promise<number> {
    const { rowCount } = await this.db.query(
      `UPDATE ${this.jobs} SET locked_by = NULL, locked_until = NULL, token = NULL, available_at = $3
       WHERE queue = $1 AND locked_by = $2`,
      [queue, consumer, now],
    );
    return rowCount;
  }

  async depth(queue: string): Promise<{ readonly waiting: number; readonly claimed: number }> {
    const { rows } = await this.db.query<{ waiting: string; claimed: string }>(
      `SELECT count(*) FILTER (WHERE locked_by IS NULL) AS waiting, count(*) FILTER (WHERE locked_by IS NOT NULL) AS claimed
       FROM ${this.jobs} WHERE queue = $1`,
      [queue],
    );
    return { waiting: int(rows[0]?.waiting ?? 0), claimed: int(rows[0]?.claimed ?? 0) };
  }

  deadLetters(queue: string, limit: number): Promise<readonly DeadLetter[]> {
    return this.dead.list(this.db, queue, limit);
  }

  redeliver(queue: string, id: string, now: number): Promise<EnqueueOutcome | undefined> {
    return this.db.transaction(async (tx) => {
      await this.lockQueue(tx, queue);
      const letter = await this.dead.take(tx, queue, id);
      if (letter === undefined) return undefined;
      // A new job (new id) at the end of the queue, with the TTL it had; a full queue refuses it and the
      // dead letter stays.
      const ttlMs = letter.ttl_ms === null ? undefined : int(letter.ttl_ms);
      const outcome = await this.append(tx, queue, letter.json, now, letter.max_attempts, ttlMs);
      return outcome.ok ? outcome : rollback(outcome);
    });
  }

  async deleteDeadLetter(queue: string, id: string): Promise<boolean> {
    return (await this.dead.take(this.db, queue, id)) !== undefined;
  }

  async close(): Promise<void> {
    if (this.ownsDb) await this.db.end();
  }

  /** Lock the queue's row (creating it) for the rest of the transaction: enqueues to it take turns. */
  private async lockQueue(tx: Queryable, queue: string): Promise<void> {
    await tx.query(
      `INSERT INTO ${this.queues} (queue) VALUES ($1) ON CONFLICT (queue) DO UPDATE SET queue = excluded.queue`,
      [queue],
    );
  }

  /** Insert a job unless the queue (whose row `tx` holds locked) is at maxJobs. */
  private async append(
    tx: Queryable,
    queue: string,
    json: string,
    now: number,
    maxAttempts: number,
    ttlMs: number | undefined,
  ): Promise<EnqueueOutcome> {
    // Counting stops at the bound: an enqueue costs O(maxJobs) at worst, O(depth) usually.
    const { rows } = await tx.query<{ count: string }>(
      `SELECT count(*) AS count FROM (SELECT 1 FROM ${this.jobs} WHERE queue = $1 LIMIT $2) bounded`,
      [queue, this.limits.maxJobs],
    );
    if (int(rows[0]?.count ?? 0) >= this.limits.maxJobs) return { ok: false, reason: 'full' };
    const id = randomUUID();
    await tx.query(
      `INSERT INTO ${this.jobs} (id, queue, json, time, max_attempts, expires_at, available_at)
       VALUES ($1, $2, $3, $4, $5, $6, $4)`,
      [id, queue, json, now, maxAttempts, ttlMs === undefined ? null : now + ttlMs],
    );
    return { ok: true, id, duplicate: false };
  }
}

/** Why a just-claimed row must become a dead letter instead, or undefined when it is a job. */
function deadReason(row: JobRow, now: number): DeadLetterReason | undefined {
  if (row.expires_at !== null && int(row.expires_at) <= now) return 'expired';
  if (row.attempt > row.max_attempts) return 'max_attempts';
  return undefined;
}

function toJob(row: JobRow): QueueJob {
  return {
    id: row.id,
    queue: row.queue,
    json: row.json,
    time: int(row.time),
    attempt: row.attempt,
    maxAttempts: row.max_attempts,
    token: row.token ?? '',
    lockedUntil: int(row.locked_until),
  };
}

/** The dead letter of a row this claim stamped: its attempts are the claims made before this one. */
function letterOf(row: JobRow, reason: DeadLetterReason): NewDeadLetter {
  return {
    owner: row.queue,
    id: row.id,
    json: row.json,
    time: int(row.time),
    reason,
    attempts: row.attempt - 1,
    maxAttempts: row.max_attempts,
    ttlMs: row.expires_at === null ? undefined : int(row.expires_at) - int(row.time),
  };
}
