/**
 * Slowloris: a client that opens TCP and dribbles its request head forever (or sends nothing) is cut off
 * by the headers deadline, while upgraded WebSockets, idle for longer than every HTTP deadline, are not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectV1, startServer } from './helpers.js';
import { assertServed, metric, rawClient } from './limits-helpers.js';

const DEADLINE_MS = 300;

test('a client dribbling its handshake headers is cut off with 408 by the headers deadline', async () => {
  const t = await startServer({ headersTimeoutMs: DEADLINE_MS, requestTimeoutMs: DEADLINE_MS });
  let dribble: NodeJS.Timeout | undefined;
  try {
    const { client: bystander } = await connectV1(t);
    const slow = await rawClient(t);
    slow.socket.write('GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n');
    dribble = setInterval(() => slow.socket.write('X-Slow: 1\r\n'), 50);
    const elapsed = await slow.ended;
    assert.ok(elapsed >= DEADLINE_MS - 50, `cut off after ${elapsed} ms, before the deadline`);
    // The sweep runs every quarter of the deadline: well under a second here.
    assert.ok(elapsed < 3000, `cut off only after ${elapsed} ms`);
    assert.match(slow.received(), /^HTTP\/1\.1 408 /);
    // The bystander has now been idle for longer than every HTTP deadline: upgraded sockets are exempt.
    await assertServed(bystander);
    assert.equal(await metric(t, 'switchboard_limits_rejected_total', { limit: 'request_timeout' }), 1);
    bystander.close();
  } finally {
    clearInterval(dribble);
    await t.stop();
  }
});

test('a client that connects and sends nothing is cut off too', async () => {
  const t = await startServer({ headersTimeoutMs: DEADLINE_MS, requestTimeoutMs: 1000 });
  try {
    const silent = await rawClient(t);
    const elapsed = await silent.ended;
    assert.ok(elapsed < 3000, `cut off only after ${elapsed} ms`);
    assert.match(silent.received(), /^HTTP\/1\.1 408 /);
  } finally {
    await t.stop();
  }
});

test('the deadlines apply to the server Switchboard creates, with the configured values', async () => {
  const t = await startServer({ headersTimeoutMs: 2000, requestTimeoutMs: 7000, keepAliveTimeoutMs: 3000 });
  try {
    const http = t.server.httpServer;
    assert.deepEqual([http.headersTimeout, http.requestTimeout, http.keepAliveTimeout], [2000, 7000, 3000]);
  } finally {
    await t.stop();
  }
});
