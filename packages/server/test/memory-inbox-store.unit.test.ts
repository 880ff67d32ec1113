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
