/**
 * A private PostgreSQL server for fault tests: its own cluster (initdb) in a temporary directory, on a free
 * loopback port, that a test may SIGKILL and restart without touching the machine's server that other
 * suites share. Needs Debian's server binaries (/usr/lib/postgresql/<version>/bin, or
 * SWITCHBOARD_POSTGRES_BIN); as root the server runs as the `postgres` user (through setpriv), since
 * PostgreSQL refuses to run as root.
 */
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import { OwnedChild } from './node-process.js';
import { requiredPrograms } from './requirements.js';

/** The directory holding initdb and postgres, or undefined. */
function binDir(): string | undefined {
  const configured = process.env['SWITCHBOARD_POSTGRES_BIN'];
  if (configured !== undefined) return existsSync(join(configured, 'initdb')) ? configured : undefined;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], 'bin');
}

const BIN = binDir();
const AS_ROOT = process.getuid?.() === 0;

/**
 * node:test's `skip` for suites needing a private server: the reason when the binaries are missing and
 * `postgres` is not in SWITCHBOARD_REQUIRE, else false (a required but missing one fails in start).
 */
export const privatePostgresSkip: string | false =
  BIN === undefined && !requiredPrograms().has('postgres')
    ? 'SKIPPED: no PostgreSQL server binaries (initdb, postgres) in /usr/lib/postgresql/<version>/bin or SWITCHBOARD_POSTGRES_BIN; install them with `apt-get install -y postgresql`. Set SWITCHBOARD_REQUIRE=postgres to fail instead of skipping.'
    : false;

/** Run a server binary as the user PostgreSQL accepts (postgres when we are root). */
function command(binary: string, args: readonly string[]): [string, string[]] {
  if (BIN === undefined)
    throw new Error('no PostgreSQL server binaries (initdb, postgres): apt-get install -y postgresql');
  const path = join(BIN, binary);
  if (!AS_ROOT) return [path, [...args]];
  return ['setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', '--', path, ...args]];
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A private PostgreSQL server. */
export interface PostgresProcess {
  /** `postgres://postgres@127.0.0.1:PORT/postgres` (trust auth). */
  readonly url: string;
  /** SIGKILL the postmaster (a crash) and resolve once it has exited. */
  kill(): Promise<void>;
  /** Start again on the same port and data directory (crash recovery); resolves once it accepts queries. */
  restart(): Promise<void>;
  /** Stop for good and delete the directory. Idempotent. */
  stop(): Promise<void>;
}

/** initdb a fresh cluster and start it; resolves once it accepts queries. */
export async function startPostgres(timeoutMs = 30_000): Promise<PostgresProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-pg-'));
  const data = join(dir, 'data');
  if (AS_ROOT) {
    const pgUser = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const pgGroup = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    chownSync(dir, Number(pgUser.stdout.trim()), Number(pgGroup.stdout.trim()));
  }
  const [initdb, initArgs] = command('initdb', [
    '-D',
    data,
    '-U',
    'postgres',
    '-A',
    'trust',
    '-E',
    'UTF8',
    '--no-sync',
  ]);
  const init = spawnSync(initdb, initArgs, { encoding: 'utf8', cwd: dir });
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(
      `initdb failed (${init.status}): ${init.stderr}${init.stdout} (as ${userInfo().username})`,
    );
  }
  const port = await freePort();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let child: OwnedChild | undefined;
  let stopped = false;

  async function launch(): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const [postgres, args] = command('postgres', [
        '-D',
        data,
        '-p',
        String(port),
        '-h',
        '127.0.0.1',
        '-k',
        dir,
        '-c',
        'shared_buffers=16MB',
        '-c',
        'max_connections=40',
        '-c',
        'logging_collector=off',
      ]);
      const started = new OwnedChild(postgres, args);
      child = started;
      // Ready once a query succeeds; a crash at start (the old backends still hold shared memory just
      // after a SIGKILL) starts again.
      while (started.exitStatus === undefined && Date.now() < deadline) {
        try {
          const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
          client.on('error', () => {});
          await client.connect();
          await client.query('SELECT 1');
          await client.end();
          return;
        } catch {
          await delay(100);
        }
      }
      if (Date.now() >= deadline) {
        await started.kill();
        throw new Error(`postgres did not start within ${timeoutMs} ms:\n${started.describeOutput()}`);
      }
    }
  }

  await launch();
  return {
    url,
    kill: async () => {
      await child?.kill('SIGKILL');
    },
    restart: async () => {
      await child?.kill('SIGKILL');
      await launch();
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      // SIGINT is PostgreSQL's fast shutdown (SIGTERM would wait for every client to leave).
      const current = child;
      if (current !== undefined) {
        await Promise.race([current.kill('SIGINT'), delay(5000)]);
        await current.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
