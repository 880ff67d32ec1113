/**
 * The stores guaranteed delivery runs on, chosen from the options: `inbox.store` / `queues.store` when
 * set, else the engine's (Redis with the Redis engine), else memory. PostgreSQL stores are opened and
 * migrated by `start()`: until then (and if that fails, never) they stand behind a proxy that waits for
 * them, so the hub can be built with them at construction.
 */
import type { Engine } from './engine/engine.js';
import { InvalidOptionError } from './errors.js';
import type { GuaranteedConfig } from './hub/guaranteed-config.js';
import type { InboxStore } from './inbox/inbox-store.js';
import { MemoryInboxStore } from './inbox/memory-inbox-store.js';
import { MemoryQueueStore } from './inbox/memory-queue-store.js';
import type { QueueStore } from './inbox/queue-store.js';
import type { PostgresStores } from './inbox/postgres-stores.js';

/** The `postgres` option: the database of the PostgreSQL inbox and queue stores (docs/delivery.md). */
export interface PostgresOptions {
  /** A connection string, `postgres://user:password@host:5432/database`. */
  readonly url: string;
  /** The schema holding the tables, created when missing. Default `public`. */
  readonly schema?: string;
  /** Most connections this node opens (shared by both stores). Default 10. */
  readonly max?: number;
  /** How long a query waits for a connection before failing `unavailable` (ms). Default 5000. */
  readonly connectTimeoutMs?: number;
}

/** The stores guaranteed delivery runs on, and what `start()` must wait for. */
export interface DeliveryStores {
  readonly inbox?: InboxStore;
  readonly queues?: QueueStore;
  /** Opens and migrates the PostgreSQL stores (once); resolves at once without them. */
  ready(): Promise<void>;
}

/** Pick the stores; throws InvalidOptionError for a store the deployment cannot have. */
export function resolveDeliveryStores(
  engine: Engine,
  config: GuaranteedConfig,
  postgres: PostgresOptions | undefined,
): DeliveryStores {
  if (
    postgres !== undefined &&
    (typeof postgres.url !== 'string' || !/^postgres(ql)?:\/\//.test(postgres.url))
  )
    throw new InvalidOptionError('postgres.url', '<redacted>', 'a postgres:// or postgresql:// URL');
  let opened: Promise<PostgresStores> | null = null;
  const openPostgres = (): Promise<PostgresStores> =>
    (opened ??= import('./inbox/postgres-stores.js').then(({ createPostgresStores }) =>
      createPostgresStores({
        ...(postgres as PostgresOptions),
        inboxLimits: config.inbox.limits,
        queueLimits: config.queues.limits,
      }),
    ));
  const pick = <S extends object>(
    name: string,
    kind: GuaranteedConfig['inbox']['store'],
    fromEngine: S | undefined,
    inMemory: () => S,
    fromPostgres: (stores: PostgresStores) => S,
  ): S | undefined => {
    if (kind === 'redis') {
      if (fromEngine === undefined)
        throw new InvalidOptionError(`${name}.store`, kind, "'redis' only with the Redis engine");
      return fromEngine;
    }
    if (kind === 'postgres') {
      if (postgres === undefined)
        throw new InvalidOptionError('postgres', postgres, `{ url } with ${name}.store 'postgres'`);
      return deferred<S>(
        () => openPostgres().then(fromPostgres),
        () =>
          // Both stores share one pool: closing either's proxy ends it (idempotent); a failed open has none.
          openPostgres().then(
            (stores) => stores.close(),
            () => {},
          ),
      );
    }
    if (kind === 'memory') return inMemory();
    return fromEngine ?? inMemory();
  };
  const inbox = pick(
    'inbox',
    config.inbox.store,
    engine.inbox,
    () => new MemoryInboxStore({ limits: config.inbox.limits }),
    (stores) => stores.inbox,
  );
  const queues = pick(
    'queues',
    config.queues.store,
    engine.queues,
    () => new MemoryQueueStore({ limits: config.queues.limits }),
    (stores) => stores.queues,
  );
  const usesPostgres = config.inbox.store === 'postgres' || config.queues.store === 'postgres';
  return {
    ...(inbox === undefined ? {} : { inbox }),
    ...(queues === undefined ? {} : { queues }),
    ready: () => (usesPostgres ? openPostgres().then(() => {}) : Promise.resolve()),
  };
}

/**
 * A store that waits for `open()` (cached by the caller): every method (each returns a promise, as every
 * seam's does) runs on the store once it is there; `close` runs `close` instead.
 */
function deferred<S extends object>(open: () => Promise<S>, close: () => Promise<void>): S {
  return new Proxy({} as S, {
    get: (_empty, property) => {
      if (property === 'close') return close;
      if (property === 'then') return undefined; // not a thenable
      return (...args: unknown[]) =>
        open().then((store) => {
          const method = (store as Record<PropertyKey, unknown>)[property];
          if (typeof method !== 'function') throw new TypeError(`no method ${String(property)}`);
          return (method as (...a: unknown[]) => unknown).apply(store, args);
        });
    },
  });
}
