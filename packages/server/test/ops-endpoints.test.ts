// Operations endpoints (docs/http-api.md): /health, /ready, /stats, /metrics, and basePath moving them all.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect, connectV1, metricSample, startServer, upgradeStatus } from './helpers.js';
import type { TestClient, TestServer } from './helpers.js';
import { createServer } from '../src/index.js';
import type { Authenticator, ChannelStats } from '../src/index.js';

const API_KEY = 'ops-api-key-0123456789abcdef';

/** The user id comes from the `user` query parameter; anonymous without it. */
const authenticator: Authenticator = {
  authenticate: async (req) => ({ ok: true, principal: { userId: req.url.searchParams.get('user') } }),
};

async function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; type: string; text: string }> {
  const res = await fetch(url, { headers });
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
}

async function getJson(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: unknown }> {
  const res = await get(url, headers);
  assert.match(res.type, /^application\/json/, `${url} answered ${res.type}`);
  return { status: res.status, body: JSON.parse(res.text) as unknown };
}

async function subscribe(client: TestClient, channel: string): Promise<void> {
  const reply = await client.request({ id: 1, type: 'subscribe', channel });
  assert.ok('result' in reply, `subscribe failed: ${JSON.stringify(reply)}`);
}

async function closeAll(...clients: TestClient[]): Promise<void> {
  await Promise.all(
    clients.map((c) => {
      c.close();
      return c.closed;
    }),
  );
}

/** /health's answer while nothing is degraded (its other fields: ops-observability.test.ts). */
function assertHealthy(answer: { status: number; body: unknown }): void {
  assert.equal(answer.status, 200);
  assert.equal((answer.body as { status: string }).status, 'ok');
  assert.deepEqual((answer.body as { reasons: unknown[] }).reasons, []);
}

