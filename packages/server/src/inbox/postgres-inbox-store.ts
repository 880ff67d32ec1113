/**
 * The InboxStore on PostgreSQL: durable across restarts of Redis and of every node. Each operation is one
 * statement or one transaction. A deliver locks its user's row in `switchboard_inbox_users` (so a user's
 * seqs commit in seq order and the bounds hold under concurrency); `undelivered` and `expire` take their
 * rows with `FOR UPDATE SKIP LOCKED`, so concurrent nodes split the work and never both get a message.
 * The tables: postgres-migrations.ts; docs/delivery.md#postgresql-store.
 */
import { randomUUID } from 'node:crypto';
import { DEFAULT_INBOX_LIMITS } from './inbox-store.js';
import type {
  DeadLetter,
  DeadLetterReason,
  DeadLettered,
  DeliverInput,
  DeliverOutcome,
  InboxLimits,
  InboxMessage,
  InboxStore,
  PendingMessage,
} from './inbox-store.js';
import { PostgresDeadLetters } from './postgres-dead-letters.js';
import type { NewDeadLetter } from './postgres-dead-letters.js';
import { int, rollback } from './postgres-pool.js';
import type { PostgresDb, Queryable } from './postgres-pool.js';

interface MessageRow {
  readonly pk: string;
  readonly id: string;
  readonly user_id: string;
  readonly seq: string;
  readonly json: string;
  readonly time: string;
  readonly expires_at: string;
  readonly max_attempts: number;
}

const MESSAGE_COLUMNS = 'pk, id, user_id, seq, json, time, expires_at, max_attempts';

function toMessage(row: MessageRow): InboxMessage {
  return {
    id: row.id,
    userId: row.user_id,
    seq: int(row.seq),
    json: row.json,
    time: int(row.time),
    expiresAt: int(row.expires_at),
    maxAttempts: row.max_attempts,
  };
}

/** A message leaving the inbox, with the most attempts any device spent on it. */
interface LeavingRow extends MessageRow {
  readonly attempts: number;
  readonly acked: boolean;
}

/** Options of {@link PostgresInboxStore}. */
export interface PostgresInboxStoreOptions {
  readonly db: PostgresDb;
  /** The schema as a quoted identifier (postgres-pool.ts `schemaIdentifier`), already migrated. */
  readonly schema: string;
  /** Default {@link DEFAULT_INBOX_LIMITS}. */
  readonly limits?: Partial<InboxLimits>;
  /** Whether close() ends the pool (false when the factory shares it). Default false. */
  readonly ownsDb?: boolean;
}

/** Users' inboxes in PostgreSQL. */
export class PostgresInboxStore implements InboxStore {
  private readonly db: PostgresDb;
  private readonly limits: InboxLimits;
  private readonly dead: PostgresDeadLetters;
  private readonly ownsDb: boolean;
  private readonly users: string;
  private readonly messages: string;
  private readonly deliveries: string;
  private readonly devices: string;
  private readonly keys: string;

  constructor(options: PostgresInboxStoreOptions) {
    const s = options.schema;
    this.db = options.db;
    this.limits = { ...DEFAULT_INBOX_LIMITS, ...options.limits };
    this.dead = new PostgresDeadLetters(s, 'inbox', this.limits.maxDeadLetters);
    this.ownsDb = options.ownsDb ?? false;
    this.users = `${s}.switchboard_inbox_users`;
    this.messages = `${s}.switchboard_inbox_messages`;
    this.deliveries = `${s}.switchboard_inbox_deliveries`;
    this.devices = `${s}.switchboard_inbox_devices`;
    this.keys = `${s}.switchboard_idempotency`;
  }

