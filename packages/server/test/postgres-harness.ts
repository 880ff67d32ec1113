/**
 * A database of its own in the machine's PostgreSQL for each suite: `switchboard_test_<random>`, created in
 * `before` and dropped (WITH (FORCE)) in `after`. The server is SWITCHBOARD_POSTGRES_URL when set, else
 * postgres://postgres@127.0.0.1:5432/postgres, else the same as user root (trust auth, as on the
 * development machines); the user must be allowed to create databases.
 *
 * Without a reachable server the suites skip loudly, and fail where `SWITCHBOARD_REQUIRE` names
 * `postgres` (see requirements.ts; .ci/run installs and starts PostgreSQL and requires it):
 *
 * @example
 * import { postgresPerSuite, postgresRequirement } from './postgres-harness.js';
 *
 * describe('postgres store', { skip: postgresRequirement.skip }, () => {
 *   const database = postgresPerSuite();
 *   it('stores', async () => {
 *     const stores = await createPostgresStores({ url: database().url });
 *   });
 * });
 */
import { randomBytes } from 'node:crypto';
import { after, before } from 'node:test';
import pg from 'pg';
import { requirement } from './requirements.js';
import type { Requirement } from './requirements.js';

const CANDIDATES = process.env['SWITCHBOARD_POSTGRES_URL']
  ? [process.env['SWITCHBOARD_POSTGRES_URL']]
  : ['postgres://postgres@127.0.0.1:5432/postgres', 'postgres://root@127.0.0.1:5432/postgres'];
const PROBE_TIMEOUT_MS = 3000;

/** Run `sql` on a one-off connection to `url`. */
async function run(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: PROBE_TIMEOUT_MS });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query(sql);
  } finally {
    await client.end().catch(() => {});
  }
}

async function probe(): Promise<string | undefined> {
  for (const url of CANDIDATES) {
    try {
      await run(url, 'SELECT 1');
      return url;
    } catch {
      // the next candidate
    }
  }
  return undefined;
}

/** The server URL the suites use (its maintenance database), or undefined when none answers. */
export const postgresAdminUrl: string | undefined = await probe();

/** Whether PostgreSQL suites run, skip (loudly) or fail. */
export const postgresRequirement: Requirement = requirement('postgres', postgresAdminUrl !== undefined);

/** A database created for a test. */
export interface PostgresDatabase {
  readonly name: string;
  /** The connection URL of this database. */
  readonly url: string;
  /** Drop it, disconnecting whoever is still connected. Idempotent. */
  drop(): Promise<void>;
}

/** Create a fresh database `switchboard_test_<random>` on the server. */
export async function createDatabase(): Promise<PostgresDatabase> {
  postgresRequirement.assert();
  const admin = postgresAdminUrl;
  if (admin === undefined) throw new Error('no PostgreSQL server (the suite should have skipped)');
  const name = `switchboard_test_${randomBytes(6).toString('hex')}`;
  await run(admin, `CREATE DATABASE ${name}`);
  const url = new URL(admin);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    name,
    url: url.toString(),
    drop: async () => {
      if (dropped) return;
      dropped = true;
      await run(admin, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/**
 * A database for the enclosing `describe`: created by its `before` (unless PostgreSQL suites skip),
 * dropped by its `after`. The returned function gives it, and throws if it was not created.
 */
export function postgresPerSuite(): () => PostgresDatabase {
  let database: PostgresDatabase | undefined;
  before(async () => {
    if (postgresRequirement.skip !== false) return;
    database = await createDatabase();
  });
  after(async () => {
    await database?.drop();
  });
  return () => {
    if (database === undefined) throw new Error('the PostgreSQL test database was not created');
    return database;
  };
}
