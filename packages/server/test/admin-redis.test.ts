/**
 * The dashboard across nodes (docs/admin.md): two nodes over one Redis (test/redis-harness.ts). The
 * page's connection on node A receives the snapshots of both nodes; A's overview lists both; A's user
 * detail and search find what node B holds (a question over the broker, answered by B); an action on A
 * reaches a connection on B; a node that is live but silent makes the answer `partial` after the
 * deadline.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { SwitchboardClient } from '@switchboard/client';
import { connectV1 } from './helpers.js';
import { redisRequirement, startRedis } from './redis-harness.js';
import type { RedisProcess } from './redis-harness.js';
import { eventually, testScope, uniquePrefix } from './scale-helpers.js';
import type { RedisNode } from './scale-helpers.js';
import { ADMIN_PASSWORD, signIn } from './admin-helpers.js';

const SUITE = { skip: redisRequirement.skip };
const T = { timeout: 30_000 };
const ADMIN = { admin: { password: ADMIN_PASSWORD, intervalMs: 100 } } as const;

const scope = testScope();

describe('admin dashboard over one Redis', SUITE, () => {
  let redis: RedisProcess | undefined;

  before(async () => {
    if (redisRequirement.skip !== false) return;
    redisRequirement.assert();
    redis = await startRedis();
  });

  after(async () => {
    await redis?.stop();
  });

  async function twoNodes(): Promise<[RedisNode, RedisNode]> {
    if (redis === undefined) throw new Error('redis was not started');
    const prefix = uniquePrefix();
    const a = await scope.node(redis.url, prefix, { server: ADMIN });
    const b = await scope.node(redis.url, prefix, { server: ADMIN });
    return [a, b];
  }

  it(
    "the page's connection on node A receives the snapshots of both nodes; A's overview lists both",
    T,
    async () => {
      const [a, b] = await twoNodes();
      const admin = await signIn(a.httpUrl);
      const client = new SwitchboardClient(`${a.wsUrl}/ws`, {
        WebSocket,
        tokenTransport: 'subprotocol',
        token: async () => (await admin.post<{ token: string }>('/connect')).body.token,
      });
      scope.defer(() => client.close());
      const seen = new Set<string>();
      const both = new Promise<void>((resolve) =>
        client.subscribe('$admin:nodes').on('message', (m) => {
          seen.add((m.data as { nodeId: string }).nodeId);
          if (seen.has(a.server.nodeId) && seen.has(b.server.nodeId)) resolve();
        }),
      );
      await client.connect();
      await both;
      const overview = await eventually(async () => {
        const { body } = await admin.get<{
          nodes: { nodeId: string; redis: { ready: boolean } | null }[];
          cluster: { nodes: number } | null;
        }>('/overview');
        return body.nodes.length === 2 && body.cluster?.nodes === 2 ? body : undefined;
      }, 'both nodes in the overview');
      assert.deepEqual(
        overview.nodes.map((n) => n.nodeId),
        [a.server.nodeId, b.server.nodeId].sort(),
      );
      assert.ok(
        overview.nodes.every((n) => n.redis?.ready === true),
        'the Redis engine reports its health',
      );
    },
  );

  it(
    "user detail and search on node A find what node B holds; an action on A closes B's connection",
    T,
    async () => {
      const [a, b] = await twoNodes();
      const admin = await signIn(a.httpUrl);
      const { client: onB, connected } = await connectV1(b, {}, '?user=bea');
      await onB.request({ id: 1, type: 'subscribe', channel: 'far:room' });
      // A knows B once B's snapshot arrived; until then it asks nobody else.
      const detail = await eventually(async () => {
        const { body } = await admin.get<{
          partial: boolean;
          connections: { id: string; nodeId: string; transport: string; channels: string[] }[];
        }>('/users/bea');
        return body.connections.length === 1 ? body : undefined;
      }, "bea's connection on B, seen from A");
      assert.equal(detail.partial, false);
      assert.deepEqual(detail.connections[0], {
        ...detail.connections[0],
        id: connected['connectionId'],
        nodeId: b.server.nodeId,
        transport: 'websocket',
        channels: ['far:room'],
      });
      const found = await admin.get<{ users: unknown[]; channels: unknown[]; partial: boolean }>(
        '/search?q=ea',
      );
      assert.deepEqual(found.body, {
        users: [{ userId: 'bea', connections: 1 }],
        channels: [],
        partial: false,
      });
      const rooms = await admin.get<{ channels: unknown[] }>('/search?q=far');
      assert.deepEqual(rooms.body.channels, [{ name: 'far:room', members: 1 }]);
      assert.deepEqual((await admin.post('/users/bea/disconnect')).body, { ok: true });
      assert.equal((await onB.closed).code, 4502);
    },
  );

  it('a node that is live but does not answer: the answer comes after the deadline, partial', T, async () => {
    const [a] = await twoNodes();
    const admin = await signIn(a.httpUrl);
    // A snapshot of a node that never answers questions (the library API may publish anywhere).
    const ghost = { nodeId: 'ghost', time: Date.now(), intervalMs: 60_000 };
    await a.server.publish('$admin:nodes', ghost, { ephemeral: true });
    await eventually(async () => {
      const { body } = await admin.get<{ nodes: { nodeId: string }[] }>('/overview');
      return body.nodes.some((n) => n.nodeId === 'ghost');
    }, 'the ghost in the overview');
    const started = Date.now();
    const { body } = await admin.get<{ partial: boolean; connections: unknown[] }>('/users/nobody');
    assert.equal(body.partial, true);
    assert.ok(Date.now() - started >= 900, 'waited for the deadline');
  });
});
