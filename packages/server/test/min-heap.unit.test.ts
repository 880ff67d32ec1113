import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MinHeap } from '../src/util/min-heap.js';

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

test('MinHeap pops by key, ties in insertion order', () => {
  const next = random(7);
  const heap = new MinHeap<{ key: number; n: number }>();
  const pushed: { key: number; n: number }[] = [];
  for (let n = 0; n < 2000; n++) {
    const item = { key: Math.floor(next() * 100), n };
    pushed.push(item);
    heap.push(item.key, item);
  }
  assert.equal(heap.size, 2000);
  const popped: { key: number; n: number }[] = [];
  for (let item = heap.pop(); item !== undefined; item = heap.pop()) popped.push(item);
  assert.deepEqual(
    popped,
    [...pushed].sort((a, b) => a.key - b.key || a.n - b.n),
  );
  assert.equal(heap.peek(), undefined);
});

test('MinHeap compact keeps the order of what it keeps', () => {
  const next = random(11);
  const heap = new MinHeap<number>();
  const values: number[] = [];
  for (let i = 0; i < 1000; i++) {
    const value = Math.floor(next() * 10_000);
    values.push(value);
    heap.push(value, value);
  }
  heap.compact((value) => value % 3 === 0);
  const kept = values.filter((value) => value % 3 === 0).sort((a, b) => a - b);
  assert.equal(heap.size, kept.length);
  assert.equal(heap.peek()?.key, kept[0]);
  const popped: number[] = [];
  for (let value = heap.pop(); value !== undefined; value = heap.pop()) popped.push(value);
  assert.deepEqual(popped, kept);
});
