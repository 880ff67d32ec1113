// The test runner's deadline (scripts/run-tests.mjs): a test that hangs fails the run, named, instead of
// holding CI until its own time limit; and the reporter that names it (scripts/hung-test-reporter.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const HUNG = fileURLToPath(new URL('./fixtures/hung-test.ts', import.meta.url));

type Reporter = (source: AsyncIterable<{ type: string; data: unknown }>) => AsyncGenerator<string>;

async function hungTestReporter(): Promise<Reporter> {
  const url = new URL('../../../scripts/hung-test-reporter.mjs', import.meta.url).href;
  return ((await import(url)) as { default: Reporter }).default;
}

async function collect(reporter: Reporter, events: { type: string; data: unknown }[]): Promise<string> {
  let out = '';
  for await (const chunk of reporter(
    (async function* () {
      yield* events;
    })(),
  ))
    out += chunk;
  return out;
}

test('the reporter names the tests a timed-out file was still running, and nothing else', async () => {
  const reporter = await hungTestReporter();
  const file = '/repo/a.test.ts';
  const at = (name: string, nesting: number) => ({ name, nesting, file });
  const timedOut = {
    ...at(file, 0),
    details: { error: { failureType: 'testTimeoutFailure', cause: 'test timed out after 180000ms' } },
  };
  const out = await collect(reporter, [
    { type: 'test:dequeue', data: at(file, 0) },
    { type: 'test:dequeue', data: at('suite', 0) },
    { type: 'test:dequeue', data: at('quick', 1) },
    { type: 'test:complete', data: at('quick', 1) },
    { type: 'test:dequeue', data: at('stuck', 1) },
    { type: 'test:complete', data: timedOut },
    { type: 'test:fail', data: timedOut },
  ]);
  assert.match(out, /✖ \/repo\/a\.test\.ts: test timed out after 180000ms/);
  assert.match(out, /still running:\n {4}suite \(for \d+ ms\)\n {6}stuck \(for \d+ ms\)\n/);
  assert.doesNotMatch(out, /quick/);

  const passed = await collect(reporter, [
    { type: 'test:dequeue', data: at(file, 0) },
    { type: 'test:dequeue', data: at('quick', 0) },
    { type: 'test:complete', data: at('quick', 0) },
    { type: 'test:complete', data: { ...at(file, 0), details: { passed: true } } },
  ]);
  assert.equal(passed, '', 'silent when no file timed out');
});

test(
  'scripts/run-tests.mjs fails a hung test at its deadline and names it',
  { timeout: 60_000 },
  async () => {
    // Without NODE_TEST_CONTEXT, which tells a test runner that it runs inside another one.
    const env = { ...process.env };
    delete env['NODE_TEST_CONTEXT'];
    const child = spawn(process.execPath, ['scripts/run-tests.mjs', HUNG], {
      cwd: ROOT,
      env: { ...env, SWITCHBOARD_TEST_TIMEOUT_MS: '2000' },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group: a run that does not end is killed with the test file it runs.
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const ended = new Promise<number | null>((resolve) => child.on('close', resolve));
    let hung = false;
    const watchdog = setTimeout(() => {
      hung = true;
      process.kill(-(child.pid ?? 0), 'SIGKILL');
    }, 30_000);
    const status = await ended;
    clearTimeout(watchdog);
    const output = `stdout:\n${stdout}\nstderr:\n${stderr}`;
    assert.equal(hung, false, `the run was still going after 30 s, 15 times its deadline\n${output}`);
    assert.equal(status, 1, output);
    assert.match(stdout, /✔ ends/, output);
    assert.match(stdout, /test timed out after 2000ms/, output);
    // The child needs a moment to load tsx before its tests start; on a machine so loaded that it took
    // longer than the deadline, nothing was running yet, and the reporter says so instead.
    assert.match(
      stderr,
      /hung-test\.ts: test timed out after 2000ms\n {2}(still running:\n {4}a suite \(for \d+ ms\)\n {6}never ends|no test was running)/,
      output,
    );
  },
);

test(
  'scripts/run-tests.mjs gives *.install.test.ts files their own, longer deadline, after the others',
  { timeout: 60_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-runner-'));
    try {
      const quick = join(dir, 'quick.test.ts');
      const install = join(dir, 'slow.install.test.ts');
      copyFileSync(HUNG, quick);
      copyFileSync(HUNG, install);
      const env = { ...process.env };
      delete env['NODE_TEST_CONTEXT'];
      const child = spawn(process.execPath, ['scripts/run-tests.mjs', install, quick], {
        cwd: ROOT,
        env: { ...env, SWITCHBOARD_TEST_TIMEOUT_MS: '1500', SWITCHBOARD_INSTALL_TEST_TIMEOUT_MS: '4000' },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.resume();
      const watchdog = setTimeout(() => process.kill(-(child.pid ?? 0), 'SIGKILL'), 40_000);
      const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
      clearTimeout(watchdog);
      assert.equal(status, 1, stdout);
      const quickAt = stdout.indexOf('test timed out after 1500ms');
      const installAt = stdout.indexOf('test timed out after 4000ms');
      assert.ok(quickAt !== -1, `the other file's deadline\n${stdout}`);
      assert.ok(installAt !== -1, `the install file's deadline\n${stdout}`);
      assert.ok(quickAt < installAt, `the install file ran first\n${stdout}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
