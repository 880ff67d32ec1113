/**
 * The reconnect schedule as pure logic on a manual clock: full-jitter delays from an injected random
 * source, the close codes that forbid a retry, the reset after a minimum uptime, and `online` events.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff } from '../src/index.js';
import { Reconnector } from '../src/reconnector.js';
import type { BackoffOptions } from '../src/index.js';
import { ManualClock } from './manual-clock.js';
import { seededRandom, testSeed } from './seeded-random.js';

function reconnector(backoff: BackoffOptions, options: { enabled?: boolean; network?: EventTarget } = {}) {
  const clock = new ManualClock();
  let retries = 0;
  const r = new Reconnector({
    enabled: options.enabled ?? true,
    backoff: new Backoff(backoff),
    clock,
    network: options.network ?? null,
    retry: () => retries++,
  });
  return { r, clock, retries: () => retries };
}

describe('Reconnector', () => {
  it('draws every delay from [0, min(max, min * 2^n)] and retries when it elapses', () => {
    const seed = testSeed();
    const random = seededRandom(seed);
    const draws: number[] = [];
    const { r, clock, retries } = reconnector({
      minDelayMs: 100,
      maxDelayMs: 1000,
      random: () => {
        const value = random();
        draws.push(value);
        return value;
      },
    });
    r.start();
    for (let n = 0; n < 8; n++) {
      const verdict = r.lost(1006, clock.now());
      assert.equal(verdict.retry, true, `seed ${seed}`);
      if (!verdict.retry) return;
      const cap = Math.min(1000, 100 * 2 ** n);
      assert.equal(verdict.attempt, n + 1);
      assert.equal(verdict.delayMs, (draws[n] ?? NaN) * cap, `seed ${seed}, attempt ${n + 1}`);
      assert.ok(verdict.delayMs >= 0 && verdict.delayMs <= cap);
      assert.equal(r.pending, true);
      clock.advance(verdict.delayMs * 0.999);
      assert.equal(retries(), verdict.delayMs === 0 ? n + 1 : n, 'not before the delay');
      clock.advance(verdict.delayMs);
      assert.equal(retries(), n + 1);
      assert.equal(r.pending, false);
    }
  });

  it('stops after maxAttempts, and start() (the application calling connect) begins again', () => {
    const { r, clock } = reconnector({ minDelayMs: 10, maxAttempts: 2, random: () => 0.5 });
    r.start();
    assert.deepEqual(r.lost(1006, 0), { retry: true, attempt: 1, delayMs: 5 });
    assert.deepEqual(r.lost(1006, 0), { retry: true, attempt: 2, delayMs: 10 });
    assert.deepEqual(r.lost(1006, 0), { retry: false, why: 'exhausted' });
    assert.equal(r.pending, false);
    assert.equal(clock.pending, 0);
    r.start();
    assert.deepEqual(r.lost(1006, 0), { retry: true, attempt: 1, delayMs: 5 });
  });

  it('never retries after a terminal close code, nor when disabled', () => {
    const { r, clock } = reconnector({ random: () => 0.5 });
    r.start();
    for (const code of [4500, 4501, 4502, 4503, 4504, 4505, 4506, 4999, 1000, 1002, 1003, 1008, 1009]) {
      assert.deepEqual(r.lost(code, 0), { retry: false, why: 'terminal' }, `code ${code}`);
    }
    for (const code of [1001, 1006, 1011, 1012, 1013, 4000, 4001, 4002, 4003, 4004, 4499]) {
      assert.equal(r.lost(code, 0).retry, true, `code ${code}`);
    }
    assert.equal(clock.pending, 1);
    const off = reconnector({}, { enabled: false });
    assert.deepEqual(off.r.lost(1006, 0), { retry: false, why: 'disabled' });
  });

  it('resets the delays only after a connection stayed up minUptimeMs', () => {
    const { r, clock } = reconnector({
      minDelayMs: 100,
      maxDelayMs: 10_000,
      minUptimeMs: 5000,
      random: () => 1,
    });
    r.start();
    assert.equal(r.lost(1006, clock.now()).retry, true);
    assert.deepEqual(r.lost(1006, clock.now()), { retry: true, attempt: 2, delayMs: 200 });
    // Up for 4999 ms: a server that accepts and drops does not reset the backoff.
    r.connected(clock.now());
    clock.advance(4999);
    assert.deepEqual(r.lost(1006, clock.now()), { retry: true, attempt: 3, delayMs: 400 });
    r.connected(clock.now());
    clock.advance(5000);
    assert.deepEqual(r.lost(1006, clock.now()), { retry: true, attempt: 1, delayMs: 100 });
  });

  it('retries at once on an online event during a delay; ignores it otherwise; stop() stops listening', () => {
    const network = new EventTarget();
    const { r, clock, retries } = reconnector(
      { minDelayMs: 60_000, maxDelayMs: 60_000, random: () => 1 },
      { network },
    );
    network.dispatchEvent(new Event('online'));
    assert.equal(retries(), 0);
    r.start();
    network.dispatchEvent(new Event('online'));
    assert.equal(retries(), 0, 'no retry pending: nothing to cut short');
    r.lost(1006, clock.now());
    assert.equal(r.pending, true);
    network.dispatchEvent(new Event('online'));
    assert.equal(retries(), 1);
    assert.equal(r.pending, false);
    assert.equal(clock.pending, 0);
    r.lost(1006, clock.now());
    r.stop();
    network.dispatchEvent(new Event('online'));
    clock.advance(1_000_000);
    assert.equal(retries(), 1);
  });
});
