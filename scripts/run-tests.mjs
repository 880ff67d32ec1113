#!/usr/bin/env node
// Runs every packages/*/test/**/*.test.ts file with Node's test runner (TypeScript through tsx), or only
// the files named as arguments. `--unit` runs only files named *.unit.test.ts. Node 20's --test takes no
// globs, hence this script.
//
// Every file runs under a deadline, so a test that hangs fails (named by hung-test-reporter.mjs) instead
// of holding CI for its whole time limit. On Node 20, --test-timeout bounds each test file as a whole,
// not each test (nodejs/node#57656; per test in later Node versions): the deadline must cover the
// slowest file.
// The slowest measured in a full run on this 2-core machine, under three other developers' load, took
// 27 s (test/layering.test.ts, one ESLint run over the repository; 5 s unloaded); the slowest Redis and
// browser files took 17-23 s. SWITCHBOARD_TEST_TIMEOUT_MS overrides the deadline.
//
// Files named *.install.test.ts run real `npm install`s (a fresh clone of the repository, packed tarballs
// in a new app) and take minutes, not seconds: they run after the others, in a second test run with their
// own deadline, INSTALL_TIMEOUT_MS (SWITCHBOARD_INSTALL_TEST_TIMEOUT_MS overrides it). Measured on this
// 2-core machine under other builds, warm npm cache: about 1.5 min each (an `npm install` with its
// TypeScript build is most of it); a cold cache adds the downloads.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const DEFAULT_TIMEOUT_MS = 180_000;
const INSTALL_TIMEOUT_MS = 900_000;
const INSTALL_SUFFIX = '.install.test.ts';

const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const named = args.filter((arg) => arg !== '--unit');
const timeoutMs = deadline('SWITCHBOARD_TEST_TIMEOUT_MS', DEFAULT_TIMEOUT_MS);
const installTimeoutMs = deadline('SWITCHBOARD_INSTALL_TEST_TIMEOUT_MS', INSTALL_TIMEOUT_MS);

function deadline(variable, fallback) {
  const ms = Number(process.env[variable] ?? fallback);
  if (!Number.isInteger(ms) || ms <= 0) {
    console.error(`${variable} must be a positive integer (ms), not ${process.env[variable]}`);
    process.exit(2);
  }
  return ms;
}

const files = [];
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'dist') continue;
    if (statSync(path).isDirectory()) walk(path);
    else if (name.endsWith(unitOnly ? '.unit.test.ts' : '.test.ts')) files.push(path);
  }
}
if (named.length > 0) {
  files.push(...named);
} else {
  for (const pkg of readdirSync('packages')) {
    const dir = join('packages', pkg, 'test');
    try {
      if (statSync(dir).isDirectory()) walk(dir);
    } catch {
      // a package without tests
    }
  }
  files.sort();
}

const hungTests = fileURLToPath(new URL('./hung-test-reporter.mjs', import.meta.url));
const quick = files.filter((file) => !file.endsWith(INSTALL_SUFFIX));
const install = files.filter((file) => file.endsWith(INSTALL_SUFFIX));
let status = 0;
for (const [batch, ms] of [
  [quick, timeoutMs],
  [install, installTimeoutMs],
]) {
  if (batch.length === 0) continue;
  const result = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '--test',
      `--test-timeout=${ms}`,
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      `--test-reporter=${hungTests}`,
      '--test-reporter-destination=stderr',
      ...batch,
    ],
    { stdio: 'inherit' },
  );
  if (result.status !== 0) status = result.status ?? 1;
}
process.exit(status);