describe('/health and /ready', () => {
  test('/health answers 200 {"status":"ok"}, to HEAD too', async () => {
    const t = await startServer();
    assertHealthy(await getJson(`${t.httpUrl}/health`));
    const head = await fetch(`${t.httpUrl}/health`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    await t.stop();
  });

  test('/ready answers 200 while running and 503 while stopping', async () => {
    const t = await startServer();
    assert.deepEqual(await getJson(`${t.httpUrl}/ready`), { status: 200, body: { status: 'ready' } });
    const { client } = await connectV1(t);
    // A paused client cannot answer the close handshake, which holds stop() in its "stopping" phase.
    client.ws.pause();
    const stopped = t.stop();
    assert.deepEqual(await getJson(`${t.httpUrl}/ready`), { status: 503, body: { status: 'stopping' } });
    // Liveness is not readiness: the process is still healthy while it drains.
    assertHealthy(await getJson(`${t.httpUrl}/health`));
    client.ws.resume();
    assert.equal((await client.closed).code, 1001);
    await stopped;
  });

  test('/ready answers 503 before start and after stop when the application routes to Switchboard', async () => {
    // Attach mode with the application's own listener delegating to handleRequest(): the only setup in
    // which Switchboard still answers once it has stopped (an owned HTTP server is closed by stop()).
    const http = createHttpServer((req, res) => {
      if (switchboard.handleRequest(req, res)) return;
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('application 404');
    });
    const switchboard = createServer({ server: http });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    try {
      assert.deepEqual(await getJson(`${base}/ready`), { status: 503, body: { status: 'idle' } });
      await switchboard.start();
      assert.deepEqual(await getJson(`${base}/ready`), { status: 200, body: { status: 'ready' } });
      assert.deepEqual(await get(`${base}/elsewhere`), {
        status: 404,
        type: 'text/plain',
        text: 'application 404',
      });
      await switchboard.stop();
      assert.deepEqual(await getJson(`${base}/ready`), { status: 503, body: { status: 'stopped' } });
      assertHealthy(await getJson(`${base}/health`));
    } finally {
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
    }
  });
});

describe('/stats', () => {
  let t: TestServer;
  before(async () => {
    t = await startServer({ authenticator });
  });
  after(() => t.stop());

  test('shape: connections, users, channels with member counts, messages, errors, uptime', async () => {
    const { client: a } = await connectV1(t, {}, '?user=alice');
    const { client: b } = await connectV1(t, {}, '?user=alice');
    const { client: c } = await connectV1(t, {}, '?user=bob');
    const { client: anonymous } = await connectV1(t);
    for (const client of [a, b, c]) await subscribe(client, 'news');
    await subscribe(a, 'sports');
    const room = await connect(`${t.wsUrl}/ws/lobby`);

    const published = await fetch(`${t.httpUrl}/api/publish`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ channel: 'news', data: 'headline' }),
    });
    assert.equal(published.status, 200);
    for (const client of [a, b, c]) assert.equal((await client.nextOfType('message'))['data'], 'headline');
    anonymous.send('not json');
    assert.equal((await anonymous.nextOfType('error'))['code'], 'invalid_json');

    const { status, body } = await getJson(`${t.httpUrl}/stats`);
    assert.equal(status, 200);
    const stats = body as Record<string, unknown>;
    assert.equal(typeof stats['nodeId'], 'string');
    assert.equal(stats['state'], 'running');
    assert.equal(stats['connections'], 5);
    assert.equal(stats['connectionsAccepted'], 5);
    assert.equal(stats['users'], 2);
    const channels = stats['channels'] as { total: number; truncated: boolean; list: ChannelStats[] };
    assert.deepEqual(
      { ...channels, list: channels.list.map(({ name, members }) => ({ name, members })) },
      {
        total: 3,
        truncated: false,
        // Largest first, then by name (each with its activity: ops-observability.test.ts).
        list: [
          { name: 'news', members: 3 },
          { name: 'lobby', members: 1 },
          { name: 'sports', members: 1 },
        ],
      },
    );
    // Received: 4 subscribes and the invalid frame; published and delivered: the one publish to 3 members.
    assert.deepEqual(stats['messages'], { received: 5, published: 1, delivered: 3, dropped: 0 });
    assert.equal(stats['errors'], 1);
    assert.equal(typeof stats['uptimeMs'], 'number');
    assert.ok((stats['uptimeMs'] as number) >= 0);
    assert.ok(!Number.isNaN(Date.parse(stats['startedAt'] as string)));
    const heartbeat = stats['heartbeat'] as Record<string, unknown>;
    assert.deepEqual(Object.keys(heartbeat).sort(), ['intervalMs', 'slots', 'tickMs', 'timeoutMs']);
    // The memory engine does not pace history reads: none ever waits, and there are no bounds to report
    // (redis-history-reads-metrics.test.ts has the Redis engine's).
    assert.deepEqual(stats['historyReads'], {
      running: 0,
      waiting: 0,
      refused: { queueFull: 0, waitedTooLong: 0 },
      limits: null,
    });

    // /api/stats is the same document.
    const api = (await getJson(`${t.httpUrl}/api/stats`)).body as Record<string, unknown>;
    // The rates move between two reads: the channels and their members are the same.
    const names = (document: Record<string, unknown>): unknown =>
      (document['channels'] as { list: ChannelStats[] }).list.map(({ name, members }) => ({ name, members }));
    assert.deepEqual(names(api), names(stats));
    assert.equal(api['connections'], 5);

    await closeAll(a, b, c, anonymous, room);
  });

  test('/stats needs the API key when one is configured', async () => {
    const keyed = await startServer({ apiKey: API_KEY });
    const refused = await getJson(`${keyed.httpUrl}/stats`);
    assert.equal(refused.status, 401);
    assert.deepEqual(refused.body, {
      error: { code: 'unauthorized', message: 'missing or wrong API key', temporary: false },
    });
    assert.equal(
      (await getJson(`${keyed.httpUrl}/stats`, { authorization: `Bearer ${API_KEY}` })).status,
      200,
    );
    assert.equal((await getJson(`${keyed.httpUrl}/stats`, { 'x-api-key': API_KEY })).status, 200);
    await keyed.stop();
  });
});

