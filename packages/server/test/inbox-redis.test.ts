// The inbox across nodes on the Redis engine (issue 18): two in-process nodes share one Redis; a deliver
// on one node reaches the device on the other (the inbox envelope), a device that moves nodes gets what it
// held unacked again, and each expired message becomes one dead letter, reported by one node.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectV1, until } from './helpers.js';
import type { TestClient, TestServer } from './helpers.js';
import { redisRequirement, startRedis } from './redis-harness.js';
import type { RedisProcess } from './redis-harness.js';
import { testScope, uniquePrefix } from './scale-helpers.js';
import type { DeadLetterEvent } from '../src/hub/hooks.js';

const scope = testScope();
const T = { skip: redisRequirement.skip, timeout: 30_000 };

async function openInbox(t: TestServer, user: string, device: string): Promise<TestClient> {
  const { client } = await connectV1(t, {}, `?user=${user}`);
  const reply = await client.request({ type: 'inbox', id: 1, device });
  assert.deepEqual(reply['result'], { device });
  return client;
}

describe('the inbox across nodes (Redis engine)', { skip: redisRequirement.skip }, () => {
  let redis: RedisProcess | undefined;
  before(async () => {
    redisRequirement.assert();
    redis = await startRedis();
  });
  after(() => redis?.stop());
  const url = (): string => redis?.url ?? '';

  test(
    'a deliver on node A reaches the device on node B; the device moves to A and gets the unacked again',
    T,
    async () => {
      const prefix = uniquePrefix();
      const a = await scope.node(url(), prefix);
      const b = await scope.node(url(), prefix);
      const onB = await openInbox(b, 'uma', 'laptop');
      const { id } = await a.server.deliver('uma', { hello: 'from A' });
      const push = await onB.nextOfType('inbox', 5000);
      assert.deepEqual([push['id'], push['attempt'], push['data']], [id, 1, { hello: 'from A' }]);
      // Unacked, the device leaves B and opens its inbox on A: attempt 2 there.
      onB.close();
      await onB.closed;
      const onA = await openInbox(a, 'uma', 'laptop');
      const again = await onA.nextOfType('inbox', 5000);
      assert.deepEqual([again['id'], again['attempt']], [id, 2]);
      const acked = await onA.request({ type: 'ack', id: 2, message: id });
      assert.deepEqual(acked['result'], {});
      // Acked by the only device: gone from the shared store, whichever node asks.
      assert.deepEqual(await b.server.deadLetters('uma'), []);
      const next = await b.server.deliver('uma', 'second');
      assert.equal((await onA.nextOfType('inbox', 5000))['id'], next.id);
      onA.close();
    },
  );

  test('an expired message becomes one dead letter, reported once across the nodes', T, async () => {
    const prefix = uniquePrefix();
    const dead: [string, DeadLetterEvent][] = [];
    const options = (name: string) => ({
      server: {
        inbox: { sweepMs: 20 },
        onDeadLetter: (letter: DeadLetterEvent) => {
          dead.push([name, letter]);
        },
      },
    });
    const a = await scope.node(url(), prefix, options('a'));
    await scope.node(url(), prefix, options('b'));
    const { id } = await a.server.deliver('vic', 'never read', { ttlMs: 20 });
    await until(() => dead.length > 0, 5000, 'the dead letter');
    // Both nodes sweep; give the other one a few sweeps to report it again (it must not).
    const stopAt = Date.now() + 200;
    await until(() => Date.now() > stopAt, 1000, 'a few more sweeps');
    assert.equal(dead.length, 1, JSON.stringify(dead));
    const [, letter] = dead[0] ?? ['', undefined];
    assert.ok(letter !== undefined && letter.kind === 'inbox');
    assert.deepEqual(
      [letter.userId, letter.id, letter.reason, letter.data],
      ['vic', id, 'expired', 'never read'],
    );
    assert.deepEqual(
      (await a.server.deadLetters('vic')).map((l) => l.id),
      [id],
    );
  });
});