  deliver(input: DeliverInput): Promise<DeliverOutcome> {
    return this.db.transaction(async (tx) => {
      await this.lockUser(tx, input.userId);
      if (input.idempotencyKey !== undefined) {
        const earlier = await this.remembered(tx, input, input.idempotencyKey);
        if (earlier !== undefined)
          return { ok: true, message: earlier, duplicate: true, evicted: [], dropped: 0 };
      }
      const outcome = await this.append(
        tx,
        input.userId,
        input.json,
        input.now,
        input.ttlMs,
        input.maxAttempts,
      );
      if (!outcome.ok) return rollback(outcome);
      if (input.idempotencyKey !== undefined) {
        const m = outcome.message;
        await tx.query(
          `INSERT INTO ${this.keys} (kind, owner, key, id, seq, time, message_expires_at, max_attempts, expires_at)
           VALUES ('inbox', $1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (kind, owner, key) DO UPDATE SET id = excluded.id, seq = excluded.seq, time = excluded.time,
             message_expires_at = excluded.message_expires_at, max_attempts = excluded.max_attempts,
             expires_at = excluded.expires_at`,
          [
            m.userId,
            input.idempotencyKey,
            m.id,
            m.seq,
            m.time,
            m.expiresAt,
            m.maxAttempts,
            input.now + this.limits.idempotencyWindowMs,
          ],
        );
      }
      return outcome;
    });
  }

  touchDevice(userId: string, device: string, now: number): Promise<void> {
    return this.touchDeviceIn(this.db, userId, device, now);
  }

  private async touchDeviceIn(db: Queryable, userId: string, device: string, now: number): Promise<void> {
    await db.query(
      `INSERT INTO ${this.devices} (user_id, device, last_seen) VALUES ($1, $2, $3)
       ON CONFLICT (user_id, device) DO UPDATE SET last_seen = GREATEST(${this.devices}.last_seen, excluded.last_seen)`,
      [userId, device, now],
    );
  }

  async pending(
    userId: string,
    device: string,
    afterSeq: number,
    limit: number,
    now: number,
  ): Promise<readonly PendingMessage[]> {
    const { rows } = await this.db.query<MessageRow & { attempts: number | null }>(
      `SELECT m.pk, m.id, m.user_id, m.seq, m.json, m.time, m.expires_at, m.max_attempts, d.attempts
       FROM ${this.messages} m
       LEFT JOIN ${this.deliveries} d ON d.message_pk = m.pk AND d.device = $2
       WHERE m.user_id = $1 AND m.seq > $3 AND m.expires_at > $4 AND d.acked_at IS NULL
       ORDER BY m.seq LIMIT $5`,
      [userId, device, afterSeq, now, Math.max(0, limit)],
    );
    return rows.map((row) => ({ ...toMessage(row), attempts: row.attempts ?? 0 }));
  }

  async take(
    userId: string,
    device: string,
    afterSeq: number,
    limit: number,
    now: number,
  ): Promise<readonly PendingMessage[]> {
    // One statement: the pending messages, and an attempt counted on each whose attempts are not spent.
    const sql = `WITH p AS (
         SELECT m.pk, m.id, m.user_id, m.seq, m.json, m.time, m.expires_at, m.max_attempts,
                COALESCE(d.attempts, 0) AS before
         FROM ${this.messages} m
         LEFT JOIN ${this.deliveries} d ON d.message_pk = m.pk AND d.device = $2
         WHERE m.user_id = $1 AND m.seq > $3 AND m.expires_at > $4 AND d.acked_at IS NULL
         ORDER BY m.seq LIMIT $5),
       up AS (
         INSERT INTO ${this.deliveries} (message_pk, device, attempts)
         SELECT pk, $2, 1 FROM p WHERE before < max_attempts
         ON CONFLICT (message_pk, device) DO UPDATE SET attempts = ${this.deliveries}.attempts + 1
         RETURNING message_pk, attempts)
       SELECT p.*, COALESCE(up.attempts, p.before + 1) AS attempts
       FROM p LEFT JOIN up ON up.message_pk = p.pk ORDER BY p.seq`;
    for (let tries = 1; ; tries++) {
      try {
        const { rows } = await this.db.query<MessageRow & { attempts: number }>(sql, [
          userId,
          device,
          afterSeq,
          now,
          Math.max(0, limit),
        ]);
        return rows.map((row) => ({ ...toMessage(row), attempts: Number(row.attempts) }));
      } catch (error) {
        // A message left between the SELECT and the foreign key check: read again without it.
        if ((error as { code?: unknown }).code !== '23503' || tries >= 3) throw error;
      }
    }
  }

