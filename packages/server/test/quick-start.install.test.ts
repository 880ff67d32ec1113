/**
 * The README's quick start, as written, in a fresh clone of the committed HEAD: `npm install`, then
 * `npx switchboard --help` (the bin must be linked although dist/ is built only after npm links bins),
 * then `npm start` answers /health and serves the demo page, and stops on Ctrl-C.
 *
 * Slow (a real `npm install` from the npm registry or its cache, and a full build): its own file, with
 * the longer deadline scripts/run-tests.mjs gives every *.install.test.ts. Uncommitted changes are not in
 * a clone: commit first. Measured on a 2-core machine shared with other builds, warm npm cache: clone 1 s,
 * npm install (with `prepare`'s build) 60-80 s, the rest 3 s.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  GroupChild,
  NPM_INSTALL_FLAGS,
  REPO_ROOT,
  cleanEnv,
  logDuration,
  run,
  runOk,
  tempDir,
} from './npm-harness.js';

const INSTALL_TIMEOUT_MS = 8 * 60_000;
const COMMAND_TIMEOUT_MS = 60_000;

function git(args: readonly string[], cwd: string): string {
  const result = spawnSync('git', args, { cwd, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`git ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout.trim();
}

describe(
  'the README quick start in a fresh clone',
  { timeout: INSTALL_TIMEOUT_MS + 4 * COMMAND_TIMEOUT_MS },
  () => {
    const temp = tempDir('switchboard-clone-');
    const clone = join(temp.path, 'switchboard');

    before(async () => {
      const head = git(['rev-parse', 'HEAD'], REPO_ROOT);
      if (git(['status', '--porcelain', '--untracked-files=no'], REPO_ROOT) !== '')
        process.stderr.write(`# uncommitted changes are not tested: the clone is at HEAD ${head}\n`);
      const started = Date.now();
      // The checkout's HEAD, not the origin's default branch: in a worktree they differ.
      await runOk('git', ['clone', '--quiet', '--no-checkout', REPO_ROOT, clone], {
        cwd: temp.path,
        timeoutMs: COMMAND_TIMEOUT_MS,
      });
      if (spawnSync('git', ['cat-file', '-e', `${head}^{commit}`], { cwd: clone }).status !== 0)
        git(['fetch', '--quiet', REPO_ROOT, head], clone);
      git(['checkout', '--quiet', '--detach', head], clone);
      logDuration('git clone', Date.now() - started);
    });

    after(() => temp.remove());

    test('npm install, npx switchboard --help, npm start: as the README says', async () => {
      const readme = readFileSync(join(clone, 'README.md'), 'utf8');
      assert.ok(readme.includes('npm install && npm start'), 'the README changed: update this test with it');
      assert.ok(readme.includes('npx switchboard\n--help') || readme.includes('npx switchboard --help'));

      const install = await runOk('npm', ['install', ...NPM_INSTALL_FLAGS], {
        cwd: clone,
        timeoutMs: INSTALL_TIMEOUT_MS,
      });
      logDuration('npm install (fresh clone, with the build)', install.ms);

      const help = await run('npx', ['switchboard', '--help'], { cwd: clone, timeoutMs: COMMAND_TIMEOUT_MS });
      assert.equal(help.status, 0, `npx switchboard --help exited ${help.status}\n${help.stderr}`);
      assert.match(help.stdout, /^Usage: switchboard \[options\]/);
      for (const heading of ['Server and listening (--help server):', 'Redis and scale-out (--help redis):'])
        assert.ok(help.stdout.includes(heading), heading);

      // `npm start` as written; the port and interface through the variables the README names.
      const server = new GroupChild('npm', ['start'], {
        cwd: clone,
        env: cleanEnv({ PORT: '0', HOST: '127.0.0.1' }),
      });
      try {
        const listening = await server.waitForJsonLine(
          (entry) => entry['msg'] === 'switchboard listening',
          COMMAND_TIMEOUT_MS,
        );
        const url = String(listening['url']);
        assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);

        const health = await fetch(`${url}/health`);
        assert.equal(health.status, 200);
        assert.equal(((await health.json()) as { status?: unknown }).status, 'ok');

        const page = await fetch(`${url}/`);
        assert.equal(page.status, 200);
        assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
        assert.match(await page.text(), /<title>Switchboard demo<\/title>/);

        const stopped = server.waitForJsonLine((entry) => entry['msg'] === 'switchboard stopped', 15_000);
        // Ctrl-C, as in the terminal the README's reader started it from.
        const { status, forced } = await server.stop('SIGINT', 15_000);
        assert.equal(forced, false, `npm start outlived Ctrl-C\n${server.describe()}`);
        await stopped;
        assert.ok(status === 0 || status === 'SIGINT', `npm start ended with ${status}`);
      } finally {
        await server.stop('SIGKILL', 1000);
      }
    });
  },
);
