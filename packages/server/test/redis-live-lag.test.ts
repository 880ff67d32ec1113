/**
 * A node's live feed (Redis pub/sub) can run behind its history reads (commands on another connection):
 * under load, a subscriber can be given message N from history before N reaches the node live. The
 * subscriber must then get N once, not twice, and a fresh subscriber whose subscription starts at N must
 * not get N live. Real Redis; the lag is made with a TCP proxy that holds back what Redis sends on the
 * node's subscriber connection (docs/recovery.md, "Nothing twice").
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connectV1 } from './helpers.js';
import type { TestClient } from './helpers.js';
import { redisRequirement, startRedis } from './redis-harness.js';
import { adminClient, messages, queued, testScope, uniquePrefix } from './scale-helpers.js';
import type { RedisNode } from './scale-helpers.js';
import { TcpProxy } from '../../client/test/tcp-proxy.js';

const SUITE = { skip: redisRequirement.skip };
const T = { timeout: 30_000 };
/** No probe during the test: the held-back subscriber connection would look dead and be reopened. */
const NO_PROBE = { probeIntervalMs: 600_000, probeTimeoutMs: 600_000 };

const scope = testScope();

interface SubscribeResult {
  readonly offset: number;
  readonly epoch: string;
  readonly recovered?: boolean;
  readonly messages?: { id: number; data: unknown }[];
}

async function subscribe(
  client: TestClient,
  id: number,
  channel: string,
  since?: { offset: number; epoch: string },
): Promise<SubscribeResult> {
  const reply = await client.request({ id, type: 'subscribe', channel, ...(since ? { since } : {}) });
  assert.ok(reply['result'] !== undefined, `subscribe refused: ${JSON.stringify(reply)}`);
  return reply['result'] as SubscribeResult;
}

/**
 * A node whose connections to Redis go through a proxy, and `lag()`: hold back what Redis sends on the
 * node's subscriber connection (live publications) until the returned function is called.
 */
async function laggingNode(): Promise<{ node: RedisNode; lag: () => Promise<() => void> }> {
  redisRequirement.assert();
  const redis = await startRedis();
  scope.defer(() => redis.stop());
  const link = await TcpProxy.start(redis.url);
  scope.defer(() => link.close());
  const admin = adminClient(redis.url);
  scope.defer(() => admin.disconnect());
  const node = await scope.node(link.url(redis.url), uniquePrefix(), { engine: NO_PROBE });
  const lag = async (): Promise<() => void> => {
    const clients = String(await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub'));
    const line = clients
      .split('\n')
      .find((entry) => entry.includes(`name=switchboard:sub:${node.server.nodeId}`));
    const port = Number(/ addr=[^ ]*:(\d+) /.exec(` ${line ?? ''} `)?.[1]);
    assert.ok(port > 0, `the node's subscriber connection in CLIENT LIST:\n${clients}`);
    const { held, release } = link.delayWhere((upstreamPort) => upstreamPort === port);
    assert.equal(held, 1);
    return release;
  };
  return { node, lag };
}

describe('a live feed behind history (Redis)', SUITE, () => {
  it('a recovering subscriber given message N from history does not get N again live', T, async () => {
    const { node, lag } = await laggingNode();
    const { client: watcher } = await connectV1(node);
    const start = await subscribe(watcher, 1, 'feed');
    await node.server.publish('feed', { n: 1 });
    assert.deepEqual(await messages(watcher, 1), [{ id: 1, data: { n: 1 } }]);

    const release = await lag();
    // Appended to the stream (the publish has returned) and published, but not yet delivered to the node.
    await node.server.publish('feed', { n: 2 });
    const { client: back } = await connectV1(node);
    const result = await subscribe(back, 1, 'feed', { offset: 1, epoch: start.epoch });
    assert.equal(result.recovered, true);
    assert.deepEqual(
      result.messages?.map((m) => ({ id: m.id, data: m.data })),
      [{ id: 2, data: { n: 2 } }],
    );
    assert.equal(result.offset, 2);
    const { client: fresh } = await connectV1(node);
    assert.equal((await subscribe(fresh, 1, 'feed')).offset, 2, 'a fresh subscription starts after 2');

    release();
    // The late delivery reaches the node: the member that never had 2 gets it now.
    assert.deepEqual(await messages(watcher, 1), [{ id: 2, data: { n: 2 } }]);
    await node.server.publish('feed', { n: 3 });
    for (const client of [watcher, back, fresh]) {
      assert.deepEqual(await messages(client, 1), [{ id: 3, data: { n: 3 } }]);
      assert.deepEqual(queued(client, 'message'), []);
    }
  });

  it('a batching member (?batch=1) recovering N gets it once, and batching resumes after', T, async () => {
    const { node, lag } = await laggingNode();
    const { client: watcher } = await connectV1(node);
    const start = await subscribe(watcher, 1, 'lobby');
    await node.server.publish('lobby', { n: 1 });
    assert.deepEqual(await messages(watcher, 1), [{ id: 1, data: { n: 1 } }]);

    const release = await lag();
    await node.server.publish('lobby', { n: 2 });
    const { client: batching } = await connectV1(node, {}, '?batch=1');
    const recovered = await subscribe(batching, 1, 'lobby', { offset: 1, epoch: start.epoch });
    assert.deepEqual(
      recovered.messages?.map((m) => ({ id: m.id, data: m.data })),
      [{ id: 2, data: { n: 2 } }],
    );

    release();
    assert.deepEqual(await messages(watcher, 1), [{ id: 2, data: { n: 2 } }]);
    await node.server.publish('lobby', { n: 3 });
    assert.deepEqual(await messages(watcher, 1), [{ id: 3, data: { n: 3 } }]);
    assert.deepEqual(await messages(batching, 1), [{ id: 3, data: { n: 3 } }]);
    assert.deepEqual(queued(batching, 'message'), []);
  });
});
