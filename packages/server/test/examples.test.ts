/**
 * The attach examples run as users run them: `node examples/<name>/server.mjs` importing
 * `@switchboard/server`, on a free port (PORT=0). Each test connects a WebSocket client, publishes through
 * the application and through the HTTP API, checks the application's own routes still answer, and stops
 * the process with SIGTERM: it must close its WebSockets with 1001 and exit 0, in bounded time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { OwnedChild } from './node-process.js';
import { startExample } from './example-process.js';
import { connect } from './helpers.js';
import type { TestClient } from './helpers.js';

const STOP_GRACE_MS = 10_000;

/** SIGTERM; the client sees 1001 and the process exits 0 within the grace period. */
async function stopExample(child: OwnedChild, client: TestClient): Promise<void> {
  const { status, forced } = await child.terminate(STOP_GRACE_MS);
  assert.equal(
    forced,
    false,
    `the example did not exit within ${STOP_GRACE_MS} ms\n${child.describeOutput()}`,
  );
  assert.equal(status, 0, child.describeOutput());
  assert.equal((await client.closed).code, 1001);
}

async function post(url: string, body: unknown): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

for (const name of ['express', 'fastify']) {
  test(`examples/${name}: the app's routes, Switchboard under /rt, publishing from the app and the API, SIGTERM`, async () => {
    const { child, port } = await startExample(name);
    const base = `127.0.0.1:${port}`;
    try {
      const client = await connect(`ws://${base}/rt/ws/orders`);
      // The app's own /health, not Switchboard's.
      assert.deepEqual(await (await fetch(`http://${base}/health`)).json(), { app: 'ok' });
      assert.equal(
        ((await (await fetch(`http://${base}/rt/health`)).json()) as { status: string }).status,
        'ok',
      );
      // Published by the application through the library.
      const created = await post(`http://${base}/orders`, { sku: 'A-1' });
      assert.equal(created.status, 201);
      const event = await client.next();
      assert.deepEqual(event['order'], { sku: 'A-1' });
      assert.equal(event['id'], ((await created.json()) as { id: number }).id);
      // Published through the HTTP API (loopback: no key needed).
      assert.equal(
        (await post(`http://${base}/rt/api/publish`, { channel: 'orders', data: { n: 2 } })).status,
        200,
      );
      assert.equal((await client.next())['n'], 2);
      await stopExample(child, client);
    } finally {
      await child.kill();
    }
  });
}

test('examples/attach-to-http-server: the clock ticks, the app mounts the HTTP API itself, SIGTERM', async () => {
  const { child, port } = await startExample('attach-to-http-server');
  const base = `127.0.0.1:${port}`;
  try {
    const client = await connect(`ws://${base}/ws/clock`);
    assert.equal((await client.next())['type'], 'tick');
    const time = (await (await fetch(`http://${base}/time`)).json()) as { time: string };
    assert.ok(!Number.isNaN(Date.parse(time.time)));
    assert.equal(((await (await fetch(`http://${base}/health`)).json()) as { status: string }).status, 'ok');
    const published = await post(`http://${base}/api/publish`, { channel: 'clock', data: { type: 'note' } });
    assert.equal(published.status, 200);
    await client.next((m) => m['type'] === 'note');
    assert.equal((await fetch(`http://${base}/nope`)).status, 404);
    await stopExample(child, client);
  } finally {
    await child.kill();
  }
});
