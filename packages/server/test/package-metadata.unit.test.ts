/**
 * What every package's tarball carries besides code: the root LICENSE (a copy each package commits, kept
 * equal here so it cannot drift), a README, and the registry fields. And the `switchboard` bin: a
 * committed, executable shim, so npm links it before `prepare` has built dist/ in a fresh clone.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Manifest } from './npm-harness.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const PACKAGES = ['protocol', 'server', 'client', 'bench'] as const;
const REPOSITORY = 'git+https://github.com/switchboard-rt/switchboard.git';

function manifest(dir: string): Manifest {
  return JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8')) as Manifest;
}

describe('package metadata', () => {
  const license = readFileSync(join(ROOT, 'LICENSE'), 'utf8');

  for (const name of PACKAGES) {
    const dir = `packages/${name}`;
    test(`${dir}: LICENSE equal to the root one, a README, repository, keywords, homepage, bugs`, () => {
      assert.equal(
        readFileSync(join(ROOT, dir, 'LICENSE'), 'utf8'),
        license,
        `${dir}/LICENSE differs from LICENSE: cp LICENSE ${dir}/LICENSE`,
      );
      assert.match(
        readFileSync(join(ROOT, dir, 'README.md'), 'utf8'),
        new RegExp(`^# @switchboard/${name}\n`),
      );
      const pkg = manifest(dir);
      assert.equal(pkg.license, 'MIT');
      assert.deepEqual(pkg.repository, { type: 'git', url: REPOSITORY, directory: dir });
      assert.equal(pkg.homepage, `https://github.com/switchboard-rt/switchboard/tree/main/${dir}#readme`);
      assert.equal(pkg.bugs?.url, 'https://github.com/switchboard-rt/switchboard/issues');
      assert.ok((pkg.keywords ?? []).includes('switchboard'), 'keywords');
    });
  }

  test('every bin is a committed, executable file inside `files`', () => {
    for (const name of PACKAGES) {
      const dir = `packages/${name}`;
      for (const [command, target] of Object.entries(manifest(dir).bin ?? {})) {
        const path = join(dir, target);
        const staged = spawnSync('git', ['ls-files', '--stage', '--', path], { cwd: ROOT, encoding: 'utf8' });
        assert.match(staged.stdout, /^100755 /, `${command}: ${path} is not committed as executable`);
        assert.ok(!target.includes('dist/'), `${command} points into dist/, which a fresh clone lacks`);
        assert.ok(manifest(dir).files?.includes(target.replace(/^\.\//, '').split('/')[0] ?? ''));
      }
    }
  });
});

describe('the switchboard bin shim', () => {
  const shim = join(ROOT, 'packages/server/bin/switchboard.js');

  test('runs the built CLI', () => {
    const run = spawnSync(process.execPath, [shim, '--help', 'tls'], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /^TLS \(--help tls\):$/m);
  });

  test('says how to build when dist/ is missing, and exits 1', () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-shim-'));
    try {
      mkdirSync(join(dir, 'bin'));
      copyFileSync(shim, join(dir, 'bin/switchboard.js'));
      assert.ok(!existsSync(join(dir, 'dist')));
      const run = spawnSync(process.execPath, [join(dir, 'bin/switchboard.js'), '--help'], {
        encoding: 'utf8',
      });
      assert.equal(run.status, 1);
      assert.match(run.stderr, /^switchboard: the server is not built/);
      assert.match(run.stderr, /npm run build/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
