/**
 * The Redis inbox and queue stores beyond their contracts: several nodes (each its own client) sharing one
 * Redis, the inbox's sweep indexes, the engine's wiring, and a Redis restarted with `appendonly yes` and `appendfsync always`, after which everything a
 * deliver, enqueue, ack, attempt or dead letter resolved before the restart is still there
 * (docs/scaling.md, "What survives a Redis restart").
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { RedisInboxStore } from '../src/inbox/redis-inbox-store.js';
import { RedisQueueStore } from '../src/inbox/redis-queue-store.js';
import type { InboxMessage } from '../src/inbox/inbox-store.js';
import type { RedisContext } from '../src/redis/redis-context.js';
import { connectClient } from '../src/redis/redis-connection.js';
import { createRedisEngine } from '../src/engine/redis-engine.js';
import { redisRequirement, startRedis } from './redis-harness.js';
import type { RedisProcess } from './redis-harness.js';
import { dropContext, redisContext, redisPerDescribe } from './redis-delivery-fixtures.js';
import { freshUser, input, stored } from './inbox-contract.js';
import { enqueued, freshQueue, job } from './queue-contract.js';

const TEST = { skip: redisRequirement.skip, timeout: 30_000 };

/** The `i`-th item of `items`, round robin. */
function pick<T>(items: readonly T[], i: number): T {
  const item = items[i % items.length];
  if (item === undefined) throw new Error('nothing to pick from');
  return item;
}
const LOCK = 1000;

describe('Redis delivery stores across nodes', { skip: redisRequirement.skip }, () => {
  const url = redisPerDescribe('standalone');
  const contexts: RedisContext[] = [];

  /** A node: its own connected client, sharing the key prefix. */
  async function node(prefix: string): Promise<RedisContext> {
    const context = await redisContext(url(), prefix);
    contexts.push(context);
    return context;
  }

  // The suite's Redis is stopped by redisPerDescribe's own hook, with every key.
  after(() => {
    for (const context of contexts) context.client.disconnect();
  });

  test(
    'claims from several nodes at once never get the same job, and every job is claimed',
    TEST,
    async () => {
      const prefix = `q${randomBytes(3).toString('hex')}`;
      const nodes = await Promise.all([node(prefix), node(prefix), node(prefix)]);
      const stores = nodes.map((context) => new RedisQueueStore(context));
      const queue = freshQueue();
      const t0 = Date.now();
      const ids = new Set<string>();
      for (let i = 0; i < 200; i++) ids.add(enqueued(await pick(stores, i).enqueue(job(queue, `j${i}`, t0))));
      const claimed: string[] = [];
      // Rounds of concurrent claims from every node, two consumers each, until the queue is drained.
      for (let round = 0; claimed.length < ids.size && round < 100; round++) {
        const results = await Promise.all(
          stores.flatMap((store, n) => [0, 1].map((c) => store.claim(queue, `n${n}.c${c}`, 7, LOCK, t0 + 1))),
        );
        for (const result of results) claimed.push(...result.jobs.map((j) => j.id));
      }
      assert.equal(claimed.length, ids.size, 'no job claimed twice');
      assert.deepEqual(new Set(claimed), ids);
    },
  );

  test(
    'an expired lock moves a job to another node’s consumer, and the first node’s ack is refused',
    TEST,
    async () => {
      const prefix = `q${randomBytes(3).toString('hex')}`;
      const nodeA = new RedisQueueStore(await node(prefix));
      const nodeB = new RedisQueueStore(await node(prefix));
      const queue = freshQueue();
      const t0 = Date.now();
      enqueued(await nodeA.enqueue(job(queue, 'x', t0)));
      const [first] = (await nodeA.claim(queue, 'a.1', 1, LOCK, t0)).jobs;
      assert.ok(first);
      assert.deepEqual((await nodeB.claim(queue, 'b.1', 1, LOCK, t0 + LOCK - 1)).jobs, []);
      const [second] = (await nodeB.claim(queue, 'b.1', 1, LOCK, t0 + LOCK)).jobs;
      assert.equal(second?.id, first.id);
      assert.equal(second?.attempt, 2);
      assert.equal(await nodeA.ack(queue, first.id, first.token), false);
      assert.equal(await nodeB.ack(queue, second.id, second.token), true);
    },
  );

  test('undelivered and expire from several nodes report each message once', TEST, async () => {
    const prefix = `i${randomBytes(3).toString('hex')}`;
    const nodes = await Promise.all([node(prefix), node(prefix), node(prefix)]);
    const stores = nodes.map((context) => new RedisInboxStore(context));
    const t0 = Date.now();
    const ids = new Set<string>();
    for (let i = 0; i < 60; i++) {
      const userId = `u${i % 6}`;
      ids.add(stored(await pick(stores, i).deliver(input(userId, `m${i}`, t0, { ttlMs: 100 }))).id);
    }
    const reported = (await Promise.all(stores.map((store) => store.undelivered(t0, 1000)))).flat();
    assert.equal(reported.length, 60);
    assert.deepEqual(new Set(reported.map((m) => m.id)), ids);
    const expired = (await Promise.all(stores.map((store) => store.expire(t0 + 100, 1000)))).flatMap(
      (result) => result.letters,
    );
    assert.equal(expired.length, 60);
    assert.deepEqual(new Set(expired.map((l) => l.id)), ids);
  });
});

