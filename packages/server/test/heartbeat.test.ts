// Heartbeats over real sockets, with intervals of tens of milliseconds.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, connectV1, startServer } from './helpers.js';
import type { TestClient, TestServer } from './helpers.js';
import type { DisconnectInfo } from '../src/index.js';

/** Answer every application ping with a pong, as the SDK does. */
function answerPings(client: TestClient): void {
  client.ws.on('message', (data) => {
    if (data.toString() === '{"type":"ping"}') client.send({ type: 'pong' });
  });
}

describe('heartbeat', () => {
  let t: TestServer;
  const closes = new Map<string, DisconnectInfo>();
  before(async () => {
    t = await startServer({
      heartbeatIntervalMs: 40,
      heartbeatTimeoutMs: 120,
      onDisconnect: (c, info) => {
        closes.set(c.id, info);
      },
    });
  });
  after(() => t.stop());

  test('the server pings a quiet connection within the interval', async () => {
    const { client } = await connectV1(t);
    assert.deepEqual(await client.nextOfType('ping', 1000), { type: 'ping' });
    client.close();
  });

  test('a silent client is closed with 4000 after the timeout while an answering client stays', async () => {
    // autoPong off: neither client answers transport pings, so only application pongs count.
    const silent = await connectV1(t, { autoPong: false });
    const answering = await connectV1(t, { autoPong: false });
    answerPings(answering.client);
    const closed = await silent.client.closed;
    assert.equal(closed.code, 4000);
    assert.equal(closed.reason, 'heartbeat timeout');
    assert.deepEqual(closes.get(silent.connected['connectionId'] as string), {
      code: 4000,
      reason: 'heartbeat timeout',
    });
    // The answering client outlives several more timeouts: count its pings rather than sleeping.
    for (let i = 0; i < 8; i++) await answering.client.nextOfType('ping', 1000);
    assert.deepEqual((await answering.client.request({ id: 1, type: 'ping' }))['result'], {});
    assert.equal(
      t.server.getConnection(silent.connected['connectionId'] as string),
      undefined,
      'removed everywhere',
    );
    answering.client.close();
  });

  test('a client that answers only transport pings (like wscat) stays connected with v1HeartbeatProof any', async () => {
    // The default (`application`) closes it: heartbeat-proof.test.ts has both modes on both endpoints.
    const wscat = await startServer({
      heartbeatIntervalMs: 40,
      heartbeatTimeoutMs: 120,
      v1HeartbeatProof: 'any',
    });
    try {
      const { client } = await connectV1(wscat); // ws answers transport pings by itself
      for (let i = 0; i < 8; i++) await client.nextOfType('ping', 1000);
      assert.deepEqual((await client.request({ id: 1, type: 'ping' }))['result'], {});
      client.close();
    } finally {
      await wscat.stop();
    }
  });

  test('the seeds-style room endpoint: ping, pong, still alive', async () => {
    const ws = await connect(`${t.wsUrl}/ws/general`, { autoPong: false });
    assert.deepEqual(await ws.nextOfType('ping', 1000), { type: 'ping' });
    ws.send({ type: 'pong' });
    ws.send({ type: 'message', text: 'still alive' });
    assert.equal((await ws.next((m) => m['type'] === 'message'))['text'], 'still alive');
    ws.close();
  });

  test('the seeds-style room endpoint closes a client that never answers', async () => {
    const ws = await connect(`${t.wsUrl}/ws/general`, { autoPong: false });
    assert.deepEqual(await ws.nextOfType('ping', 1000), { type: 'ping' });
    assert.equal((await ws.closed).code, 4000);
  });
});

test('activity counts as liveness: a chatty client is not pinged', async () => {
  // A wide interval keeps scheduling noise (a loaded CI machine) far from the half-interval threshold.
  const t = await startServer({ heartbeatIntervalMs: 200, heartbeatTimeoutMs: 400 });
  try {
    const { client } = await connectV1(t, { autoPong: false });
    const until = Date.now() + 1200; // six intervals
    for (let id = 1; Date.now() < until; id++) {
      await client.request({ id, type: 'ping' });
      await new Promise((r) => setTimeout(r, 10)); // pacing the client's own traffic, not waiting on the server
    }
    assert.equal(client.messages.filter((m) => (m as { type?: string }).type === 'ping').length, 0);
    client.close();
  } finally {
    await t.stop();
  }
});
