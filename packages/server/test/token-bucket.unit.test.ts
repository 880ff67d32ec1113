import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TokenBucket } from '../src/limits/token-bucket.js';

const T0 = 1_700_000_000_000;

/** How many single-token takes succeed at `now` before the first refusal. */
function drain(bucket: TokenBucket, now: number): number {
  let taken = 0;
  while (bucket.take(now)) {
    taken++;
    if (taken > 1_000_000) assert.fail('bucket never ran dry');
  }
  return taken;
}

describe('TokenBucket: burst', () => {
  it('starts full and allows exactly `capacity` takes at one instant', () => {
    const bucket = new TokenBucket(20, 1, T0);
    assert.equal(bucket.available(T0), 20);
    assert.equal(drain(bucket, T0), 20);
    assert.equal(bucket.available(T0), 0);
  });

  it('does not consume tokens on a refused take', () => {
    const bucket = new TokenBucket(3, 1, T0);
    assert.equal(bucket.take(T0, 2), true);
    assert.equal(bucket.take(T0, 2), false);
    assert.equal(bucket.available(T0), 1);
    assert.equal(bucket.take(T0, 1), true);
  });

  it('never grants a cost larger than the capacity, however long it waits', () => {
    const bucket = new TokenBucket(5, 100, T0);
    assert.equal(bucket.take(T0 + 3_600_000, 6), false);
    assert.equal(bucket.available(T0 + 3_600_000), 5);
  });

  it('grants a cost equal to the whole capacity from a full bucket', () => {
    const bucket = new TokenBucket(5, 1, T0);
    assert.equal(bucket.take(T0, 5), true);
    assert.equal(bucket.available(T0), 0);
  });

  it('always grants a zero cost, even when empty', () => {
    const bucket = new TokenBucket(1, 0, T0);
    bucket.take(T0);
    assert.equal(bucket.take(T0, 0), true);
  });
});

describe('TokenBucket: refill', () => {
  it('refills at refillPerSecond in proportion to elapsed time', () => {
    const bucket = new TokenBucket(10, 2, T0);
    drain(bucket, T0);
    assert.equal(bucket.available(T0 + 500), 1);
    assert.equal(bucket.available(T0 + 1500), 3);
  });

  it('keeps fractional tokens across calls, so frequent polling loses nothing', () => {
    const bucket = new TokenBucket(10, 1, T0);
    drain(bucket, T0);
    for (let t = 250; t < 1000; t += 250) assert.equal(bucket.take(T0 + t), false, `at +${t} ms`);
    assert.equal(bucket.take(T0 + 1000), true);
    assert.equal(bucket.take(T0 + 1000), false);
  });

  it('sustains the refill rate under steady load: 1 token/s allows 60 takes in a minute after the burst', () => {
    const bucket = new TokenBucket(20, 1, T0);
    let granted = 0;
    for (let t = 0; t <= 60_000; t += 100) if (bucket.take(T0 + t)) granted++;
    assert.equal(granted, 20 + 60);
  });

  it('never refills with a rate of 0', () => {
    const bucket = new TokenBucket(2, 0, T0);
    drain(bucket, T0);
    assert.equal(bucket.available(T0 + 86_400_000), 0);
  });

  it('supports fractional rates (one token every 4 s)', () => {
    const bucket = new TokenBucket(1, 0.25, T0);
    drain(bucket, T0);
    assert.equal(bucket.take(T0 + 3999), false);
    assert.equal(bucket.take(T0 + 4000), true);
  });
});

describe('TokenBucket: cap', () => {
  it('never holds more than capacity after a long idle period', () => {
    const bucket = new TokenBucket(5, 1000, T0);
    assert.equal(bucket.available(T0 + 10 * 86_400_000), 5);
    assert.equal(drain(bucket, T0 + 10 * 86_400_000), 5);
  });

  it('caps refill of a partly drained bucket at capacity', () => {
    const bucket = new TokenBucket(4, 1, T0);
    bucket.take(T0, 1);
    assert.equal(bucket.available(T0 + 60_000), 4);
  });
});

describe('TokenBucket: time going backwards', () => {
  it('neither refills nor drains when time goes backwards', () => {
    const bucket = new TokenBucket(10, 1, T0);
    drain(bucket, T0);
    assert.equal(bucket.available(T0 + 2000), 2);
    assert.equal(bucket.available(T0 - 60_000), 2);
    assert.equal(bucket.available(T0 + 1000), 2);
  });

  it('does not count the same interval twice after the clock steps back and forward again', () => {
    const bucket = new TokenBucket(10, 1, T0);
    drain(bucket, T0);
    assert.equal(bucket.available(T0 + 1000), 1);
    assert.equal(bucket.available(T0 + 500), 1);
    assert.equal(bucket.available(T0 + 1000), 1);
    assert.equal(bucket.available(T0 + 2000), 2);
  });

  it('still grants tokens it holds when asked with an earlier time', () => {
    const bucket = new TokenBucket(2, 1, T0);
    assert.equal(bucket.take(T0 - 5000), true);
    assert.equal(bucket.take(T0 - 5000), true);
    assert.equal(bucket.take(T0 - 5000), false);
  });

  it('ignores a NaN timestamp without corrupting the bucket', () => {
    const bucket = new TokenBucket(3, 1, T0);
    bucket.take(T0, 3);
    assert.equal(bucket.available(Number.NaN), 0);
    assert.equal(bucket.available(T0 + 1000), 1);
  });
});
