/**
 * The PostgreSQL plumbing the postgres-*.ts stores share: a `pg` pool from `{ url, max }`, queries and
 * transactions whose connection failures become {@link BackendUnavailableError} (`unavailable`, retry
 * later), and the schema name every statement is qualified with.
 */
import { Pool } from 'pg';
import type { PoolClient, QueryResultRow } from 'pg';
import { BackendUnavailableError, InvalidOptionError } from '../errors.js';

/** How to reach PostgreSQL. */
export interface PostgresPoolOptions {
  /** A `postgres://user:password@host:port/database` connection string (libpq's URL form). */
  readonly url: string;
  /** Most connections this node opens. Default 10. */
  readonly max?: number;
  /** How long a query waits for a connection (connect included) before failing `unavailable` (ms). Default 5000. */
  readonly connectTimeoutMs?: number;
}

/** Runs statements on a pool or on one transaction's connection. */
export interface Queryable {
  query<R extends QueryResultRow>(text: string, values?: readonly unknown[]): Promise<PgResult<R>>;
}

/** The part of a `pg` result the stores read. */
export interface PgResult<R> {
  readonly rows: R[];
  readonly rowCount: number;
}

/**
 * SQLSTATE classes and codes that mean "the server cannot serve now", not "this statement is wrong":
 * connection exceptions (08), too many connections (53300), the server shutting down or starting
 * (57P01..57P03), and a statement or lock timeout we set (57014 is also a cancel).
 */
const UNAVAILABLE_STATES = new Set(['53300', '53000', '57P01', '57P02', '57P03', '57014', '55P03']);
/** Node socket errors of a server that is down or unreachable. */
const UNAVAILABLE_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EPIPE',
  'EHOSTUNREACH',
]);
/** A deadlock or a serialization failure: the transaction may simply be run again. */
const RETRY_STATES = new Set(['40P01', '40001']);
const TRANSACTION_TRIES = 3;

function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Whether `error` says PostgreSQL is unreachable or cannot serve now (rather than a bad statement). */
export function isUnavailable(error: unknown): boolean {
  if (error instanceof BackendUnavailableError) return true;
  const code = sqlState(error);
  if (
    code !== undefined &&
    (code.startsWith('08') || UNAVAILABLE_STATES.has(code) || UNAVAILABLE_ERRNOS.has(code))
  )
    return true;
  const message = error instanceof Error ? error.message : '';
  // pg's own words for a connection that died or never came (it sets no code on these).
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|pool after calling end/i.test(
    message,
  );
}

/** `error` as the library reports it: a BackendUnavailableError for an outage, else unchanged. */
export function mapPostgresError(error: unknown, what: string): unknown {
  if (error instanceof BackendUnavailableError || !isUnavailable(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new BackendUnavailableError(`postgres unavailable: ${what} failed (${message})`, { cause: error });
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** The schema name as a quoted SQL identifier; throws InvalidOptionError for a name outside `[a-z_][a-z0-9_]*`. */
export function schemaIdentifier(schema: string): string {
  if (!SCHEMA_NAME.test(schema))
    throw new InvalidOptionError(
      'postgres.schema',
      schema,
      'a lower-case SQL identifier ([a-z_][a-z0-9_]*, at most 63)',
    );
  return `"${schema}"`;
}

/** A pool with error mapping, shared by the stores of one factory. */
export class PostgresDb implements Queryable {
  private readonly pool: Pool;
  private ended = false;

  constructor(options: PostgresPoolOptions) {
    const max = options.max ?? 10;
    if (!Number.isInteger(max) || max < 1)
      throw new InvalidOptionError('postgres.max', max, 'an integer >= 1');
    this.pool = new Pool({
      connectionString: options.url,
      max,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
      application_name: 'switchboard',
    });
    // An idle connection that dies (server restart) emits here; without a listener it would crash the
    // process. The next query opens a new connection, or fails `unavailable`.
    this.pool.on('error', () => {});
  }

  async query<R extends QueryResultRow>(text: string, values: readonly unknown[] = []): Promise<PgResult<R>> {
    if (this.ended) throw new BackendUnavailableError('postgres unavailable: the store is closed');
    try {
      const result = await this.pool.query<R>(text, values as unknown[]);
      return { rows: result.rows, rowCount: result.rowCount ?? 0 };
    } catch (error) {
      throw mapPostgresError(error, 'a query');
    }
  }

  /**
   * Run `work` in one transaction (READ COMMITTED) on one connection: committed when it resolves, rolled
   * back when it throws. A deadlock or serialization failure runs it again (at most 3 times in all).
   * `work` may also end early with {@link rollback}, whose value `transaction` resolves with.
   */
  async transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once(work);
      } catch (error) {
        if (attempt >= TRANSACTION_TRIES || !RETRY_STATES.has(sqlState(error) ?? '')) throw error;
      }
    }
  }

  private async once<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    if (this.ended) throw new BackendUnavailableError('postgres unavailable: the store is closed');
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw mapPostgresError(error, 'connect');
    }
    let broken: unknown;
    // A checked-out client that loses its server emits 'error' (the pool listens only to idle ones):
    // without a listener that would crash the process. The query in flight rejects as well.
    const onError = (error: unknown): void => {
      broken = error;
    };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const tx: Queryable = {
        query: async <R extends QueryResultRow>(text: string, values: readonly unknown[] = []) => {
          const result = await client.query<R>(text, values as unknown[]);
          return { rows: result.rows, rowCount: result.rowCount ?? 0 };
        },
      };
      let value: T;
      try {
        value = await work(tx);
      } catch (error) {
        if (error instanceof Rollback) {
          await client.query('ROLLBACK');
          return error.value as T;
        }
        throw error;
      }
      await client.query('COMMIT');
      return value;
    } catch (error) {
      await client.query('ROLLBACK').catch((rollbackError: unknown) => {
        broken = rollbackError;
      });
      if (RETRY_STATES.has(sqlState(error) ?? '')) throw error;
      throw mapPostgresError(error, 'a transaction');
    } finally {
      client.off('error', onError);
      // A connection that failed (or whose ROLLBACK did) is in an unknown state: destroy it, never reuse it.
      client.release(
        broken === undefined ? undefined : broken instanceof Error ? broken : new Error(String(broken)),
      );
    }
  }

  /** Close every connection. Idempotent. */
  async end(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    await this.pool.end();
  }
}

/** Thrown inside {@link PostgresDb.transaction}'s work to roll back and resolve with `value`. */
class Rollback {
  constructor(readonly value: unknown) {}
}

/** End the current transaction with a ROLLBACK; the transaction resolves with `value`. */
export function rollback(value: unknown): never {
  throw new Rollback(value);
}

/** An int8 column (pg returns it as a string) as a number: ms timestamps and seqs fit in 2^53. */
export function int(value: unknown): number {
  return typeof value === 'number' ? value : Number(value);
}
