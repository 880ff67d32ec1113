import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff, BACKOFF_DEFAULTS, InvalidOptionError } from '../src/index.js';
import type { BackoffOptions } from '../src/index.js';

/** mulberry32: a tiny seeded PRNG, so statistical checks are reproducible. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` delays, asserting none is null. */
function take(backoff: Backoff, n: number): number[] {
  const delays: number[] = [];
  for (let i = 0; i < n; i++) {
    const delay = backoff.next();
    assert.notEqual(delay, null, `attempt ${i} gave up`);
    delays.push(delay as number);
  }
  return delays;
}

describe('Backoff', () => {
  it('has the documented defaults: caps 500, 1000, 2000 ... up to 20000, unlimited attempts', () => {
    assert.deepEqual(BACKOFF_DEFAULTS, {
      minDelayMs: 500,
      maxDelayMs: 20000,
      factor: 2,
      maxAttempts: Infinity,
      minUptimeMs: 5000,
    });
    // random() = 1 draws the top of each window, which is the cap itself.
    const backoff = new Backoff({ random: () => 1 });
    assert.deepEqual(take(backoff, 9), [500, 1000, 2000, 4000, 8000, 16000, 20000, 20000, 20000]);
    assert.equal(backoff.attempt, 9);
    take(backoff, 10_000);
    assert.equal(backoff.next(), 20000, 'still going after 10,000 attempts');
  });

  it('full jitter: every delay lies in [0, cap(attempt)], with no floor', () => {
    const backoff = new Backoff({ minDelayMs: 100, maxDelayMs: 5000, factor: 3, random: seeded(1) });
    let belowMin = 0;
    for (let round = 0; round < 200; round++) {
      backoff.reset();
      for (let attempt = 0; attempt < 12; attempt++) {
        const cap = backoff.cap(attempt);
        const delay = backoff.next();
        assert.ok(
          delay !== null && delay >= 0 && delay <= cap,
          `attempt ${attempt}: ${delay} not in [0, ${cap}]`,
        );
        if (delay < 100) belowMin += 1;
      }
    }
    assert.ok(belowMin > 0, 'minDelayMs is a cap of the first window, not a floor');
    assert.equal(new Backoff({ random: () => 0 }).next(), 0);
  });

  it('the cap grows by factor per attempt, then saturates at maxDelayMs without overflowing', () => {
    const backoff = new Backoff({ minDelayMs: 250, maxDelayMs: 10_000, factor: 1.5 });
    const caps = Array.from({ length: 12 }, (_, n) => backoff.cap(n));
    for (let n = 1; n < caps.length; n++) {
      const previous = caps[n - 1] as number;
      assert.equal(caps[n], Math.min(10_000, previous * 1.5));
    }
    assert.equal(caps[0], 250);
    assert.equal(caps[11], 10_000);
    assert.equal(backoff.cap(100_000), 10_000, 'factor^attempt overflows to Infinity; the cap does not');
    assert.equal(new Backoff({ factor: 1, minDelayMs: 700, maxDelayMs: 900 }).cap(50), 700);
  });

  it('is deterministic for a given random source', () => {
    const a = take(new Backoff({ random: seeded(42) }), 50);
    const b = take(new Backoff({ random: seeded(42) }), 50);
    const c = take(new Backoff({ random: seeded(43) }), 50);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    let i = 0;
    const fixed = [0.25, 0.5, 0.75];
    const backoff = new Backoff({ random: () => fixed[i++ % 3] as number });
    assert.deepEqual(take(backoff, 3), [125, 500, 1500]);
  });

  it('spreads delays uniformly over the window (seeded PRNG, 20,000 draws at the saturated cap)', () => {
    const backoff = new Backoff({ minDelayMs: 1000, maxDelayMs: 1000, random: seeded(7) });
    const buckets = new Array<number>(10).fill(0);
    let sum = 0;
    const draws = 20_000;
    for (let i = 0; i < draws; i++) {
      const delay = backoff.next() as number;
      sum += delay;
      const bucket = Math.min(9, Math.floor(delay / 100));
      buckets[bucket] = (buckets[bucket] ?? 0) + 1;
    }
    const mean = sum / draws;
    assert.ok(Math.abs(mean - 500) < 10, `mean ${mean} should be near half the cap`);
    for (const [index, count] of buckets.entries()) {
      // Expected 2000 per bucket; the standard deviation is about 42, so +-200 is a wide margin.
      assert.ok(Math.abs(count - 2000) < 200, `bucket ${index} holds ${count}`);
    }
  });

  it('resets the attempt counter only after a connection stayed up for minUptimeMs', () => {
    const backoff = new Backoff({ random: () => 1 });
    take(backoff, 4);
    backoff.connected(10_000);
    assert.equal(backoff.disconnected(14_999), false, 'up 4999 ms: a flapping server keeps the backoff');
    assert.equal(backoff.attempt, 4);
    assert.equal(backoff.next(), 8000);
    backoff.connected(20_000);
    assert.equal(backoff.disconnected(25_000), true, 'up exactly minUptimeMs');
    assert.equal(backoff.attempt, 0);
    assert.equal(backoff.next(), 500);
    assert.equal(backoff.disconnected(99_999), false, 'a failed attempt (no connected()) resets nothing');
    assert.equal(backoff.attempt, 1);
    const eager = new Backoff({ minUptimeMs: 0, random: () => 1 });
    take(eager, 3);
    eager.connected(5);
    assert.equal(eager.disconnected(5), true);
    assert.equal(eager.attempt, 0);
  });

  it('gives up after maxAttempts delays, until reset', () => {
    const backoff = new Backoff({ maxAttempts: 3, random: () => 1 });
    assert.deepEqual(take(backoff, 3), [500, 1000, 2000]);
    assert.equal(backoff.next(), null);
    assert.equal(backoff.next(), null);
    assert.equal(backoff.attempt, 3);
    backoff.reset();
    assert.equal(backoff.next(), 500);
    assert.equal(new Backoff({ maxAttempts: 0 }).next(), null, 'maxAttempts 0: never retry');
  });

  it('clamps a random source that strays outside [0, 1], reading NaN as the longest wait', () => {
    const values = [1.5, -0.5, Number.NaN];
    let i = 0;
    const backoff = new Backoff({ minDelayMs: 100, maxDelayMs: 100, random: () => values[i++] as number });
    assert.deepEqual(take(backoff, 3), [100, 0, 100]);
  });

  it('rejects invalid options with InvalidOptionError naming the option and value', () => {
    const cases: [BackoffOptions, string, unknown][] = [
      [{ minDelayMs: 0 }, 'minDelayMs', 0],
      [{ minDelayMs: Number.NaN }, 'minDelayMs', Number.NaN],
      [{ maxDelayMs: Infinity }, 'maxDelayMs', Infinity],
      [{ maxDelayMs: 3_000_000_000 }, 'maxDelayMs', 3_000_000_000],
      [{ minDelayMs: 1000, maxDelayMs: 999 }, 'maxDelayMs', 999],
      [{ factor: 0.5 }, 'factor', 0.5],
      [{ factor: Infinity }, 'factor', Infinity],
      [{ maxAttempts: -1 }, 'maxAttempts', -1],
      [{ maxAttempts: 1.5 }, 'maxAttempts', 1.5],
      [{ minUptimeMs: -1 }, 'minUptimeMs', -1],
      [{ random: 'dice' as unknown as () => number }, 'random', 'dice'],
    ];
    for (const [options, option, value] of cases) {
      assert.throws(
        () => new Backoff(options),
        (error: unknown) => {
          assert.ok(error instanceof InvalidOptionError, `${option}: ${String(error)}`);
          assert.equal(error.code, 'invalid_option');
          assert.equal(error.option, option);
          assert.ok(Object.is(error.value, value), `${option}: value ${String(error.value)}`);
          assert.match(error.message, new RegExp(option));
          return true;
        },
      );
    }
    assert.doesNotThrow(() => new Backoff({ maxAttempts: Infinity, minUptimeMs: 0, factor: 1 }));
  });
});