  async attempt(userId: string, device: string, id: string): Promise<number> {
    try {
      const { rows } = await this.db.query<{ attempts: number }>(
        `INSERT INTO ${this.deliveries} (message_pk, device, attempts)
         SELECT pk, $2, 1 FROM ${this.messages} WHERE user_id = $1 AND id = $3
         ON CONFLICT (message_pk, device) DO UPDATE SET attempts = ${this.deliveries}.attempts + 1
         RETURNING attempts`,
        [userId, device, id],
      );
      return rows[0]?.attempts ?? 0;
    } catch (error) {
      // The message left between the SELECT and the foreign key check: no longer in the inbox.
      if ((error as { code?: unknown }).code === '23503') return 0;
      throw error;
    }
  }

  ack(userId: string, device: string, id: string, now: number): Promise<'acked' | 'unknown'> {
    return this.db.transaction(async (tx) => {
      // Lock the message: concurrent acks of several devices take turns, so the last one sees the others.
      const { rows } = await tx.query<{ pk: string }>(
        `SELECT pk FROM ${this.messages} WHERE user_id = $1 AND id = $2 AND expires_at > $3 FOR UPDATE`,
        [userId, id, now],
      );
      const pk = rows[0]?.pk;
      if (pk === undefined) return 'unknown';
      // One statement, run after the lock so that it sees every ack committed before: a device that acks
      // is in use (touched); the message leaves once no other device seen within deviceTtlMs lacks an
      // ack, else this device's ack is recorded. (The CTEs share one snapshot: the check never needs to
      // see this statement's own writes.)
      await tx.query(
        `WITH waiting AS (
           SELECT EXISTS (
             SELECT 1 FROM ${this.devices} v
             WHERE v.user_id = $2 AND v.last_seen > $5 AND v.device <> $3 AND NOT EXISTS (
               SELECT 1 FROM ${this.deliveries} d
               WHERE d.message_pk = $1 AND d.device = v.device AND d.acked_at IS NOT NULL)) AS others),
         touched AS (
           INSERT INTO ${this.devices} (user_id, device, last_seen) VALUES ($2, $3, $4)
           ON CONFLICT (user_id, device) DO UPDATE
             SET last_seen = GREATEST(${this.devices}.last_seen, excluded.last_seen)),
         recorded AS (
           INSERT INTO ${this.deliveries} (message_pk, device, attempts, acked_at)
           SELECT $1, $3, 0, $4 FROM waiting WHERE waiting.others
           ON CONFLICT (message_pk, device) DO UPDATE
             SET acked_at = COALESCE(${this.deliveries}.acked_at, excluded.acked_at)),
         flagged AS (
           UPDATE ${this.messages} m SET acked = true FROM waiting WHERE m.pk = $1 AND waiting.others)
         DELETE FROM ${this.messages} m USING waiting WHERE m.pk = $1 AND NOT waiting.others`,
        [pk, userId, device, now, now - this.limits.deviceTtlMs],
      );
      return 'acked';
    });
  }

  deadLetter(
    userId: string,
    id: string,
    reason: DeadLetterReason,
    now: number,
    device?: string,
  ): Promise<DeadLettered> {
    return this.db.transaction(async (tx) => {
      const { rows } = await tx.query<LeavingRow>(
        `WITH target AS (
           SELECT m.pk,
             COALESCE((SELECT ${device === undefined ? 'max(d.attempts)' : 'd.attempts'} FROM ${this.deliveries} d
                       WHERE d.message_pk = m.pk${device === undefined ? '' : ' AND d.device = $3'}), 0) AS attempts
           FROM ${this.messages} m WHERE m.user_id = $1 AND m.id = $2 FOR UPDATE OF m)
         DELETE FROM ${this.messages} m USING target WHERE m.pk = target.pk
         RETURNING ${prefixed('m')}, target.attempts, m.acked`,
        device === undefined ? [userId, id] : [userId, id, device],
      );
      return this.dead.add(
        tx,
        rows.map((row) => letterOf(row, reason, device)),
        now,
      );
    });
  }

