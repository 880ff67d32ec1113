/**
 * One call from options to the PostgreSQL inbox and queue stores: open a pool, migrate the schema (under
 * the advisory lock, see postgres-migrations.ts), build both stores on the shared pool.
 */
import type { InboxLimits } from './inbox-store.js';
import type { QueueLimits } from './queue-store.js';
import { migratePostgres } from './postgres-migrations.js';
import { PostgresDb, schemaIdentifier } from './postgres-pool.js';
import { PostgresInboxStore } from './postgres-inbox-store.js';
import { PostgresQueueStore } from './postgres-queue-store.js';

/** Options of {@link createPostgresStores}. */
export interface PostgresStoresOptions {
  /** `postgres://user:password@host:port/database`. */
  readonly url: string;
  /** The schema holding the tables, created when missing. Default `public`. */
  readonly schema?: string;
  /** Most connections this node opens (shared by both stores). Default 10. */
  readonly max?: number;
  /** How long a query waits for a connection before failing `unavailable` (ms). Default 5000. */
  readonly connectTimeoutMs?: number;
  /** The inbox bounds; DEFAULT_INBOX_LIMITS for the rest. */
  readonly inboxLimits?: Partial<InboxLimits>;
  /** The queue bounds; DEFAULT_QUEUE_LIMITS for the rest. */
  readonly queueLimits?: Partial<QueueLimits>;
}

/** The PostgreSQL stores, ready to use. */
export interface PostgresStores {
  readonly inbox: PostgresInboxStore;
  readonly queues: PostgresQueueStore;
  /** The migration versions this start applied (empty when the schema was current). */
  readonly migrated: readonly number[];
  /** Close the pool (both stores). Idempotent. */
  close(): Promise<void>;
}

/**
 * Connect, migrate and build the stores. Rejects with BackendUnavailableError when PostgreSQL cannot be
 * reached, StoreMigrationError when the schema cannot be brought to this version, InvalidOptionError for
 * a bad `schema` or `max`; the pool is closed again on any failure.
 */
export async function createPostgresStores(options: PostgresStoresOptions): Promise<PostgresStores> {
  const s = schemaIdentifier(options.schema ?? 'public');
  const db = new PostgresDb({
    url: options.url,
    ...(options.max === undefined ? {} : { max: options.max }),
    ...(options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: options.connectTimeoutMs }),
  });
  let migrated: readonly number[];
  try {
    migrated = (await migratePostgres((work) => db.transaction(work), s)).applied;
  } catch (error) {
    await db.end().catch(() => {});
    throw error;
  }
  return {
    inbox: new PostgresInboxStore({
      db,
      schema: s,
      ...(options.inboxLimits ? { limits: options.inboxLimits } : {}),
    }),
    queues: new PostgresQueueStore({
      db,
      schema: s,
      ...(options.queueLimits ? { limits: options.queueLimits } : {}),
    }),
    migrated,
    close: () => db.end(),
  };
}
