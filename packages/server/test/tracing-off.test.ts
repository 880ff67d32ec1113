/**
 * Tracing off (no OpenTelemetry SDK registered, the library default): an HTTP API publish whose request
 * carries a sampled W3C `traceparent` still puts no traceparent on the Redis wire, so the publication's
 * pub/sub message is byte for byte what it was before tracing existed. Checked with a raw Redis listener.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { connectV1 } from './helpers.js';
import { redisRequirement, startRedis } from './redis-harness.js';
import type { RedisProcess } from './redis-harness.js';
import { adminClient, eventually, keysOf, messages, testScope, uniquePrefix } from './scale-helpers.js';

const SUITE = { skip: redisRequirement.skip };
const T = { timeout: 15_000 };

const scope = testScope();

describe('tracing off', SUITE, () => {
  let redis: RedisProcess | undefined;
  let admin: Redis | undefined;

  before(async () => {
    if (redisRequirement.skip !== false) return;
    redisRequirement.assert();
    redis = await startRedis();
    admin = adminClient(redis.url);
  });

  after(async () => {
    admin?.disconnect();
    await redis?.stop();
  });

  it('writes no traceparent on the wire, whatever the request carried', T, async () => {
    if (redis === undefined || admin === undefined) throw new Error('redis was not started');
    const prefix = uniquePrefix();
    const a = await scope.node(redis.url, prefix);
    const b = await scope.node(redis.url, prefix);
    const { client } = await connectV1(b);
    scope.defer(() => client.close());
    await client.request({ id: 1, type: 'subscribe', channel: 'plain' });
    const listener = admin.duplicate();
    scope.defer(() => listener.disconnect());
    const wire: string[] = [];
    listener.on('message', (_topic: string, message: string) => wire.push(message));
    await listener.subscribe(keysOf(prefix).channelTopic('plain'));

    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    for (const ephemeral of [false, true]) {
      const response = await fetch(`${a.httpUrl}/api/publish`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', traceparent },
        body: JSON.stringify({ channel: 'plain', data: 'x', ephemeral }),
      });
      assert.equal(response.status, 200);
      await response.arrayBuffer();
    }
    assert.deepEqual(await messages(client, 2), [
      { id: 1, data: 'x' },
      { id: undefined, data: 'x' },
    ]);
    await eventually(() => wire.length === 2, 'both publications on the raw listener');
    assert.match(wire[0] as string, /^p 1 \S+ \d+\n"x"$/);
    assert.match(wire[1] as string, /^e \d+\n"x"$/);
  });
});