  expire(now: number, limit: number): Promise<DeadLettered> {
    return this.db.transaction(async (tx) => {
      const { rows } = await tx.query<LeavingRow>(
        `WITH due AS (
           SELECT m.pk,
             COALESCE((SELECT max(d.attempts) FROM ${this.deliveries} d WHERE d.message_pk = m.pk), 0) AS attempts
           FROM ${this.messages} m WHERE m.expires_at <= $1
           ORDER BY m.expires_at LIMIT $2 FOR UPDATE OF m SKIP LOCKED)
         DELETE FROM ${this.messages} m USING due WHERE m.pk = due.pk
         RETURNING ${prefixed('m')}, due.attempts, m.acked`,
        [now, Math.max(0, limit)],
      );
      rows.sort((a, b) => int(a.pk) - int(b.pk));
      const letters = rows.filter((row) => !row.acked).map((row) => letterOf(row, 'expired'));
      const added = await this.dead.add(tx, letters, now);
      // The sweep covers every user: each letter says whose it was (for onDeadLetter).
      const owners = new Map(letters.map((l) => [l.id, l.owner]));
      const result = {
        letters: added.letters.map((l) => {
          const userId = owners.get(l.id);
          return userId === undefined ? l : { ...l, userId };
        }),
        dropped: added.dropped,
      };
      // Housekeeping, bounded like the rest: idempotency keys past their window, devices long forgotten.
      await tx.query(
        `DELETE FROM ${this.keys} WHERE ctid = ANY(ARRAY(
           SELECT ctid FROM ${this.keys} WHERE kind = 'inbox' AND expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED))`,
        [now, Math.max(0, limit)],
      );
      await tx.query(
        `DELETE FROM ${this.devices} WHERE ctid = ANY(ARRAY(
           SELECT ctid FROM ${this.devices} WHERE last_seen <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED))`,
        [now - this.limits.deviceTtlMs, Math.max(0, limit)],
      );
      return result;
    });
  }

  async undelivered(before: number, limit: number): Promise<readonly InboxMessage[]> {
    const { rows } = await this.db.query<MessageRow>(
      `UPDATE ${this.messages} m SET reported = true WHERE m.pk IN (
         SELECT pk FROM ${this.messages}
         WHERE NOT reported AND NOT acked AND time <= $1
         ORDER BY time, pk LIMIT $2 FOR UPDATE SKIP LOCKED)
       RETURNING ${prefixed('m')}`,
      [before, Math.max(0, limit)],
    );
    rows.sort((a, b) => int(a.time) - int(b.time) || int(a.pk) - int(b.pk));
    return rows.map(toMessage);
  }

  deadLetters(userId: string, limit: number): Promise<readonly DeadLetter[]> {
    return this.dead.list(this.db, userId, limit);
  }

  redeliver(userId: string, id: string, now: number, ttlMs: number): Promise<DeliverOutcome | undefined> {
    return this.db.transaction(async (tx) => {
      await this.lockUser(tx, userId);
      const letter = await this.dead.take(tx, userId, id);
      if (letter === undefined) return undefined;
      // A redelivery never evicts: a full inbox refuses it and the dead letter stays (the rollback).
      const outcome = await this.append(tx, userId, letter.json, now, ttlMs, letter.max_attempts, 'reject');
      return outcome.ok ? outcome : rollback(outcome);
    });
  }

  async deleteDeadLetter(userId: string, id: string): Promise<boolean> {
    return (await this.dead.take(this.db, userId, id)) !== undefined;
  }

  async close(): Promise<void> {
    if (this.ownsDb) await this.db.end();
  }

  /** Lock the user's row (creating it), for the rest of the transaction. */
  private async lockUser(tx: Queryable, userId: string): Promise<void> {
    await tx.query(
      `INSERT INTO ${this.users} (user_id) VALUES ($1)
       ON CONFLICT (user_id) DO UPDATE SET last_seq = ${this.users}.last_seq RETURNING last_seq`,
      [userId],
    );
  }

  /** The message an idempotency key still within its window names, or undefined. */
  private async remembered(
    tx: Queryable,
    input: DeliverInput,
    key: string,
  ): Promise<InboxMessage | undefined> {
    const { rows } = await tx.query<{
      id: string;
      seq: string;
      time: string;
      message_expires_at: string;
      max_attempts: number;
      json: string | null;
    }>(
      `SELECT k.id, k.seq, k.time, k.message_expires_at, k.max_attempts, m.json
       FROM ${this.keys} k LEFT JOIN ${this.messages} m ON m.id = k.id
       WHERE k.kind = 'inbox' AND k.owner = $1 AND k.key = $2 AND k.expires_at > $3`,
      [input.userId, key, input.now],
    );
    const row = rows[0];
    if (row === undefined) return undefined;
    return {
      id: row.id,
      userId: input.userId,
      seq: int(row.seq),
      // The message may have left the inbox since; a retried deliver carries the same payload.
      json: row.json ?? input.json,
      time: int(row.time),
      expiresAt: int(row.message_expires_at),
      maxAttempts: row.max_attempts,
    };
  }

