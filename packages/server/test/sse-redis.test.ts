/**
 * SSE streams over the Redis engine (issue 14): a stream on node A gets what node B publishes and what
 * node B sends to its user, and its event id resumes it on node B after a cut (one epoch, one history).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { redisRequirement, startRedis } from './redis-harness.js';
import type { RedisProcess } from './redis-harness.js';
import { testScope, uniquePrefix } from './scale-helpers.js';
import { openSse } from './sse-client.js';
import type { SseStream } from './sse-client.js';

const SUITE = { skip: redisRequirement.skip };
const T = { timeout: 15_000 };
const scope = testScope();

/** Open a stream and wait for its position mark (written once every channel is joined). */
async function stream(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  const s = await openSse(url, headers);
  assert.equal(s.status, 200);
  for (;;) if ((await s.next(5000, true)).kind === 'id') return s;
}

describe('SSE over Redis', SUITE, () => {
  let redis: RedisProcess | undefined;
  before(async () => {
    if (redisRequirement.skip !== false) return;
    redisRequirement.assert();
    redis = await startRedis();
  });
  after(async () => {
    await redis?.stop();
  });

  it('a stream on A gets B’s publications and sends, and resumes on B from its id', T, async () => {
    if (redis === undefined) throw new Error('redis was not started');
    const prefix = uniquePrefix();
    const a = await scope.node(redis.url, prefix);
    const b = await scope.node(redis.url, prefix);
    const onA = await stream(`${a.httpUrl}/sse/orders?user=alice`);
    await b.server.publish('orders', { n: 1 });
    const first = await onA.expect('message');
    assert.deepEqual(first.data, { n: 1 });
    await b.server.sendToUser('alice', { note: 'from B' });
    assert.deepEqual((await onA.expect('direct')).data, { note: 'from B' });
    onA.close();
    await b.server.publish('orders', { n: 2 });
    await a.server.publish('orders', { n: 3 });
    const onB = await openSse(`${b.httpUrl}/sse/orders?user=alice`, { 'last-event-id': first.id });
    assert.deepEqual((await onB.expect('message')).data, { n: 2 });
    assert.deepEqual((await onB.expect('message')).data, { n: 3 });
    await a.server.publish('orders', { n: 4 });
    assert.deepEqual((await onB.expect('message')).data, { n: 4 });
    onB.close();
  });
});
