// Graceful shutdown: every connection gets 1001, stop() honours its deadline, new connections are refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, connectV1, stalledClient, startServer, upgradeStatus } from './helpers.js';
import { createServer } from '../src/index.js';

test('stop() closes every connection with 1001 and a reason, then refuses new ones', async () => {
  const t = await startServer();
  const v1 = await connectV1(t);
  const room = await connect(`${t.wsUrl}/ws/lobby`);
  const stopped = t.stop();
  assert.deepEqual(await v1.client.closed, { code: 1001, reason: 'server shutting down' });
  assert.deepEqual(await room.closed, { code: 1001, reason: 'server shutting down' });
  await stopped;
  assert.equal(t.server.state, 'stopped');
  await assert.rejects(fetch(`${t.httpUrl}/health`), 'the port is closed after stop');
});

test('stop() drops a peer that never completes the close handshake once the deadline passes', async () => {
  const t = await startServer({ shutdownTimeoutMs: 200 });
  const stalled = await stalledClient(`${t.wsUrl}/ws/lobby`);
  const gone = new Promise<void>((resolve) => stalled.on('close', () => resolve()));
  const started = Date.now();
  await t.stop();
  assert.ok(Date.now() - started < 5000, 'stop() returned long before ws’s own 30 s close timeout');
  stalled.resume(); // let the socket notice the server side is gone
  await gone;
});

test('while stopping, upgrades are refused with 503 and /ready answers 503', async () => {
  const t = await startServer({ shutdownTimeoutMs: 2000 });
  const stalled = await stalledClient(`${t.wsUrl}/ws/lobby`); // keeps stop() waiting for a while
  const stopped = t.stop();
  const ready = await fetch(`${t.httpUrl}/ready`);
  assert.equal(ready.status, 503);
  const { status, body } = await upgradeStatus(`${t.wsUrl}/ws`);
  assert.equal(status, 503);
  assert.equal((JSON.parse(body) as { error: { code: string } }).error.code, 'shutting_down');
  stalled.destroy();
  await stopped;
});

test('library calls after stop() reject with a typed error', async () => {
  const t = await startServer();
  await t.stop();
  await assert.rejects(t.server.publish('c', 1), { name: 'ServerNotRunningError', code: 'shutting_down' });
  await t.stop(); // idempotent
});

test('a start that cannot listen (port in use) rejects and leaves nothing running', async () => {
  const first = await startServer();
  const second = createServer({ host: '127.0.0.1', port: first.server.port });
  try {
    await assert.rejects(second.start(), { code: 'EADDRINUSE' });
    assert.equal(second.state, 'stopped');
    await second.stop(); // still safe to call
  } finally {
    await first.stop();
  }
});