  /**
   * Append a message to the user's inbox (whose row `tx` holds locked), making room first when the
   * policy allows; `{ ok: false }` when it does not fit, without changing anything.
   */
  private async append(
    tx: Queryable,
    userId: string,
    json: string,
    now: number,
    ttlMs: number,
    maxAttempts: number,
    whenFull: InboxLimits['whenFull'] = this.limits.whenFull,
  ): Promise<DeliverOutcome> {
    const bytes = Buffer.byteLength(json);
    const { maxMessages, maxBytes } = this.limits;
    if (bytes > maxBytes || maxMessages < 1) return { ok: false, reason: 'full' };
    const usage = await tx.query<{ count: string; bytes: string }>(
      `SELECT count(*) AS count, COALESCE(sum(bytes), 0) AS bytes FROM ${this.messages} WHERE user_id = $1`,
      [userId],
    );
    const count = int(usage.rows[0]?.count ?? 0);
    const used = int(usage.rows[0]?.bytes ?? 0);
    let evicted: DeadLetter[] = [];
    let dropped = 0;
    if (count + 1 > maxMessages || used + bytes > maxBytes) {
      if (whenFull === 'reject') return { ok: false, reason: 'full' };
      // Keep the newest messages that fit beside the new one; the older ones become dead letters.
      const { rows } = await tx.query<LeavingRow>(
        `WITH ranked AS (
           SELECT pk, row_number() OVER (ORDER BY seq DESC) AS rank, sum(bytes) OVER (ORDER BY seq DESC) AS total
           FROM ${this.messages} WHERE user_id = $1),
         out AS (
           SELECT r.pk,
             COALESCE((SELECT max(d.attempts) FROM ${this.deliveries} d WHERE d.message_pk = r.pk), 0) AS attempts
           FROM ranked r WHERE r.rank > $2 OR r.total > $3)
         DELETE FROM ${this.messages} m USING out WHERE m.pk = out.pk
         RETURNING ${prefixed('m')}, out.attempts, m.acked`,
        [userId, maxMessages - 1, maxBytes - bytes],
      );
      rows.sort((a, b) => int(a.seq) - int(b.seq));
      const written = await this.dead.add(
        tx,
        rows.map((row) => letterOf(row, 'evicted')),
        now,
      );
      evicted = written.letters;
      dropped = written.dropped;
    }
    const { rows } = await tx.query<MessageRow>(
      `WITH next AS (UPDATE ${this.users} SET last_seq = last_seq + 1 WHERE user_id = $1 RETURNING last_seq)
       INSERT INTO ${this.messages} (id, user_id, seq, json, bytes, time, expires_at, max_attempts)
       SELECT $2, $1, next.last_seq, $3, $4, $5, $6, $7 FROM next
       RETURNING ${MESSAGE_COLUMNS}`,
      [userId, randomUUID(), json, bytes, now, now + ttlMs, maxAttempts],
    );
    const row = rows[0];
    if (row === undefined) throw new Error(`inbox of ${userId} has no user row (not locked?)`);
    return { ok: true, message: toMessage(row), duplicate: false, evicted, dropped };
  }
}

/** MESSAGE_COLUMNS qualified by `alias`, for RETURNING beside other tables' columns. */
function prefixed(alias: string): string {
  return MESSAGE_COLUMNS.split(', ')
    .map((column) => `${alias}.${column}`)
    .join(', ');
}

function letterOf(row: LeavingRow, reason: DeadLetterReason, device?: string): NewDeadLetter {
  return {
    owner: row.user_id,
    id: row.id,
    json: row.json,
    time: int(row.time),
    reason,
    attempts: row.attempts,
    device,
    maxAttempts: row.max_attempts,
  };
}
