/**
 * The PostgreSQL store's schema, as numbered migrations applied at start-up. Every node runs
 * {@link migratePostgres}: one transaction under a transaction-scoped advisory lock (so concurrent nodes
 * take turns and the later ones find nothing to do), recording each applied version in
 * `switchboard_migrations`. A migration, once released, is never edited: a change is a new version.
 * docs/delivery.md#postgresql-store describes the tables.
 */
import { StoreMigrationError } from '../errors.js';
import { isUnavailable } from './postgres-pool.js';
import type { Queryable } from './postgres-pool.js';

/** One schema step: `sql(s)` is its DDL for the quoted schema identifier `s`. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  sql(s: string): string;
}

/** Every migration, in version order. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'inbox, queues, dead letters, idempotency keys',
    sql: (s) => `
      -- One row per user with an inbox: its next seq, and the row every deliver to that user locks, so that
      -- a user's seqs commit in order and the bounds are checked against a stable count.
      CREATE TABLE ${s}.switchboard_inbox_users (
        user_id text PRIMARY KEY,
        last_seq bigint NOT NULL DEFAULT 0
      );
      CREATE TABLE ${s}.switchboard_inbox_messages (
        pk bigserial PRIMARY KEY,
        id text NOT NULL UNIQUE,
        user_id text NOT NULL,
        seq bigint NOT NULL,
        json text NOT NULL,
        bytes integer NOT NULL,
        time bigint NOT NULL,
        expires_at bigint NOT NULL,
        max_attempts integer NOT NULL,
        -- some device acked it (at its TTL it just leaves instead of becoming a dead letter)
        acked boolean NOT NULL DEFAULT false,
        -- returned once by undelivered()
        reported boolean NOT NULL DEFAULT false,
        UNIQUE (user_id, seq)
      );
      CREATE INDEX switchboard_inbox_messages_expiry ON ${s}.switchboard_inbox_messages (expires_at);
      CREATE INDEX switchboard_inbox_messages_unreported ON ${s}.switchboard_inbox_messages (time)
        WHERE NOT reported AND NOT acked;
      -- Each device's progress on each message: attempts made and whether it acked.
      CREATE TABLE ${s}.switchboard_inbox_deliveries (
        message_pk bigint NOT NULL REFERENCES ${s}.switchboard_inbox_messages (pk) ON DELETE CASCADE,
        device text NOT NULL,
        attempts integer NOT NULL DEFAULT 0,
        acked_at bigint,
        PRIMARY KEY (message_pk, device)
      );
      CREATE TABLE ${s}.switchboard_inbox_devices (
        user_id text NOT NULL,
        device text NOT NULL,
        last_seen bigint NOT NULL,
        PRIMARY KEY (user_id, device)
      );
      -- One row per queue: what every enqueue to it locks, so the bound holds under concurrency.
      CREATE TABLE ${s}.switchboard_queues (
        queue text PRIMARY KEY
      );
      CREATE TABLE ${s}.switchboard_jobs (
        pk bigserial PRIMARY KEY,
        id text NOT NULL UNIQUE,
        queue text NOT NULL,
        json text NOT NULL,
        time bigint NOT NULL,
        max_attempts integer NOT NULL,
        expires_at bigint,
        available_at bigint NOT NULL,
        attempt integer NOT NULL DEFAULT 0,
        locked_by text,
        locked_until bigint,
        token text
      );
      CREATE INDEX switchboard_jobs_queue ON ${s}.switchboard_jobs (queue, pk);
      CREATE INDEX switchboard_jobs_holder ON ${s}.switchboard_jobs (queue, locked_by)
        WHERE locked_by IS NOT NULL;
      -- Inbox (kind 'inbox', owner = user id) and queue (kind 'queue', owner = queue) dead letters.
      CREATE TABLE ${s}.switchboard_dead_letters (
        pk bigserial PRIMARY KEY,
        kind text NOT NULL,
        owner text NOT NULL,
        id text NOT NULL,
        json text NOT NULL,
        time bigint NOT NULL,
        dead_at bigint NOT NULL,
        reason text NOT NULL,
        attempts integer NOT NULL,
        device text,
        max_attempts integer NOT NULL,
        -- a job's TTL, which a redelivered job keeps (null: none)
        ttl_ms bigint,
        UNIQUE (kind, owner, id)
      );
      CREATE INDEX switchboard_dead_letters_owner ON ${s}.switchboard_dead_letters (kind, owner, pk);
      -- Idempotency keys of delivers (kind 'inbox') and enqueues (kind 'queue'), remembered until expires_at.
      CREATE TABLE ${s}.switchboard_idempotency (
        kind text NOT NULL,
        owner text NOT NULL,
        key text NOT NULL,
        id text NOT NULL,
        seq bigint NOT NULL DEFAULT 0,
        time bigint NOT NULL,
        message_expires_at bigint NOT NULL DEFAULT 0,
        max_attempts integer NOT NULL DEFAULT 0,
        expires_at bigint NOT NULL,
        PRIMARY KEY (kind, owner, key)
      );
      CREATE INDEX switchboard_idempotency_expiry ON ${s}.switchboard_idempotency (expires_at);
    `,
  },
];

/** Versions newer than this build knows mean a newer Switchboard migrated the database. */
export const LATEST_VERSION = MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0);

/** What {@link migratePostgres} did. */
export interface MigrationReport {
  /** The versions this call applied, in order (empty when the schema was current). */
  readonly applied: readonly number[];
}

/**
 * Bring schema `s` (a quoted identifier) to {@link LATEST_VERSION} in one transaction on `tx`: take the
 * advisory lock for the schema (released at commit), create the schema and the migrations table if
 * missing, apply what is not recorded. Throws {@link StoreMigrationError} when the database holds a
 * version this build does not know.
 */
export async function migratePostgres(
  transaction: <T>(work: (tx: Queryable) => Promise<T>) => Promise<T>,
  s: string,
): Promise<MigrationReport> {
  return transaction(async (tx) => {
    // One lock per schema: concurrent nodes wait here, then find the versions recorded.
    await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [`switchboard.migrations.${s}`]);
    await tx.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await tx.query(`CREATE TABLE IF NOT EXISTS ${s}.switchboard_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const { rows } = await tx.query<{ version: number }>(`SELECT version FROM ${s}.switchboard_migrations`);
    const done = new Set(rows.map((row) => row.version));
    const unknown = [...done].filter((version) => version > LATEST_VERSION);
    if (unknown.length > 0)
      throw new StoreMigrationError(
        `the PostgreSQL schema ${s} is at version ${Math.max(...unknown)}, newer than this Switchboard knows (${LATEST_VERSION}): upgrade this node`,
      );
    const applied: number[] = [];
    for (const migration of MIGRATIONS) {
      if (done.has(migration.version)) continue;
      try {
        await tx.query(migration.sql(s));
      } catch (error) {
        if (isUnavailable(error)) throw error;
        throw new StoreMigrationError(
          `PostgreSQL migration ${migration.version} (${migration.name}) failed: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        );
      }
      await tx.query(`INSERT INTO ${s}.switchboard_migrations (version, name) VALUES ($1, $2)`, [
        migration.version,
        migration.name,
      ]);
      applied.push(migration.version);
    }
    return { applied };
  });
}
