/**
 * Typed end to end (docs/typescript.md): a server and a client typed by one channel map exchange messages
 * over a real socket, and the compile-time tests in test/typed compile (`npm test` does not type-check
 * test files by itself: tsx strips types).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { test } from 'node:test';
import WebSocket from 'ws';
import { createServer } from '@switchboard/server';
import { SwitchboardClient } from '../src/index.js';
import type { ChannelMessage } from '../src/index.js';
import type { App, ChatMessage, JobProgress } from './typed/app.js';

test(
  'a typed server and a typed client exchange messages, history and a send reply',
  { timeout: 10_000 },
  async (t) => {
    const server = createServer<App>({
      host: '127.0.0.1',
      port: 0,
      onMessage: (_connection, request) => ({ jobId: `job:${request.start}` }),
    });
    await server.start();
    t.after(() => server.stop());
    const client = new SwitchboardClient<App>(`ws://127.0.0.1:${server.port}/ws`, { WebSocket });
    t.after(() => client.close());

    const chat = client.subscribe('chat:lobby');
    const job = client.subscribe('job:42');
    const chatSeen: ChatMessage[] = [];
    const jobSeen = new Promise<ChannelMessage<JobProgress>>((resolve) => job.on('message', resolve));
    const twoChats = new Promise<void>((resolve) =>
      chat.on('message', (m) => {
        chatSeen.push(m.data);
        if (chatSeen.length === 2) resolve();
      }),
    );
    await client.connect();
    await Promise.all([chat.ready(), job.ready()]);

    await client.publish('chat:lobby', { text: 'hi', from: 'ann' });
    await server.publish('chat:lobby', { text: 'welcome', from: 'server' });
    await server.publish('job:42', { percent: 50 });
    await twoChats;
    assert.deepEqual(chatSeen, [
      { text: 'hi', from: 'ann' },
      { text: 'welcome', from: 'server' },
    ]);
    assert.deepEqual((await jobSeen).data, { percent: 50 });

    const history = await client.history('chat:lobby');
    assert.deepEqual(
      history.messages.map((m) => m.data.text),
      ['hi', 'welcome'],
    );
    const serverHistory = await server.history('chat:lobby');
    assert.equal(serverHistory.messages[1]?.data.from, 'server');

    const ticket = await client.send({ start: 'export' });
    assert.equal(ticket.jobId, 'job:export');
  },
);

test('the compile-time tests of the typed API compile (tsc -p test/typed)', async () => {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const project = fileURLToPath(new URL('./typed/tsconfig.json', import.meta.url));
  const run = await promisify(execFile)(process.execPath, [tsc, '--noEmit', '-p', project]).then(
    () => ({ ok: true, output: '' }),
    (error: { stdout?: string; stderr?: string }) => ({
      ok: false,
      output: `${error.stdout ?? ''}${error.stderr ?? ''}`,
    }),
  );
  assert.ok(run.ok, `tsc found errors in test/typed:\n${run.output}`);
});