describe('the Redis inbox sweep indexes', { skip: redisRequirement.skip }, () => {
  const url = redisPerDescribe('standalone');

  test(
    'hold exactly the messages the inboxes hold; a stray entry is dropped by the sweep',
    TEST,
    async () => {
      const context = await redisContext(url());
      try {
        const store = new RedisInboxStore(context, { maxMessages: 2 });
        const { client, keys } = context;
        const sizes = async (): Promise<[number, number]> => [
          await client.zcard(keys.inboxIndex('x')),
          await client.zcard(keys.inboxIndex('u')),
        ];
        const t0 = Date.now();
        const userId = freshUser();
        await store.touchDevice(userId, 'd', t0);
        const a = stored(await store.deliver(input(userId, 'a', t0, { idempotencyKey: 'k' })));
        const b = stored(await store.deliver(input(userId, 'b', t0)));
        assert.deepEqual(await store.deliver(input(userId, 'c', t0)), { ok: false, reason: 'full' });
        assert.equal((await store.deliver(input(userId, 'a', t0, { idempotencyKey: 'k' }))).ok, true);
        assert.deepEqual(await sizes(), [2, 2], 'a refused or duplicate deliver leaves no entry');
        assert.equal(await store.ack(userId, 'd', a.id, t0), 'acked');
        assert.deepEqual(await sizes(), [1, 1]);
        await store.deadLetter(userId, b.id, 'max_attempts', t0);
        assert.deepEqual(await sizes(), [0, 0]);
        // An entry whose message was never stored (its deliver failed after the index write).
        await client.zadd(keys.inboxIndex('x'), t0, `stray|${userId}`);
        await client.zadd(keys.inboxIndex('u'), t0, `stray|${userId}`);
        assert.deepEqual((await store.expire(t0, 10)).letters, []);
        assert.deepEqual(await store.undelivered(t0, 10), []);
        assert.deepEqual(await sizes(), [0, 0]);
      } finally {
        await dropContext(context);
      }
    },
  );
});

describe('the Redis engine', { skip: redisRequirement.skip }, () => {
  const url = redisPerDescribe('standalone');

  test('has an inbox and queues on its own client, closed with it', TEST, async () => {
    const engine = createRedisEngine({ url: url(), prefix: `e${randomBytes(3).toString('hex')}` });
    const { client } = engine.inbox.context;
    assert.equal(engine.queues.context.client, client, 'one shared client');
    await connectClient(client, 'the engine client'); // what the broker's start does in a server
    const t0 = Date.now();
    const userId = freshUser();
    const m = stored(await engine.inbox.deliver(input(userId, 'hi', t0)));
    assert.deepEqual(
      (await engine.inbox.pending(userId, 'd', 0, 10, t0)).map((p) => p.id),
      [m.id],
    );
    assert.ok((await engine.queues.enqueue(job(freshQueue(), 'x', t0))).ok);
    await engine.inbox.close();
    await engine.queues.close();
    await engine.close();
    await assert.rejects(engine.inbox.deliver(input(userId, 'late', t0)), { code: 'unavailable' });
  });
});

