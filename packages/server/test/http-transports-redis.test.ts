/**
 * Protocol v1 over HTTP across nodes (issue 14): a connection held by node A whose POSTs land on node B
 * (no sticky sessions for commands) works: B routes them to A through the broker (Redis pub/sub), A
 * checks the secret and hands them to the connection. The SDK's `fetch` sends every POST to B.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { SwitchboardClient } from '@switchboard/client';
import { connectV1 } from './helpers.js';
import { redisRequirement, startRedis } from './redis-harness.js';
import type { RedisProcess } from './redis-harness.js';
import { testScope, uniquePrefix } from './scale-helpers.js';

const SUITE = { skip: redisRequirement.skip };
const T = { timeout: 15_000 };

const scope = testScope();

describe('HTTP transports over one Redis', SUITE, () => {
  let redis: RedisProcess | undefined;

  before(async () => {
    if (redisRequirement.skip !== false) return;
    redisRequirement.assert();
    redis = await startRedis();
  });

  after(async () => {
    await redis?.stop();
  });

  for (const transport of ['sse', 'polling'] as const) {
    it(`${transport} on node A, every POST on node B: subscribe, publish both ways, replies`, T, async () => {
      if (redis === undefined) throw new Error('redis was not started');
      const prefix = uniquePrefix();
      const a = await scope.node(redis.url, prefix);
      const b = await scope.node(redis.url, prefix);
      const posted: string[] = [];
      // Streams and polls go to A (the URL); every POST is sent to B instead, as a load balancer might.
      const toB: typeof fetch = (input, init) => {
        const url = String(input);
        if (init?.method !== 'POST') return fetch(input, init);
        posted.push(url);
        return fetch(url.replace(`:${a.server.port}/`, `:${b.server.port}/`), init);
      };
      const c = new SwitchboardClient(`${a.wsUrl}/ws`, { WebSocket, transports: [transport], fetch: toB });
      scope.defer(() => c.close());
      await c.connect();
      const news = c.subscribe('news');
      await news.ready({ timeoutMs: 5000 });
      assert.ok(posted.length >= 1, 'the subscribe went by POST');
      const got: unknown[] = [];
      news.on('message', (m) => got.push(m.data));
      // A publish on B reaches the connection on A.
      await b.server.publish('news', 'from B');
      // A publish from the client (a POST through B, routed to A) reaches a WebSocket subscriber on B.
      const { client: ws } = await connectV1(b);
      ws.send({ type: 'subscribe', id: 1, channel: 'news' });
      await ws.reply(1);
      await c.publish('news', 'from the client');
      const seen = (await ws.nextOfType('message')) as { data: unknown };
      assert.equal(seen.data, 'from the client');
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`got ${JSON.stringify(got)}`)), 5000);
        const check = (): void => {
          if (got.includes('from B') && got.includes('from the client')) {
            clearTimeout(timer);
            resolve();
          } else setTimeout(check, 10);
        };
        check();
      });
      assert.ok(posted.every((url) => url.includes(`:${a.server.port}/`)));
    });
  }

  it(
    'a POST on node B with a wrong secret is dropped on node A; the connection is unaffected',
    T,
    async () => {
      if (redis === undefined) throw new Error('redis was not started');
      const prefix = uniquePrefix();
      const a = await scope.node(redis.url, prefix);
      const b = await scope.node(redis.url, prefix);
      const open = (await (await fetch(`${a.httpUrl}/v1/poll`)).json()) as {
        connection: string;
        secret: string;
      };
      assert.ok(open.connection.startsWith(`${a.server.nodeId}.`), open.connection);
      const poll = async (cursor: number) =>
        (await (
          await fetch(`${a.httpUrl}/v1/poll/${encodeURIComponent(open.connection)}?cursor=${cursor}`, {
            headers: { 'x-switchboard-secret': open.secret },
          })
        ).json()) as { cursor: number; frames: { type: string; id?: number }[] };
      const first = await poll(0);
      const post = (secret: string, frame: object) =>
        fetch(`${b.httpUrl}/v1/connections/${encodeURIComponent(open.connection)}`, {
          method: 'POST',
          headers: { 'x-switchboard-secret': secret },
          body: JSON.stringify(frame),
        });
      assert.equal((await post('wrong', { type: 'subscribe', id: 1, channel: 'news' })).status, 202);
      assert.equal((await post(open.secret, { type: 'subscribe', id: 2, channel: 'news' })).status, 202);
      const answer = await poll(first.cursor);
      assert.deepEqual(
        answer.frames.map((f) => [f.type, f.id]),
        [['reply', 2]],
        'only the frame with the right secret was handled',
      );
    },
  );
});