describe('/metrics', () => {
  test('Prometheus text with connection and delivery metrics, open even with an API key', async () => {
    const t = await startServer({ apiKey: API_KEY });
    const { client: a } = await connectV1(t);
    const { client: b } = await connectV1(t);
    await subscribe(a, 'm');
    await subscribe(b, 'm');
    const published = await fetch(`${t.httpUrl}/api/publish`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
      body: JSON.stringify({ channel: 'm', data: 1 }),
    });
    assert.equal(published.status, 200);
    await a.nextOfType('message');
    await b.nextOfType('message');

    const res = await get(`${t.httpUrl}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.type, /^text\/plain/);
    assert.match(res.text, /^# HELP switchboard_connections /m);
    assert.match(res.text, /^# TYPE switchboard_messages_delivered_total counter$/m);
    assert.equal(metricSample(res.text, 'switchboard_connections'), 2);
    assert.equal(metricSample(res.text, 'switchboard_channels'), 1);
    assert.equal(metricSample(res.text, 'switchboard_messages_delivered_total'), 2);
    // Exported with the memory engine too, as 0, so that dashboards and alerts need no engine check.
    assert.equal(metricSample(res.text, 'switchboard_history_reads_running'), 0);
    assert.equal(metricSample(res.text, 'switchboard_history_reads_waiting'), 0);
    assert.equal(metricSample(res.text, 'switchboard_history_reads_refused_total{reason="queue_full"}'), 0);
    assert.equal(
      metricSample(res.text, 'switchboard_history_reads_refused_total{reason="waited_too_long"}'),
      0,
    );
    await closeAll(a, b);
    await t.stop();
  });

  test('metricsEndpoint: false removes the route', async () => {
    const t = await startServer({ metricsEndpoint: false });
    const res = await getJson(`${t.httpUrl}/metrics`);
    assert.equal(res.status, 404);
    assert.equal((res.body as { error: { code: string } }).error.code, 'not_found');
    await t.stop();
  });
});

describe('basePath', () => {
  let t: TestServer;
  let root: string;
  before(async () => {
    t = await startServer({ basePath: '/rt' });
    root = `http://127.0.0.1:${t.server.port}`;
  });
  after(() => t.stop());

  test('every HTTP route moves under the base path', async () => {
    assert.equal(t.httpUrl, `${root}/rt`);
    assertHealthy(await getJson(`${root}/rt/health`));
    assert.deepEqual(await getJson(`${root}/rt/ready`), { status: 200, body: { status: 'ready' } });
    assert.equal((await getJson(`${root}/rt/stats`)).status, 200);
    assert.equal((await getJson(`${root}/rt/api/stats`)).status, 200);
    const info = (await getJson(`${root}/rt/api/channels/x`)).body as { epoch: string };
    assert.deepEqual(info, { channel: 'x', members: 0, offset: 0, epoch: info.epoch });
    assert.equal((await get(`${root}/rt/metrics`)).status, 200);
  });

  test('the unprefixed paths and look-alike prefixes are not served', async () => {
    for (const path of [
      '/health',
      '/ready',
      '/stats',
      '/metrics',
      '/api/stats',
      '/rtx/health',
      '/rt/rt/health',
    ]) {
      const res = await getJson(`${root}${path}`);
      assert.equal(res.status, 404, path);
      assert.equal((res.body as { error: { code: string } }).error.code, 'not_found', path);
    }
  });

  test('WebSocket endpoints and the HTTP API work under the base path', async () => {
    const { client } = await connectV1(t);
    assert.ok(t.wsUrl.endsWith('/rt'));
    await subscribe(client, 'moved');
    const room = await connect(`${t.wsUrl}/ws/moved`);
    const published = await fetch(`${root}/rt/api/publish`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ channel: 'moved', data: { hello: 'rt' } }),
    });
    assert.deepEqual(await published.json(), { id: 1 });
    assert.deepEqual((await client.nextOfType('message'))['data'], { hello: 'rt' });
    assert.deepEqual(await room.next(), { hello: 'rt', id: 1 });
    const unprefixed = await fetch(`${root}/api/publish`, { method: 'POST', body: '{}' });
    assert.equal(unprefixed.status, 404);
    await unprefixed.arrayBuffer();
    assert.equal((await upgradeStatus(`ws://127.0.0.1:${t.server.port}/ws`)).status, 404);
    assert.equal((await upgradeStatus(`ws://127.0.0.1:${t.server.port}/ws/moved`)).status, 404);
    await closeAll(client, room);
  });
});