describe('Redis restarted with appendonly yes, appendfsync always', { skip: redisRequirement.skip }, () => {
  let redis: RedisProcess | undefined;
  let context: RedisContext | undefined;

  before(async () => {
    if (redisRequirement.skip !== false) return;
    redisRequirement.assert();
    redis = await startRedis({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
    context = await redisContext(redis.url);
  });

  after(async () => {
    context?.client.disconnect();
    await redis?.stop();
  });

  /** Resolves once the client answers again after the restart (it reconnects by itself). */
  async function reconnected(ctx: RedisContext): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        await ctx.client.ping();
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await delay(20);
      }
    }
  }

  test(
    'every resolved deliver, ack, attempt, enqueue, claim and dead letter survives a SIGKILL',
    TEST,
    async () => {
      assert.ok(redis && context);
      const inbox = new RedisInboxStore(context, { maxDeadLetters: 100 });
      const queues = new RedisQueueStore(context);
      const t0 = Date.now();

      // Inboxes: two users, two devices; the laptop acks every third message, and tries some twice.
      const users = [freshUser(), freshUser()];
      const messages: InboxMessage[] = [];
      for (const userId of users) {
        await inbox.touchDevice(userId, 'laptop', t0);
        await inbox.touchDevice(userId, 'phone', t0);
        for (let i = 0; i < 30; i++)
          messages.push(stored(await inbox.deliver(input(userId, `m${i}`, t0 + i))));
      }
      for (const [i, m] of messages.entries()) {
        if (i % 3 === 0) assert.equal(await inbox.ack(m.userId, 'laptop', m.id, t0 + 100), 'acked');
        if (i % 4 === 0) await inbox.attempt(m.userId, 'phone', m.id);
        if (i % 4 === 0) await inbox.attempt(m.userId, 'phone', m.id);
        if (i % 10 === 9) await inbox.deadLetter(m.userId, m.id, 'max_attempts', t0 + 200, 'phone');
      }

      // A queue: jobs claimed, acked, nacked with a delay, and dead-lettered.
      const queue = freshQueue();
      const jobIds: string[] = [];
      for (let i = 0; i < 30; i++)
        jobIds.push(enqueued(await queues.enqueue(job(queue, `j${i}`, t0, { maxAttempts: 1 }))));
      const { jobs } = await queues.claim(queue, 'worker', 10, 60_000, t0);
      for (const j of jobs.slice(0, 5)) assert.equal(await queues.ack(queue, j.id, j.token), true);
      for (const j of jobs.slice(5, 8)) assert.equal(await queues.nack(queue, j.id, j.token, 0, t0), true);
      // Their one attempt spent: the next claim dead-letters the nacked jobs.
      const second = await queues.claim(queue, 'worker', 2, 60_000, t0 + 1);
      assert.equal(second.dead.letters.length, 3);

      const snapshot = async (): Promise<unknown> => ({
        pending: await Promise.all(
          users.flatMap((userId) =>
            ['laptop', 'phone'].map((device) => inbox.pending(userId, device, 0, 1000, t0 + 300)),
          ),
        ),
        inboxDead: await Promise.all(users.map((userId) => inbox.deadLetters(userId, 100))),
        depth: await queues.depth(queue),
        queueDead: await queues.deadLetters(queue, 100),
      });
      const before = await snapshot();

      await redis.restart(); // SIGKILL, then the same port and directory: Redis replays its append-only file
      await reconnected(context);
      assert.deepEqual(await snapshot(), before);

      // And the stores carry on from there: the held jobs' lock is kept, the rest are claimed once each.
      const rest = await queues.claim(queue, 'worker-2', 100, 60_000, t0 + 2);
      assert.equal(rest.jobs.length, 30 - 5 - 3 - 2 - 2);
      const seen = new Set([
        ...jobs.map((j) => j.id),
        ...second.jobs.map((j) => j.id),
        ...rest.jobs.map((j) => j.id),
      ]);
      assert.deepEqual(seen, new Set(jobIds));
      const next = stored(await inbox.deliver(input(pick(users, 0), 'after the restart', t0 + 400)));
      assert.ok(next.seq > Math.max(...messages.map((m) => m.seq)), 'seqs carry on');
    },
  );
});
