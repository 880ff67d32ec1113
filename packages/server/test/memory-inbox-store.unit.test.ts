/**
 * The in-memory stores at volume: enough messages that the inbox's arrays and heaps compact (which the
 * contract's small cases never reach), checked against a plain model. The contract itself runs in
 * inbox-contract.test.ts and queue-contract.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryInboxStore } from '../src/inbox/memory-inbox-store.js';
import { MemoryQueueStore } from '../src/inbox/memory-queue-store.js';

/** A seeded xorshift, so a failure replays. */
function random(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

const T0 = 1_000_000;
const HOUR = 3_600_000;

test('acks in random order over thousands of messages: pending stays the unacked, in seq order', async () => {
  const next = random(42);
  const store = new MemoryInboxStore({ limits: { maxMessages: 10_000, maxBytes: 10_000_000 } });
  await store.touchDevice('u', 'laptop', T0);
  const ids: string[] = [];
  for (let i = 0; i < 4000; i++) {
    const outcome = await store.deliver({ userId: 'u', json: `${i}`, ttlMs: HOUR, maxAttempts: 5, now: T0 });
    assert.ok(outcome.ok);
    ids.push(outcome.message.id);
  }
  const unacked = new Set(ids);
  const order = [...ids].sort(() => next() - 0.5);
  for (let round = 0; round < 8; round++) {
    for (const id of order.splice(0, 450)) {
      assert.equal(await store.ack('u', 'laptop', id, T0), 'acked');
      unacked.delete(id);
    }
    const pending = await store.pending('u', 'laptop', 0, 10_000, T0);
    assert.deepEqual(
      pending.map((m) => m.id),
      ids.filter((id) => unacked.has(id)),
    );
    // Paging from a seq in the middle.
    const middle = pending[Math.floor(pending.length / 2)];
    if (middle !== undefined) {
      const after = await store.pending('u', 'laptop', middle.seq, 10_000, T0);
      assert.deepEqual(
        after.map((m) => m.id),
        pending.filter((m) => m.seq > middle.seq).map((m) => m.id),
      );
    }
  }
});

test('messages acked in order by their only device leave; expire and undelivered see only the rest', async () => {
  const store = new MemoryInboxStore({ limits: { maxMessages: 10_000, maxBytes: 10_000_000 } });
  await store.touchDevice('u', 'laptop', T0);
  for (let i = 0; i < 3000; i++) {
    const outcome = await store.deliver({ userId: 'u', json: `${i}`, ttlMs: 1000, maxAttempts: 5, now: T0 });
    assert.ok(outcome.ok);
    assert.equal(await store.ack('u', 'laptop', outcome.message.id, T0), 'acked');
  }
  assert.deepEqual(await store.pending('u', 'laptop', 0, 10, T0), []);
  const left: string[] = [];
  for (let i = 0; i < 5; i++) {
    const outcome = await store.deliver({
      userId: 'u',
      json: `late${i}`,
      ttlMs: 1000,
      maxAttempts: 5,
      now: T0 + 10,
    });
    assert.ok(outcome.ok);
    left.push(outcome.message.id);
  }
  assert.deepEqual(
    (await store.pending('u', 'laptop', 0, 10, T0 + 10)).map((m) => m.id),
    left,
  );
  assert.deepEqual(
    (await store.undelivered(T0 + 10, 10_000)).map((m) => m.id),
    left,
  );
  const expired = await store.expire(T0 + 2000, 10_000);
  assert.deepEqual(
    expired.letters.map((l) => l.id),
    left,
  );
  assert.deepEqual(await store.pending('u', 'laptop', 0, 10, T0 + 2000), []);
});

test('a work queue at volume: every job acked once, whatever the nacks and lock expiries', async () => {
  const next = random(5);
  const store = new MemoryQueueStore();
  const ids = new Set<string>();
  for (let i = 0; i < 3000; i++) {
    const outcome = await store.enqueue({ queue: 'q', json: `${i}`, maxAttempts: 1000, now: T0 });
    assert.ok(outcome.ok);
    ids.add(outcome.id);
  }
  const acked = new Set<string>();
  let now = T0;
  while (acked.size < ids.size) {
    now += 10;
    const { jobs, dead } = await store.claim('q', `c${Math.floor(next() * 4)}`, 50, 100, now);
    assert.deepEqual(dead.letters, []);
    for (const job of jobs) {
      const roll = next();
      if (roll < 0.7) {
        assert.equal(await store.ack('q', job.id, job.token), true);
        assert.ok(!acked.has(job.id), 'acked once');
        acked.add(job.id);
      } else if (roll < 0.85) {
        assert.equal(await store.nack('q', job.id, job.token, 20, now), true);
      } // else: its lock expires
    }
  }
  assert.deepEqual(await store.depth('q'), { waiting: 0, claimed: 0 });
});

test('expire() drops idle users (no message, dead letter, key or recent device), a bounded number per call', async () => {
  const deviceTtlMs = 10_000;
  const store = new MemoryInboxStore({ limits: { deviceTtlMs, idempotencyWindowMs: 5000 } });
  const deliver = (userId: string, now: number, idempotencyKey?: string) =>
    store.deliver({
      userId,
      json: '1',
      ttlMs: HOUR,
      maxAttempts: 5,
      now,
      ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
    });
  // 600 users who got one message, acked by their only device: nothing left but the device.
  for (let i = 0; i < 600; i++) {
    const userId = `idle-${i}`;
    await store.touchDevice(userId, 'd', T0);
    const outcome = await deliver(userId, T0);
    assert.ok(outcome.ok);
    assert.equal(await store.ack(userId, 'd', outcome.message.id, T0), 'acked');
  }
  await store.touchDevice('recent', 'd', T0 + deviceTtlMs); // seen recently: kept
  const held = await deliver('holds', T0); // a message: kept
  assert.ok(held.ok);
  const dead = await deliver('dead', T0);
  assert.ok(dead.ok);
  await store.deadLetter('dead', dead.message.id, 'max_attempts', T0); // a dead letter: kept
  await deliver('keyed', T0 + deviceTtlMs, 'k'); // an idempotency key within its window: kept...
  const keyed = (await store.pending('keyed', 'x', 0, 1, T0 + deviceTtlMs))[0];
  assert.ok(keyed !== undefined);
  await store.ack('keyed', 'x', keyed.id, T0 + deviceTtlMs); // ...though it holds no message
  assert.equal(store.userCount, 604);

  // Before deviceTtlMs nothing goes; each call looks at `limit` users at most.
  await store.expire(T0 + deviceTtlMs - 1, 500);
  assert.equal(store.userCount, 604);
  const later = T0 + deviceTtlMs + 1;
  await store.expire(later, 100);
  assert.ok(store.userCount >= 504, `at most 100 dropped per call, ${store.userCount} left`);
  for (let i = 0; i < 10; i++) await store.expire(later, 100);
  assert.equal(store.userCount, 4);
  assert.equal((await store.deadLetters('dead', 10)).length, 1);
  const again = await deliver('keyed', later, 'k'); // the key is still remembered
  assert.ok(again.ok && again.duplicate);
  // A dropped user starts afresh, with seqs above every earlier one.
  const back = await deliver('idle-0', later);
  assert.ok(back.ok);
  assert.ok(back.message.seq > held.message.seq);
  assert.deepEqual(
    (await store.pending('idle-0', 'd', 0, 10, later)).map((m) => m.id),
    [back.message.id],
  );
  // Much later: recent's device and keyed's device and key are stale; messages and dead letters stay.
  const far = T0 + 10 * deviceTtlMs;
  await store.expire(far, 500);
  await store.expire(far, 500);
  assert.equal(store.userCount, 3); // holds, dead, idle-0
});

test('a memory queue that holds nothing any more is forgotten; one with a key or a dead letter is kept', async () => {
  const store = new MemoryQueueStore();
  const enqueue = (queue: string, idempotencyKey?: string) =>
    store.enqueue({
      queue,
      json: '1',
      maxAttempts: 1,
      now: T0,
      ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
    });
  assert.ok((await enqueue('once')).ok);
  assert.ok((await enqueue('keyed', 'k')).ok);
  assert.ok((await enqueue('dies')).ok);
  assert.equal(store.queueCount, 3);
  for (const queue of ['once', 'keyed']) {
    const [job] = (await store.claim(queue, 'c', 1, 1000, T0)).jobs;
    assert.ok(job !== undefined);
    assert.equal(await store.ack(queue, job.id, job.token), true);
  }
  const [doomed] = (await store.claim('dies', 'c', 1, 10, T0)).jobs;
  assert.ok(doomed !== undefined);
  // Its lock lapsed with its one attempt spent: the next claim dead-letters it.
  assert.equal((await store.claim('dies', 'c', 1, 10, T0 + 20)).dead.letters.length, 1);
  assert.equal(store.queueCount, 2); // 'once' is gone; 'keyed' keeps its key, 'dies' its dead letter
  assert.equal(await store.deleteDeadLetter('dies', doomed.id), true);
  assert.equal(store.queueCount, 1);
  assert.deepEqual(await store.depth('once'), { waiting: 0, claimed: 0 });
  assert.ok((await enqueue('once')).ok); // created again
  assert.equal(store.queueCount, 2);
});
