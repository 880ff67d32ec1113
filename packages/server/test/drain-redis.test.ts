// Drain across two nodes over one Redis (issue 15): the SDK, given both nodes' URLs, reconnects to the other
// node after the hint, and an inbox message in flight (pushed, not acked) when its node drained is
// delivered again on the other node.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { SwitchboardClient } from '@switchboard/client';
import { retryAfterHint } from '@switchboard/protocol';
import { connectV1 } from './helpers.js';
import { redisPerSuite, redisRequirement } from './redis-harness.js';
import { nextEvent, testScope, uniquePrefix } from './scale-helpers.js';

const scope = testScope();
const INBOX = { ackTimeoutMs: 30_000, retryMinMs: 5, retryMaxMs: 20, sweepMs: 20 };

describe('drain over Redis', { skip: redisRequirement.skip }, () => {
  const redis = redisPerSuite();

  test('the SDK moves to the other node after the hint, and keeps its subscription', async () => {
    const prefix = uniquePrefix();
    const a = await scope.node(redis().url, prefix, { server: { drainMs: 200 } });
    const b = await scope.node(redis().url, prefix);
    const urls = [`${a.wsUrl}/ws?user=ana`, `${b.wsUrl}/ws?user=ana`];
    const client = new SwitchboardClient<unknown>(urls, {
      WebSocket,
      backoff: { minDelayMs: 5, maxDelayMs: 50 },
    });
    scope.defer(() => client.close());
    await client.connect();
    assert.equal(client.url, urls[0]);
    const news = client.subscribe('news');
    await news.ready({ timeoutMs: 3000 });
    const lost = nextEvent(client, 'disconnected');
    const back = nextEvent(client, 'connected');
    await a.server.drain();
    const event = await lost;
    assert.equal(event.code, 1012);
    assert.ok(retryAfterHint(event.reason) !== null);
    await back;
    assert.equal(client.url, urls[1], 'reconnected to the other node, not the draining one');
    await news.ready({ timeoutMs: 3000 });
    const message = new Promise<unknown>((resolve) => news.on('message', (m) => resolve(m.data)));
    await b.server.publish('news', 'after the drain');
    assert.equal(await message, 'after the drain');
  });

  test('an inbox message pushed but not acked when its node drained comes again on the other node', async () => {
    const prefix = uniquePrefix();
    const a = await scope.node(redis().url, prefix, { server: { drainMs: 100, inbox: INBOX } });
    const b = await scope.node(redis().url, prefix, { server: { inbox: INBOX } });
    const onA = await connectV1(a, {}, '?user=bo');
    await onA.client.request({ type: 'inbox', id: 1, device: 'phone' });
    const { id } = await a.server.deliver('bo', { text: 'hello' });
    const first = await onA.client.nextOfType('inbox');
    assert.equal(first['id'], id);
    await a.server.drain(); // no ack was sent
    assert.equal((await onA.client.closed).code, 1012);
    const onB = await connectV1(b, {}, '?user=bo');
    scope.defer(() => onB.client.close());
    await onB.client.request({ type: 'inbox', id: 2, device: 'phone' });
    const again = await onB.client.nextOfType('inbox');
    assert.equal(again['id'], id);
    assert.deepEqual(again['data'], { text: 'hello' });
  });
});
