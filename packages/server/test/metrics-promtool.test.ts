// `promtool check metrics` (Prometheus's own linter) on a live /metrics after traffic: no error and no
// lint complaint (a gauge named like a counter, a missing HELP, a bad unit suffix...).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { connectV1, startServer, upgradeStatus } from './helpers.js';
import type { TestServer } from './helpers.js';
import { promtoolPath, requirement } from './requirements.js';

const needPromtool = requirement('promtool', promtoolPath() !== undefined);

describe('promtool check metrics', { skip: needPromtool.skip }, () => {
  let t: TestServer;
  before(async () => {
    t = await startServer({ heartbeatIntervalMs: 20, heartbeatTimeoutMs: 60, maxMessageBytes: 1024 });
  });
  after(() => t?.stop());

  test('passes on a live /metrics with traffic', async () => {
    needPromtool.assert();
    // Traffic that fills the labelled counters: opens and closes by both sides, frames, publishes,
    // deliveries, error replies, refused handshakes, heartbeat ticks, an HTTP API publish.
    const { client } = await connectV1(t);
    await client.request({ id: 1, type: 'subscribe', channel: 'news' });
    await client.request({ id: 2, type: 'publish', channel: 'news', data: { n: 1 } });
    await client.nextOfType('message');
    client.send('not json');
    await client.nextOfType('error');
    const response = await fetch(`${t.httpUrl}/api/publish`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ channel: 'news', data: { n: 2 } }),
    });
    assert.equal(response.status, 200);
    assert.equal((await upgradeStatus(`${t.wsUrl}/nowhere`)).status, 404);
    client.close();
    await client.closed;
    const big = await connectV1(t);
    big.client.send({ type: 'publish', channel: 'c', data: 'x'.repeat(2000) });
    await big.client.closed;

    const text = await (await fetch(`${t.httpUrl}/metrics`)).text();
    assert.match(text, /switchboard_connections_closed_total\{[^}]*by="server"/);
    const promtool = promtoolPath() as string;
    const checked = spawnSync(promtool, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    assert.equal(
      checked.status,
      0,
      `promtool check metrics exited ${String(checked.status)}:\n${checked.stdout}${checked.stderr}`,
    );
    // Lint problems are printed even when they are only warnings: there must be none.
    assert.equal(`${checked.stdout}${checked.stderr}`.trim(), '');
    assert.doesNotMatch(text, /^# TYPE \S+_total gauge$/m);
  });
});
