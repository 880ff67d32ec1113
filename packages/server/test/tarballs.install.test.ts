/**
 * The packages as an integrator gets them: `npm pack` each published package, check what each tarball
 * carries (LICENSE, README, the registry fields), install the tarballs into a new empty app, run the
 * installed `npx switchboard --help`, and from an .mjs file of that app import `@switchboard/server` and
 * `@switchboard/client`, start a server and deliver a message to a connected client.
 *
 * Slow (a real `npm install` from the npm registry or its cache): its own file, with the longer deadline
 * scripts/run-tests.mjs gives every *.install.test.ts. Packs this checkout's built packages (the test
 * runner builds first). Measured on a 2-core machine shared with other builds, warm npm cache: pack 3 s,
 * npm install 5-15 s, the rest 2 s.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NPM_INSTALL_FLAGS, REPO_ROOT, logDuration, run, runOk, tempDir } from './npm-harness.js';
import type { Manifest } from './npm-harness.js';

const INSTALL_TIMEOUT_MS = 6 * 60_000;
const COMMAND_TIMEOUT_MS = 60_000;
const PUBLISHED = ['protocol', 'server', 'client'] as const;
const LICENSE = readFileSync(join(REPO_ROOT, 'LICENSE'), 'utf8');

interface PackResult {
  readonly name: string;
  readonly filename: string;
  readonly files: readonly { readonly path: string }[];
}

/** The app: imports both packages by name, starts a server, and delivers one message to a client. */
const APP = `import WebSocket from 'ws';
import { createServer } from '@switchboard/server';
import { SwitchboardClient } from '@switchboard/client';

const server = createServer({ port: 0, host: '127.0.0.1' });
await server.start();
const client = new SwitchboardClient(\`ws://127.0.0.1:\${server.port}/ws\`, { WebSocket });
const room = client.subscribe('room:1');
const received = new Promise((resolve) => room.on('message', ({ id, data }) => resolve({ id, data })));
await client.connect();
await room.ready();
await server.publish('room:1', { hello: 'from the packed server' });
console.log(JSON.stringify(await received));
client.close();
await server.stop();
`;

describe('the packed tarballs in a new app', { timeout: INSTALL_TIMEOUT_MS + 6 * COMMAND_TIMEOUT_MS }, () => {
  const temp = tempDir('switchboard-pack-');
  const tarballs = join(temp.path, 'tarballs');
  const app = join(temp.path, 'app');
  let packed: readonly PackResult[] = [];

  before(async () => {
    mkdirSync(tarballs);
    const workspaces = PUBLISHED.flatMap((name) => ['-w', `packages/${name}`]);
    const pack = await runOk('npm', ['pack', ...workspaces, '--pack-destination', tarballs, '--json'], {
      cwd: REPO_ROOT,
      timeoutMs: COMMAND_TIMEOUT_MS,
    });
    logDuration('npm pack', pack.ms);
    // npm prints lifecycle output before the JSON when a package has pack scripts; the JSON is last.
    packed = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as PackResult[];
  });

  after(() => temp.remove());

  test('each tarball has LICENSE, README, and repository, keywords, homepage and bugs', async () => {
    assert.deepEqual(
      packed.map((result) => result.name),
      PUBLISHED.map((name) => `@switchboard/${name}`),
    );
    for (const [index, result] of packed.entries()) {
      const name = PUBLISHED[index] ?? '';
      const files = result.files.map((file) => file.path);
      for (const required of ['LICENSE', 'README.md', 'package.json'])
        assert.ok(files.includes(required), `${result.filename} lacks ${required}`);
      // What is in the tarball, not what is in the checkout.
      const extracted = join(temp.path, 'extracted', name);
      mkdirSync(extracted, { recursive: true });
      await runOk('tar', ['-xzf', join(tarballs, result.filename), '-C', extracted], {
        cwd: temp.path,
        timeoutMs: COMMAND_TIMEOUT_MS,
      });
      assert.equal(readFileSync(join(extracted, 'package/LICENSE'), 'utf8'), LICENSE, `${name} LICENSE`);
      assert.match(readFileSync(join(extracted, 'package/README.md'), 'utf8'), /^# @switchboard\//);
      const manifest = JSON.parse(readFileSync(join(extracted, 'package/package.json'), 'utf8')) as Manifest;
      assert.equal(manifest.license, 'MIT');
      assert.ok((manifest.keywords ?? []).length > 0, `${name} keywords`);
      assert.match(manifest.homepage ?? '', /^https:\/\/github\.com\/switchboard-rt\/switchboard\//);
      assert.match(manifest.bugs?.url ?? '', /^https:\/\/github\.com\/switchboard-rt\/switchboard\/issues$/);
      assert.equal(manifest.repository?.url, 'git+https://github.com/switchboard-rt/switchboard.git');
      assert.equal(manifest.repository?.directory, `packages/${name}`);
    }
  });

  test('installed into a new app: npx switchboard --help, and a client gets a message', async () => {
    mkdirSync(app);
    writeFileSync(
      join(app, 'package.json'),
      `${JSON.stringify({ name: 'switchboard-pack-test-app', version: '1.0.0', private: true, type: 'module' }, null, 2)}\n`,
    );
    // ws: the client's optional peer dependency, which Node 20 needs (it has no global WebSocket).
    const install = await runOk(
      'npm',
      ['install', ...packed.map((result) => join(tarballs, result.filename)), 'ws', ...NPM_INSTALL_FLAGS],
      { cwd: app, timeoutMs: INSTALL_TIMEOUT_MS },
    );
    logDuration('npm install (tarballs into a new app)', install.ms);

    const help = await run('npx', ['switchboard', '--help'], { cwd: app, timeoutMs: COMMAND_TIMEOUT_MS });
    assert.equal(help.status, 0, `npx switchboard --help exited ${help.status}\n${help.stderr}`);
    assert.match(help.stdout, /^Usage: switchboard \[options\]/);
    assert.ok(help.stdout.includes('Connection admission (--help connections):'));

    writeFileSync(join(app, 'app.mjs'), APP);
    const result = await runOk(process.execPath, ['app.mjs'], { cwd: app, timeoutMs: COMMAND_TIMEOUT_MS });
    assert.deepEqual(JSON.parse(result.stdout.trim()), { id: 1, data: { hello: 'from the packed server' } });
  });
});
