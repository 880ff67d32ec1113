/**
 * Protocol v1 over HTTP across nodes (issue 14): a connection held by node A whose POSTs land on node B
 * (no sticky sessions for commands) works: B routes them to A through the broker (Redis pub/sub), A
 * checks the secret and hands them to the connection. The SDK's `fetch` sends every POST to B. Polls and
 * DELETEs that land on B are forwarded to A and answered back through B; when A is gone, B answers 410
 * within the poll timeout plus its margin.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { SwitchboardClient } from '@switchboard/client';
import { connectV1 } from './helpers.js';
import { redisRequirement, startRedis } from './redis-harness.js';
import type { RedisProcess } from './redis-harness.js';
import { eventually, testScope, uniquePrefix } from './scale-helpers.js';

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

  /** Open a polling connection on `node` (raw HTTP). */
  async function openPoll(node: { httpUrl: string }): Promise<{ connection: string; secret: string }> {
    return (await (await fetch(`${node.httpUrl}/v1/poll`)).json()) as { connection: string; secret: string };
  }

  interface PollBody {
    cursor: number;
    frames: { type: string; id?: number; data?: unknown }[];
    close?: unknown;
  }

  /** One poll of `open` on `node`: its status and body. */
  async function pollOn(
    node: { httpUrl: string },
    open: { connection: string; secret: string },
    cursor: number,
  ): Promise<{ status: number; body: PollBody }> {
    const response = await fetch(
      `${node.httpUrl}/v1/poll/${encodeURIComponent(open.connection)}?cursor=${cursor}`,
      {
        headers: { 'x-switchboard-secret': open.secret },
      },
    );
    return { status: response.status, body: (await response.json()) as PollBody };
  }

  it(
    'polling on node A, every poll and POST on node B: publications from both nodes in order, one connection',
    T,
    async () => {
      if (redis === undefined) throw new Error('redis was not started');
      const prefix = uniquePrefix();
      const a = await scope.node(redis.url, prefix);
      const b = await scope.node(redis.url, prefix);
      let opened = 0;
      let polledOnB = 0;
      // Only the open goes to A (the URL); every poll and POST goes to B, as a round-robin balancer might.
      const toB: typeof fetch = (input, init) => {
        const url = String(input);
        if (/\/v1\/poll(\?|$)/.test(url)) {
          opened++;
          return fetch(input, init);
        }
        if (url.includes('/v1/poll/')) polledOnB++;
        return fetch(url.replace(`:${a.server.port}/`, `:${b.server.port}/`), init);
      };
      const c = new SwitchboardClient(`${a.wsUrl}/ws`, { WebSocket, transports: ['polling'], fetch: toB });
      scope.defer(() => c.close());
      await c.connect();
      const news = c.subscribe('news');
      await news.ready({ timeoutMs: 5000 });
      const got: unknown[] = [];
      news.on('message', (m) => got.push(m.data));
      const sent: string[] = [];
      for (let i = 0; i < 20; i++) {
        const from = i % 2 === 0 ? a : b;
        sent.push(`m${i}`);
        await from.server.publish('news', `m${i}`);
      }
      await eventually(() => got.length >= sent.length, 'every publication', 5000);
      assert.deepEqual(got, sent, 'in order, none lost, none twice');
      assert.equal(opened, 1, 'one connection: no poll answered 410');
      assert.ok(polledOnB >= 2, `polls went to B (${polledOnB})`);
      assert.equal(c.state, 'connected');
      const metrics = await (await fetch(`${b.httpUrl}/metrics`)).text();
      assert.match(
        metrics,
        /^switchboard_http_forwarded_calls_total\{call="poll",outcome="answered"\} [1-9]/m,
      );
    },
  );

  it('a DELETE on node B closes the connection on node A', T, async () => {
    if (redis === undefined) throw new Error('redis was not started');
    const prefix = uniquePrefix();
    const a = await scope.node(redis.url, prefix);
    const b = await scope.node(redis.url, prefix);
    const open = await openPoll(a);
    const first = await pollOn(a, open, 0);
    assert.equal(first.status, 200);
    const url = (node: { httpUrl: string }) =>
      `${node.httpUrl}/v1/connections/${encodeURIComponent(open.connection)}`;
    const wrong = await fetch(url(b), { method: 'DELETE', headers: { 'x-switchboard-secret': 'wrong' } });
    assert.equal(wrong.status, 403, 'the secret is checked on A');
    const deleted = await fetch(url(b), {
      method: 'DELETE',
      headers: { 'x-switchboard-secret': open.secret },
    });
    assert.equal(deleted.status, 204);
    assert.equal((await pollOn(a, open, first.body.cursor)).status, 410, 'gone on A');
  });

  it(
    'a forwarded poll and a direct one for the same connection: the newer answers the older empty',
    T,
    async () => {
      if (redis === undefined) throw new Error('redis was not started');
      const prefix = uniquePrefix();
      const a = await scope.node(redis.url, prefix);
      const b = await scope.node(redis.url, prefix);
      const open = await openPoll(a);
      const { cursor } = (await pollOn(a, open, 0)).body; // the `connected` push
      const direct = pollOn(a, open, cursor); // held on A
      const forwarded = pollOn(b, open, cursor); // held on A for B: answers the direct one
      assert.deepEqual((await direct).body, { cursor, frames: [] });
      const again = pollOn(a, open, cursor); // newer again: answers the forwarded one, through B
      const answered = await forwarded;
      assert.equal(answered.status, 200);
      assert.deepEqual(answered.body, { cursor, frames: [] });
      const posted = await fetch(`${b.httpUrl}/v1/connections/${encodeURIComponent(open.connection)}`, {
        method: 'POST',
        headers: { 'x-switchboard-secret': open.secret },
        body: JSON.stringify({ type: 'subscribe', id: 7, channel: 'news' }),
      });
      assert.equal(posted.status, 202);
      const last = await again;
      assert.deepEqual(
        last.body.frames.map((f) => [f.type, f.id]),
        [['reply', 7]],
      );
    },
  );

  it('a forwarded poll whose client goes away is forgotten on node B; nothing is lost', T, async () => {
    if (redis === undefined) throw new Error('redis was not started');
    const prefix = uniquePrefix();
    const a = await scope.node(redis.url, prefix);
    const b = await scope.node(redis.url, prefix);
    const open = await openPoll(a);
    const { cursor } = (await pollOn(a, open, 0)).body;
    const abort = new AbortController();
    const url = `${b.httpUrl}/v1/poll/${encodeURIComponent(open.connection)}?cursor=${cursor}`;
    const cut = fetch(url, { headers: { 'x-switchboard-secret': open.secret }, signal: abort.signal });
    // No event says B has taken the request (it is held silently): give it time to arrive. Were it cut
    // before B read it, the counter below would stay at 0 and the test fail, not pass wrongly.
    await new Promise((resolve) => setTimeout(resolve, 100));
    abort.abort();
    await assert.rejects(cut);
    const counted = async (): Promise<boolean> =>
      /^switchboard_http_forwarded_calls_total\{call="poll",outcome="aborted"\} 1$/m.test(
        await (await fetch(`${b.httpUrl}/metrics`)).text(),
      );
    await eventually(counted, 'the aborted poll counted on B');
    // The frames the lost poll may have carried stay queued on A: the next poll (via B) gets them.
    await fetch(`${b.httpUrl}/v1/connections/${encodeURIComponent(open.connection)}`, {
      method: 'POST',
      headers: { 'x-switchboard-secret': open.secret },
      body: JSON.stringify({ type: 'subscribe', id: 3, channel: 'news' }),
    });
    const next = await pollOn(b, open, cursor);
    assert.deepEqual(
      next.body.frames.map((f) => [f.type, f.id]),
      [['reply', 3]],
    );
  });

  it('a poll on node B for a connection whose node is gone: 410 within the bound', T, async () => {
    if (redis === undefined) throw new Error('redis was not started');
    const prefix = uniquePrefix();
    const pollTimeoutMs = 400;
    const a = await scope.node(redis.url, prefix, { server: { pollTimeoutMs } });
    const b = await scope.node(redis.url, prefix, { server: { pollTimeoutMs } });
    const open = await openPoll(a);
    const { cursor } = (await pollOn(a, open, 0)).body;
    await a.stop();
    const started = Date.now();
    const answer = await pollOn(b, open, cursor);
    const elapsed = Date.now() - started;
    assert.equal(answer.status, 410);
    // The bound: the poll timeout plus a margin (the poll timeout itself, when shorter than 5 s).
    assert.ok(elapsed >= 2 * pollTimeoutMs - 50, `answered after ${elapsed} ms, not before the bound`);
    assert.ok(elapsed < 2 * pollTimeoutMs + 1000, `answered after ${elapsed} ms`);
    const metrics = await (await fetch(`${b.httpUrl}/metrics`)).text();
    assert.match(metrics, /^switchboard_http_forwarded_calls_total\{call="poll",outcome="timeout"\} 1$/m);
  });
});
