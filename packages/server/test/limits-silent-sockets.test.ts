/**
 * Silent sockets: a TCP connection that has not delivered a complete request head within
 * `silentSocketTimeoutMs` of its accept is closed (408, or a plain close in the middle of a TLS handshake),
 * and until it speaks it counts against `maxConnectionsPerIp` of its peer address, so one address cannot
 * pile them up. Other addresses, and sockets that spoke, keep their service. Extra client addresses are
 * other loopback addresses (127.0.0.2, ...), which Linux routes to the listener on 127.0.0.1.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { PrometheusMetrics } from '../src/index.js';
import { connectV1, startServer } from './helpers.js';
import { assertRefused, assertServed, attempt, metric, rawClient } from './limits-helpers.js';
import type { RawClient } from './limits-helpers.js';
import { selfSigned } from './self-signed.js';
import type { SelfSigned } from './self-signed.js';

const DEADLINE_MS = 300;
const ANOTHER = '127.0.0.2';
const A_THIRD = '127.0.0.3';

/** Assert that `client` was closed with Node's 408, after the deadline and well before Node's own. */
async function assertTimedOut(client: RawClient, deadlineMs = DEADLINE_MS): Promise<void> {
  const elapsed = await client.ended;
  assert.ok(elapsed >= deadlineMs - 50, `closed after ${elapsed} ms, before the deadline`);
  // The sweep runs every quarter of the deadline; headersTimeoutMs (10 s) is far away.
  assert.ok(elapsed < deadlineMs + 2000, `closed only after ${elapsed} ms`);
  assert.equal(client.received(), 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n');
}

/** The first `n` of `clients` to be closed, in the order they closed. */
function firstToEnd(clients: readonly RawClient[], n: number): Promise<RawClient[]> {
  return new Promise((resolve) => {
    const ended: RawClient[] = [];
    for (const c of clients) {
      void c.ended.then(() => {
        ended.push(c);
        if (ended.length === n) resolve(ended);
      });
    }
  });
}

/** The status line and JSON error of a refusal written on a raw socket. */
function refusalOf(text: string): { status: string; code: string | undefined } {
  const [head = '', body = ''] = text.split('\r\n\r\n');
  const code = body === '' ? undefined : (JSON.parse(body) as { error?: { code?: string } }).error?.code;
  return { status: head.split('\r\n')[0] ?? '', code };
}

test('a socket that sends nothing, and one that never finishes its head, are closed with 408 at the deadline', async () => {
  // Node's own head deadline stays at its 10 s default: only the silent-socket deadline can act in time.
  const t = await startServer({ silentSocketTimeoutMs: DEADLINE_MS });
  try {
    const { client: bystander } = await connectV1(t);
    const silent = await rawClient(t);
    const dribbler = await rawClient(t);
    dribbler.socket.write('GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n');
    await assertTimedOut(silent);
    await assertTimedOut(dribbler);
    // The bystander spoke at once and has now been open past the deadline: it keeps its service.
    await assertServed(bystander);
    assert.equal(await metric(t, 'switchboard_limits_rejected_total', { limit: 'silent_socket' }), 2);
    assert.equal(await metric(t, 'switchboard_limits_rejected_total', { limit: 'request_timeout' }), 0);
    bystander.close();
  } finally {
    await t.stop();
  }
});

test('silent sockets count against maxConnectionsPerIp: past the cap they are refused at once with 429, other addresses are served', async () => {
  const cap = 4;
  const t = await startServer({ silentSocketTimeoutMs: 1000, maxConnectionsPerIp: cap });
  try {
    const { client: bystander } = await connectV1(t);
    // Twice the cap from one address: half of them sit, the other half is refused on arrival.
    const silent = await Promise.all(
      Array.from({ length: 2 * cap }, () => rawClient(t, { localAddress: ANOTHER })),
    );
    const refusedAtOnce = await firstToEnd(silent, cap);
    for (const c of refusedAtOnce) {
      assert.deepEqual(refusalOf(c.received()), {
        status: 'HTTP/1.1 429 Too Many Requests',
        code: 'rate_limited',
      });
    }
    // While the others sit, the address's WebSocket handshakes are refused too; another address is served.
    assertRefused(await attempt(`${t.wsUrl}/ws`, { localAddress: ANOTHER }), 429, 'rate_limited');
    assert.deepEqual(await attempt(`${t.wsUrl}/ws`, { localAddress: A_THIRD }), { opened: true });
    await assertServed(bystander);
    const sitting = silent.filter((c) => !refusedAtOnce.includes(c));
    for (const c of sitting) await assertTimedOut(c, 1000);
    // Their places are free again.
    assert.deepEqual(await attempt(`${t.wsUrl}/ws`, { localAddress: ANOTHER }), { opened: true });
    assert.equal(await metric(t, 'switchboard_limits_rejected_total', { limit: 'ip_connections' }), cap + 1);
    assert.equal(await metric(t, 'switchboard_limits_rejected_total', { limit: 'silent_socket' }), cap);
    bystander.close();
  } finally {
    await t.stop();
  }
});

test('an address whose WebSocket connections fill its cap can still reach the HTTP API', async () => {
  const t = await startServer({ maxConnectionsPerIp: 2 });
  try {
    const { client: one } = await connectV1(t);
    const { client: two } = await connectV1(t);
    assertRefused(await attempt(`${t.wsUrl}/ws`), 429, 'rate_limited');
    const health = await fetch(`${t.httpUrl}/health`);
    assert.equal(health.status, 200);
    await health.arrayBuffer();
    await assertServed(one);
    one.close();
    two.close();
  } finally {
    await t.stop();
  }
});

test('sockets that spoke are left alone: a keep-alive HTTP socket outlives the deadline', async () => {
  const t = await startServer({ silentSocketTimeoutMs: DEADLINE_MS, keepAliveTimeoutMs: 10_000 });
  try {
    const keepAlive = await rawClient(t);
    const request = 'GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n';
    const answered = async (count: number): Promise<void> => {
      while ((keepAlive.received().match(/HTTP\/1\.1 200 OK/g) ?? []).length < count)
        await new Promise((resolve) => keepAlive.socket.once('data', resolve));
    };
    keepAlive.socket.write(request);
    await answered(1);
    // A socket accepted after it is past the deadline: so is the keep-alive socket.
    await assertTimedOut(await rawClient(t));
    keepAlive.socket.write(request);
    await answered(2);
    assert.equal(await metric(t, 'switchboard_limits_rejected_total', { limit: 'silent_socket' }), 1);
    keepAlive.socket.destroy();
  } finally {
    await t.stop();
  }
});

test('a head that arrived while the event loop was stalled past the deadline is served, not taken for silence', async () => {
  const t = await startServer({ silentSocketTimeoutMs: DEADLINE_MS });
  try {
    const accepted = new Promise((resolve) => t.server.httpServer.once('connection', resolve));
    const client = await rawClient(t);
    await accepted;
    client.socket.write('GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    // A stall (a long GC, a burst of handshakes) longer than the deadline, with the head already sent:
    // when the loop resumes, the sweep's timer runs before the read that would deliver the head.
    const until = Date.now() + 2 * DEADLINE_MS;
    while (Date.now() < until) {
      // busy: nothing else runs
    }
    await client.ended;
    assert.match(client.received(), /^HTTP\/1\.1 200 OK/);
    assert.equal(await metric(t, 'switchboard_limits_rejected_total', { limit: 'silent_socket' }), 0);
  } finally {
    await t.stop();
  }
});

test("a trusted proxy's sockets are not counted against its address (each request it forwards is), but have the deadline", async () => {
  const t = await startServer({
    silentSocketTimeoutMs: DEADLINE_MS,
    maxConnectionsPerIp: 2,
    trustedProxies: ['127.0.0.1'],
  });
  try {
    const silent = await Promise.all(Array.from({ length: 5 }, () => rawClient(t)));
    for (const c of silent) await assertTimedOut(c);
    assert.equal(await metric(t, 'switchboard_limits_rejected_total', { limit: 'ip_connections' }), 0);
  } finally {
    await t.stop();
  }
});

const NO_OPENSSL =
  spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0
    ? false
    : 'the openssl command is not installed: it makes this run’s test certificate';

describe('over TLS', { skip: NO_OPENSSL }, () => {
  let cert: SelfSigned | undefined;
  before(() => {
    cert = selfSigned();
  });
  after(() => cert?.remove());

  test('a socket that never starts its TLS handshake is closed at the deadline; one that finishes it and says nothing gets 408', async () => {
    // Node's own head deadline never starts for the first: there is no HTTP parser before TLS is done.
    // /metrics is served over https here; the registry is read directly instead.
    const { certFile, keyFile, pem } = cert ?? assert.fail('no certificate');
    const metrics = new PrometheusMetrics({ processMetrics: false });
    const t = await startServer({ silentSocketTimeoutMs: DEADLINE_MS, tls: { certFile, keyFile }, metrics });
    try {
      const ca = pem;
      const bare = await rawClient(t);
      const secure = await rawClient(t, { tlsCa: ca });
      const elapsed = await bare.ended;
      assert.ok(elapsed < DEADLINE_MS + 2000, `closed only after ${elapsed} ms`);
      assert.equal(bare.received(), '');
      await assertTimedOut(secure);
      assert.match(
        (await metrics.render()).body,
        /^switchboard_limits_rejected_total\{limit="silent_socket"\} 2$/m,
      );
    } finally {
      await t.stop();
    }
  });
});
