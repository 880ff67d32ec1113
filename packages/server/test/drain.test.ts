// Drain (issue 15): connections leave in jittered batches with 1012 and a reconnect hint, /ready and new
// connections get 503 at once, SSE and polling sessions are drained too, and the server then stops.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { retryAfterHint } from '@switchboard/protocol';
import { ADMISSION_LIMITS_OFF, PrometheusMetrics } from '../src/index.js';
import { connectV1, metricSample, queryUserAuthenticator, startServer, until } from './helpers.js';
import { FakeClock } from './fake-clock.js';
import type { TestServer } from './helpers.js';
import { nextEvent, sdkClient, testScope } from './scale-helpers.js';

const scope = testScope();

/** A refused upgrade's status, Retry-After header and error code. */
function refusedUpgrade(
  url: string,
): Promise<{ status: number; retryAfter: string | undefined; code: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => {
        const code = (JSON.parse(body) as { error: { code: string } }).error.code;
        resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'], code });
      });
    });
    ws.on('open', () => {
      ws.close();
      reject(new Error('upgrade unexpectedly succeeded'));
    });
    ws.on('error', () => {});
  });
}

async function server(drainMs: number, metrics = new PrometheusMetrics()): Promise<TestServer> {
  const t = await startServer({ ...ADMISSION_LIMITS_OFF, drainMs, shutdownTimeoutMs: 500, metrics });
  scope.defer(() => t.stop());
  return t;
}

test('drain closes every connection with 1012 and a hint, in batches spread over the window', async () => {
  const metrics = new PrometheusMetrics();
  const drainMs = 600;
  const t = await server(drainMs, metrics);
  const clients = await Promise.all(Array.from({ length: 60 }, () => connectV1(t)));
  const closes = clients.map(({ client }) => client.closed);
  const drained = t.server.drain();
  assert.equal(t.server.state, 'draining');

  const ready = await fetch(`${t.httpUrl}/ready`);
  assert.equal(ready.status, 503, '/ready fails at once');
  assert.equal(((await ready.json()) as { status: string }).status, 'draining');
  const refused = await refusedUpgrade(`${t.wsUrl}/ws`);
  assert.deepEqual(refused, { status: 503, retryAfter: '1', code: 'shutting_down' });

  const events = await Promise.all(closes);
  await drained;
  assert.equal(t.server.state, 'stopped');
  for (const event of events) {
    assert.equal(event.code, 1012);
    const hint = retryAfterHint(event.reason);
    assert.ok(hint !== null && hint >= 0 && hint <= drainMs, `a hint in ${JSON.stringify(event.reason)}`);
  }
  const text = (await metrics.render()).body;
  assert.equal(metricSample(text, 'switchboard_drain_closed_total'), 60);
  assert.equal(metricSample(text, 'switchboard_admission_refused_total{reason="shutting_down"}'), 1);
  assert.equal(metricSample(text, 'switchboard_draining'), 0, 'the gauge falls back once stopped');
  assert.equal(
    metricSample(text, 'switchboard_connections_closed_total{transport="websocket",code="1012",by="server"}'),
    60,
  );
});

test('the closes come in batches over the window, not at once (a fake clock moves time)', async () => {
  const clock = new FakeClock();
  const drainMs = 1000;
  const t = await startServer({ ...ADMISSION_LIMITS_OFF, drainMs, shutdownTimeoutMs: 500, clock });
  scope.defer(() => t.stop());
  const clients = await Promise.all(Array.from({ length: 40 }, () => connectV1(t)));
  let closed = 0;
  for (const { client } of clients) void client.closed.then(() => closed++);
  const drained = t.server.drain();
  const published = await t.server.publish('news', 'during the drain');
  assert.equal(typeof published.id, 'number', 'the library API still serves while draining');
  const open = (): number => t.server.stats().connections;
  const seen: number[] = [];
  for (let elapsed = 0; elapsed <= drainMs; elapsed += 100) {
    clock.advance(100);
    await new Promise((resolve) => setImmediate(resolve));
    seen.push(open());
  }
  assert.equal(seen.at(-1), 0, `every connection closed within the window: ${seen.join(' ')}`);
  const steps = new Set(seen).size;
  assert.ok(steps >= 6, `the count fell in at least 6 of the 100 ms steps: ${seen.join(' ')}`);
  assert.ok((seen[0] ?? 0) > 20, `most were still open after the first 100 ms: ${seen.join(' ')}`);
  clock.advance(60_000); // the linger and the stop's own waits
  await drained;
  await until(() => closed === 40, 3000, 'every client saw its close');
});

test('the draining gauge is 1 while draining', async () => {
  const t = await server(300);
  await connectV1(t);
  const drained = t.server.drain();
  const text = await (await fetch(`${t.httpUrl}/metrics`)).text();
  assert.equal(metricSample(text, 'switchboard_draining'), 1);
  assert.equal(metricSample(text, 'switchboard_ready'), 0);
  await drained;
});

for (const transport of ['sse', 'polling'] as const) {
  test(`drain closes ${transport} sessions with 1012 and the SDK reconnects after the hint`, async () => {
    const t = await startServer({
      ...ADMISSION_LIMITS_OFF,
      drainMs: 100,
      authenticator: queryUserAuthenticator,
    });
    scope.defer(() => t.stop());
    const client = sdkClient(scope, `${t.wsUrl}/ws?user=ana`, { transports: [transport] });
    await client.connect();
    const lost = nextEvent(client, 'disconnected');
    const reconnecting = nextEvent(client, 'reconnecting');
    await t.server.drain();
    const event = await lost;
    assert.equal(event.code, 1012);
    assert.equal(event.reconnect, true);
    const hint = retryAfterHint(event.reason);
    assert.ok(hint !== null, `a hint in ${event.reason}`);
    assert.equal((await reconnecting).delayMs, hint, 'the SDK waits what the server hinted');
  });
}

test('drainMs 0 closes everything at once; drain() without connections resolves at once', async () => {
  const t = await server(0);
  const { client } = await connectV1(t);
  await t.server.drain();
  assert.equal((await client.closed).code, 1012);
  const empty = await server(60_000);
  await empty.server.drain(); // no connection: no batch to wait for
  assert.equal(empty.server.state, 'stopped');
});

test('stop() during a drain resolves with it; a bad drainMs is refused', async () => {
  const t = await server(200);
  assert.throws(() => t.server.drain({ drainMs: -1 }), { name: 'InvalidArgumentError', code: 'bad_request' });
  assert.throws(() => t.server.drain({ drainMs: 1.5 }), { code: 'bad_request' });
  const { client } = await connectV1(t);
  const drained = t.server.drain({ drainMs: 200 });
  const stopped = t.server.stop();
  await Promise.all([drained, stopped]);
  assert.equal((await client.closed).code, 1012, 'the drain, not a 1001 stop, closed it');
});
