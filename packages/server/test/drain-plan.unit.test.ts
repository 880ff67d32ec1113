// The drain's batches (drain-plan.ts): sizes, due times inside the window, and the shuffle.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MIN_BATCH_GAP_MS, drainPlan, shuffle } from '../src/hub/drain-plan.js';
import { drainCloseReason, retryAfterHint, MAX_RETRY_HINT_MS } from '@switchboard/protocol';

/** A seeded source of values in [0, 1). */
function seeded(seed = 1): () => number {
  let x = seed;
  return () => ((x = (x * 16807) % 2147483647) - 1) / 2147483646;
}

test('batches cover every connection once, are due within the window, in order', () => {
  for (const [count, drainMs] of [
    [1000, 10_000],
    [7, 10_000],
    [1, 500],
    [500, 120],
  ] as const) {
    const { batches, gapMs } = drainPlan(count, drainMs, seeded(count));
    assert.equal(
      batches.reduce((sum, b) => sum + b.size, 0),
      count,
    );
    assert.ok(batches.length <= Math.max(1, drainMs / MIN_BATCH_GAP_MS));
    assert.ok(batches.length <= count);
    let start = 0;
    let previous = -1;
    for (const batch of batches) {
      assert.equal(batch.start, start);
      start += batch.size;
      assert.ok(batch.atMs > previous && batch.atMs < drainMs, `${batch.atMs} in the window`);
      previous = batch.atMs;
    }
    assert.equal(gapMs, drainMs / batches.length);
  }
});

test('a window of 0 is one batch now; no connections, no batch', () => {
  assert.deepEqual(drainPlan(5, 0, Math.random).batches, [{ atMs: 0, start: 0, size: 5 }]);
  assert.deepEqual(drainPlan(0, 1000, Math.random).batches, []);
});

test('shuffle keeps every item', () => {
  const items = Array.from({ length: 50 }, (_, i) => i);
  assert.deepEqual(
    [...shuffle([...items], seeded(3))].sort((a, b) => a - b),
    items,
  );
});

test('the close reason carries the hint, bounded', () => {
  assert.equal(retryAfterHint(drainCloseReason(1234.4)), 1234);
  assert.equal(retryAfterHint(drainCloseReason(10 ** 9)), MAX_RETRY_HINT_MS);
  assert.equal(retryAfterHint('server shutting down'), null);
  assert.equal(retryAfterHint('retry after soon ms'), null);
  assert.ok(new TextEncoder().encode(drainCloseReason(MAX_RETRY_HINT_MS)).length <= 123);
});
