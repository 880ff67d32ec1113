import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Histogram, bucketOf, bucketValue } from '../src/stats/histogram.js';
import { median, ratio, summarize } from '../src/stats/aggregate.js';

test('percentiles of a uniform 1..10000 µs distribution are within the bucket precision', () => {
  const h = new Histogram();
  for (let v = 1; v <= 10_000; v++) h.record(v);
  for (const p of [50, 90, 99, 99.9]) {
    const exact = (p / 100) * 10_000;
    const got = h.percentile(p);
    assert.ok(Math.abs(got - exact) / exact < 0.02, `p${p}: ${got} vs ${exact}`);
  }
  assert.equal(h.percentile(100), 10_000);
  assert.equal(h.count, 10_000);
  assert.equal(h.min, 1);
  assert.equal(h.mean(), 5000.5);
});

test('an empty histogram reports zeros; negative values count as 0', () => {
  const h = new Histogram();
  assert.equal(h.percentile(99), 0);
  assert.equal(h.mean(), 0);
  h.record(-5);
  assert.equal(h.max, 0);
  assert.equal(h.percentile(50), 0);
});

test('merging snapshots equals recording everything in one histogram', () => {
  const a = new Histogram();
  const b = new Histogram();
  const all = new Histogram();
  for (let i = 0; i < 1000; i++) {
    const v = (i * 37) % 5000;
    (i % 2 === 0 ? a : b).record(v);
    all.record(v);
  }
  const merged = Histogram.from(a.snapshot());
  merged.merge(JSON.parse(JSON.stringify(b.snapshot())) as ReturnType<Histogram['snapshot']>);
  for (const p of [1, 50, 95, 99, 100]) assert.equal(merged.percentile(p), all.percentile(p));
  assert.equal(merged.count, all.count);
  assert.equal(merged.sum, all.sum);
});

test('bucket boundaries: a value lies in the bucket whose midpoint is within 1/64 of it', () => {
  for (const v of [1, 1.5, 2, 63, 64, 65, 1000, 123_456, 9.9e9]) {
    const mid = bucketValue(bucketOf(v));
    assert.ok(Math.abs(mid - v) / v <= 1 / 64, `${v} → ${mid}`);
  }
});

test('median, summarize and ratio', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 2, 3]), 2.5);
  assert.ok(Number.isNaN(median([])));
  const s = summarize([10, 12, NaN, 11]);
  assert.deepEqual({ ...s }, { median: 11, min: 10, max: 12, runs: 3, spread: 2 / 11 });
  assert.equal(ratio(6, 3), 2);
  assert.equal(ratio(0, 0), 1);
  assert.ok(Number.isNaN(ratio(1, 0)));
  assert.ok(Number.isNaN(ratio(NaN, 1)));
});
