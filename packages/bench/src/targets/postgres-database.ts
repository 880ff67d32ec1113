/**
 * A database of the run's own in the machine's PostgreSQL, for the inbox-postgres target:
 * `switchboard_bench_<random>`, created when the target starts and dropped (WITH (FORCE)) when it stops.
 * The server is SWITCHBOARD_POSTGRES_URL when set, else postgres://postgres@127.0.0.1:5432/postgres, else
 * the same as user root (trust auth, as on the development machines); the user must be allowed to
 * create databases.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

const CANDIDATES = process.env['SWITCHBOARD_POSTGRES_URL']
  ? [process.env['SWITCHBOARD_POSTGRES_URL']]
  : ['postgres://postgres@127.0.0.1:5432/postgres', 'postgres://root@127.0.0.1:5432/postgres'];

/** Run `sql` on a one-off connection to `url`. */
async function run(url: string, sql: string): Promise<void> {
  // Loaded only here: the target registry imports this file, and no other target needs pg.
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query(sql);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Why PostgreSQL cannot be used here (pg_isready says no server answers), or null. */
export function postgresMissing(): string | null {
  const url = new URL(CANDIDATES[0] ?? '');
  const result = spawnSync('pg_isready', ['-h', url.hostname, '-p', url.port || '5432', '-t', '3'], {
    stdio: 'ignore',
  });
  // Without pg_isready, try: createDatabase says what went wrong.
  if (result.error !== undefined) return null;
  return result.status === 0 ? null : `no PostgreSQL server answers at ${url.host}`;
}

/** A database created for one run. */
export interface BenchDatabase {
  readonly url: string;
  /** Drop it, disconnecting whoever is still connected. */
  drop(): Promise<void>;
}

/** Create `switchboard_bench_<random>` on the first server that answers. */
export async function createDatabase(): Promise<BenchDatabase> {
  const name = `switchboard_bench_${randomBytes(6).toString('hex')}`;
  const failures: string[] = [];
  for (const admin of CANDIDATES) {
    try {
      await run(admin, `CREATE DATABASE ${name}`);
    } catch (error) {
      failures.push(`${new URL(admin).username}: ${error instanceof Error ? error.message : String(error)}`);
      continue;
    }
    const url = new URL(admin);
    url.pathname = `/${name}`;
    return {
      url: url.href,
      drop: () => run(admin, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
    };
  }
  throw new Error(`cannot create a PostgreSQL database (${failures.join('; ')})`);
}
