// Admission control (issue 15): a saturated node (event loop late, or over its accept budget) refuses new
// connections with 503 and Retry-After before the upgrade, while its open connections keep their service.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { ADMISSION_LIMITS_OFF } from '../src/index.js';
import { connectV1, metricSample, startServer } from './helpers.js';
import type { TestServer } from './helpers.js';

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

async function metrics(t: TestServer): Promise<string> {
  return (await fetch(`${t.httpUrl}/metrics`)).text();
}

test('a blocked event loop: new connections get 503 with Retry-After, open ones still get their messages', async () => {
  const t = await startServer({ ...ADMISSION_LIMITS_OFF, admissionLoopDelayMs: 300 });
  try {
    const { client } = await connectV1(t);
    await client.request({ id: 1, type: 'subscribe', channel: 'news' });
    // The server shares this process: a synchronous spin is a saturated node's event loop.
    const until = Date.now() + 1200;
    while (Date.now() < until) {
      // spin
    }
    assert.deepEqual(await refusedUpgrade(`${t.wsUrl}/ws`), {
      status: 503,
      retryAfter: '1',
      code: 'unavailable',
    });
    await t.server.publish('news', 'still served');
    const message = await client.nextOfType('message');
    assert.equal(message['data'], 'still served');
    const text = await metrics(t);
    assert.equal(metricSample(text, 'switchboard_admission_refused_total{reason="event_loop_delay"}'), 1);
    assert.equal(metricSample(text, 'switchboard_limits_rejected_total{limit="event_loop_delay"}'), 1);
  } finally {
    await t.stop();
  }
});

test('over the accept budget (connectionRate): 503 with Retry-After, counted as accept_budget', async () => {
  const t = await startServer({ ...ADMISSION_LIMITS_OFF, connectionRate: 2, connectionBurst: 2 });
  try {
    await connectV1(t);
    await connectV1(t);
    const refused = await refusedUpgrade(`${t.wsUrl}/ws`);
    assert.equal(refused.status, 503);
    assert.equal(refused.code, 'unavailable');
    assert.ok(Number(refused.retryAfter) >= 1, `Retry-After ${refused.retryAfter}`);
    const text = await metrics(t);
    assert.equal(metricSample(text, 'switchboard_admission_refused_total{reason="accept_budget"}'), 1);
  } finally {
    await t.stop();
  }
});

test('admission control is off by default: no sampler, nothing refused for a late loop', async () => {
  const t = await startServer({ ...ADMISSION_LIMITS_OFF });
  try {
    const until = Date.now() + 600;
    while (Date.now() < until) {
      // spin
    }
    const { client } = await connectV1(t);
    client.close();
  } finally {
    await t.stop();
  }
});
