// Library mode on Fastify 5: the instance is passed as it is, and fastify.close() stops Switchboard.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { createServer } from '../src/index.js';
import { connect } from './helpers.js';

/** Rejects if `promise` has not settled within `ms` (a hang is the bug these tests guard against). */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

test('Fastify 5: pass the instance; its routes and Switchboard share the port; fastify.close() stops Switchboard', async () => {
  const fastify = Fastify();
  fastify.get('/health', async () => ({ app: 'fastify' }));
  const switchboard = createServer({ server: fastify, basePath: '/rt' });
  let stoppedInOnClose: Promise<void> | null = null;
  // What Fastify users write: stop it in onClose. It must not hang (preClose already stopped it).
  fastify.addHook('onClose', async () => {
    stoppedInOnClose = switchboard.stop();
    await stoppedInOnClose;
  });
  await fastify.listen({ port: 0, host: '127.0.0.1' });
  await switchboard.start();
  const address = fastify.server.address();
  assert.ok(address !== null && typeof address === 'object');
  const base = `127.0.0.1:${address.port}`;
  assert.deepEqual(await (await fetch(`http://${base}/health`)).json(), { app: 'fastify' });
  assert.equal(((await (await fetch(`http://${base}/rt/health`)).json()) as { status: string }).status, 'ok');
  const published = await fetch(`http://${base}/rt/api/publish`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ channel: 'room', data: { text: 'from the API' } }),
  });
  const client = await connect(`ws://${base}/rt/ws/room`);
  assert.equal(published.status, 200);
  const missing = await fetch(`http://${base}/nope`);
  assert.equal(missing.status, 404);
  assert.equal(((await missing.json()) as { message?: string }).message, 'Route GET:/nope not found');
  try {
    await within(fastify.close(), 5000, 'fastify.close()');
  } finally {
    // Were the close hanging (the bug), let the file end instead of timing out.
    fastify.server.closeAllConnections();
  }
  assert.equal((await client.closed).code, 1001);
  assert.equal(switchboard.state, 'stopped');
  assert.notEqual(stoppedInOnClose, null);
});

test('Fastify 5: an instance that is already listening is refused with a clear error', async () => {
  const fastify = Fastify();
  await fastify.listen({ port: 0, host: '127.0.0.1' });
  try {
    assert.throws(() => createServer({ server: fastify }), {
      name: 'InvalidOptionError',
      message: /already started.*before fastify.listen\(\).*fastify.server/,
    });
    // fastify.server itself is an http.Server: that works, stop() is then the application's to call.
    const switchboard = createServer({ server: fastify.server, basePath: '/rt' });
    await switchboard.start();
    await switchboard.stop();
  } finally {
    await fastify.close();
  }
});
