// What the server does with its engine's health, registry and shared stores, with a memory engine whose
// health is switched by the test (the Redis engine's behaviour has its own integration tests).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectV1, startServer } from './helpers.js';
import { createMemoryEngine } from '../src/index.js';
import type { ClusterCounts, Engine, EngineHealth, NodeRegistry } from '../src/index.js';

async function get(url: string): Promise<{ status: number; body: Record<string, unknown>; text: string }> {
  const res = await fetch(url);
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // Prometheus text
  }
  return { status: res.status, body, text };
}

test('/ready follows the engine: 503 with the reason while it cannot serve, /health stays 200', async () => {
  let health: EngineHealth = { ready: true };
  const engine: Engine = { ...createMemoryEngine(), health: () => health };
  const t = await startServer({ engine });
  try {
    assert.equal((await get(`${t.httpUrl}/ready`)).status, 200);
    assert.match((await get(`${t.httpUrl}/metrics`)).text, /^switchboard_ready 1$/m);
    health = { ready: false, reason: 'redis unreachable', details: { command: 'reconnecting' } };
    const ready = await get(`${t.httpUrl}/ready`);
    assert.equal(ready.status, 503);
    assert.deepEqual(ready.body, {
      status: 'not_ready',
      reason: 'redis unreachable',
      details: { command: 'reconnecting' },
    });
    assert.equal((await get(`${t.httpUrl}/health`)).status, 200);
    assert.match((await get(`${t.httpUrl}/metrics`)).text, /^switchboard_ready 0$/m);
    // Open connections keep their service while the engine is away.
    const { client } = await connectV1(t);
    await client.request({ id: 1, type: 'subscribe', channel: 'still' });
    health = { ready: true };
    assert.equal((await get(`${t.httpUrl}/ready`)).status, 200);
    client.close();
  } finally {
    await t.stop();
  }
});

test('/stats shows cluster counts from the node registry, this node alone without one, and survives its failure', async () => {
  let fail = false;
  let reported: (() => { connections: number }) | null = null;
  const nodes: NodeRegistry = {
    start: (local) => {
      reported = local;
      return Promise.resolve();
    },
    counts: (): Promise<ClusterCounts> =>
      fail
        ? Promise.reject(new Error('redis unreachable'))
        : Promise.resolve({ nodes: 3, connections: 40, users: 12, channels: 7 }),
    close: () => Promise.resolve(),
  };
  const alone = await startServer();
  const t = await startServer({ engine: { ...createMemoryEngine(), nodes } });
  try {
    const { client } = await connectV1(alone);
    const single = await get(`${alone.httpUrl}/stats`);
    assert.deepEqual(single.body['cluster'], { nodes: 1, connections: 1, users: 0, channels: 0 });
    assert.deepEqual((await get(`${t.httpUrl}/stats`)).body['cluster'], {
      nodes: 3,
      connections: 40,
      users: 12,
      channels: 7,
    });
    assert.ok(reported !== null, 'the server started reporting its counts');
    fail = true;
    const failed = await get(`${t.httpUrl}/stats`);
    assert.equal(failed.status, 200, 'the node still answers for itself');
    assert.equal(failed.body['cluster'], null);
    assert.equal(failed.body['clusterError'], 'redis unreachable');
    assert.equal(typeof failed.body['connections'], 'number');
    client.close();
  } finally {
    await alone.stop();
    await t.stop();
  }
});
