/**
 * External programs some tests need (a real browser, a real Redis, openssl to make test certificates,
 * Prometheus's promtool to check /metrics, a PostgreSQL server: postgres-harness.ts probes it; nginx and
 * HAProxy in front of two nodes: proxy-harness.ts). A missing one skips those tests loudly on a developer machine,
 * and fails them where `SWITCHBOARD_REQUIRE` names it (CI sets
 * `SWITCHBOARD_REQUIRE=chromium,redis-server,openssl,promtool,postgres,nginx,haproxy`), so a broken CI image cannot pass by
 * skipping.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** A program a test suite can require. */
export type RequiredProgram =
  'chromium' | 'redis-server' | 'openssl' | 'promtool' | 'postgres' | 'nginx' | 'haproxy';

/** What a suite should do about one requirement. */
export interface Requirement {
  /** node:test's `skip` option: the reason when the program is missing and not required, else false. */
  readonly skip: string | false;
  /** Throws the install hint when the program is missing but required; call it first (or in `before`). */
  assert(): void;
}

const INSTALL_HINTS: Readonly<Record<RequiredProgram, string>> = {
  chromium:
    'install it with `apt-get install -y chromium` (Debian/Ubuntu), or set CHROMIUM_PATH to a Chromium or Chrome binary',
  'redis-server':
    'install it with `apt-get install -y redis-server` (Debian/Ubuntu) or `brew install redis` (macOS), and make sure redis-server is on PATH',
  openssl:
    'install it with `apt-get install -y openssl` (Debian/Ubuntu) or `brew install openssl` (macOS), and make sure openssl is on PATH',
  promtool:
    'install it with `apt-get install -y prometheus` (Debian/Ubuntu: promtool comes with it) or `brew install prometheus` (macOS), and make sure promtool is on PATH',
  postgres:
    'install and start it with `apt-get install -y postgresql && pg_ctlcluster --skip-systemctl-redirect 15 main start` (Debian/Ubuntu; .ci/run does this), or point SWITCHBOARD_POSTGRES_URL at a server whose user may create databases',
  nginx:
    'install it with `apt-get install -y --no-install-recommends nginx` (Debian/Ubuntu; the tests run their own nginx on a free port and never use the system one)',
  haproxy:
    'install it with `apt-get install -y --no-install-recommends haproxy` (Debian/Ubuntu; the tests run their own haproxy on a free port)',
};

const WHERE: Readonly<Record<RequiredProgram, string>> = {
  chromium: `no Chromium at ${process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium'}`,
  'redis-server': 'no redis-server on PATH',
  openssl: 'no openssl on PATH',
  promtool: 'no promtool on PATH',
  // The URL without its password (CI's may carry one).
  nginx: 'no nginx on PATH or in /usr/sbin',
  haproxy: 'no haproxy on PATH or in /usr/sbin',
  postgres: `no PostgreSQL server accepting ${(process.env['SWITCHBOARD_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres (or user root)').replace(/:[^:@/]*@/, ':***@')}`,
};

const warned = new Set<RequiredProgram>();

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The Chromium binary to drive: `CHROMIUM_PATH` when set, else Debian's /usr/bin/chromium; undefined when absent. */
export function chromiumPath(): string | undefined {
  const path = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
  return isExecutable(path) ? path : undefined;
}

/** The executable `name` found on PATH, or undefined. */
function onPath(name: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue;
    const path = join(dir, name);
    if (isExecutable(path)) return path;
  }
  return undefined;
}

/** The redis-server binary found on PATH, or undefined. */
export function redisServerPath(): string | undefined {
  return onPath('redis-server');
}

/** The openssl command found on PATH (the TLS tests make their certificates with it), or undefined. */
export function opensslPath(): string | undefined {
  return onPath('openssl');
}

/** Prometheus's promtool found on PATH (the metrics test runs `promtool check metrics`), or undefined. */
export function promtoolPath(): string | undefined {
  return onPath('promtool');
}

/** nginx on PATH or in /usr/sbin (not on a non-root PATH in Debian), or undefined. */
export function nginxPath(): string | undefined {
  return onPath('nginx') ?? (isExecutable('/usr/sbin/nginx') ? '/usr/sbin/nginx' : undefined);
}

/** haproxy on PATH or in /usr/sbin, or undefined. */
export function haproxyPath(): string | undefined {
  return onPath('haproxy') ?? (isExecutable('/usr/sbin/haproxy') ? '/usr/sbin/haproxy' : undefined);
}

/** The programs named in `SWITCHBOARD_REQUIRE` (comma-separated). */
export function requiredPrograms(): ReadonlySet<string> {
  const names = (process.env['SWITCHBOARD_REQUIRE'] ?? '').split(',').map((name) => name.trim());
  return new Set(names.filter((name) => name !== ''));
}

/**
 * Decide what a suite needing `name` does, given whether the program is `present`:
 * run; skip with a loud reason (also printed to stderr once); or, when `SWITCHBOARD_REQUIRE` names it,
 * run and fail through {@link Requirement.assert}.
 */
export function requirement(name: RequiredProgram, present: boolean): Requirement {
  if (present) return { skip: false, assert: () => {} };
  const required = requiredPrograms().has(name);
  const message = required
    ? `${name} is required (SWITCHBOARD_REQUIRE=${process.env['SWITCHBOARD_REQUIRE'] ?? ''}) but missing (${WHERE[name]}): ${INSTALL_HINTS[name]}`
    : `SKIPPED: ${name} is missing (${WHERE[name]}); ${INSTALL_HINTS[name]}. Set SWITCHBOARD_REQUIRE=${name} to fail instead of skipping.`;
  if (!warned.has(name)) {
    warned.add(name);
    process.stderr.write(`\n*** ${message}\n\n`);
  }
  if (!required) return { skip: message, assert: () => {} };
  return {
    skip: false,
    assert: () => {
      throw new Error(message);
    },
  };
}
