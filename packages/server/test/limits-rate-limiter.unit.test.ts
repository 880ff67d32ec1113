import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RateLimiter, rateLimited } from '../src/limits/rate-limiter.js';
import type { RateLimitSettings } from '../src/limits/rate-limiter.js';
import { DEFAULT_LIMITS } from '../src/limits/resolved-limits.js';

const T0 = 1_700_000_000_000;

const SETTINGS: RateLimitSettings = {
  messagesPerSecond: 10,
  messageBurst: 20,
  bytesPerSecond: 1000,
  byteBurst: 4000,
  rateLimitedBurst: 5,
  rateLimitedRefillPerSecond: 1,
};

describe('RateLimiter: messages', () => {
  it('passes a burst of messageBurst frames at one instant, then refuses for messages', () => {
    const limiter = new RateLimiter(SETTINGS, T0);
    for (let i = 0; i < 20; i++) assert.equal(limiter.take(10, T0), null, `frame ${i}`);
    assert.equal(limiter.take(10, T0), 'messages');
  });

  it('refills at messagesPerSecond', () => {
    const limiter = new RateLimiter(SETTINGS, T0);
    for (let i = 0; i < 20; i++) limiter.take(1, T0);
    assert.equal(limiter.take(1, T0 + 99), 'messages');
    assert.equal(limiter.take(1, T0 + 100), null);
    assert.equal(limiter.take(1, T0 + 100), 'messages');
  });

  it('sustains exactly the configured rate after the burst', () => {
    const limiter = new RateLimiter(SETTINGS, T0);
    let passed = 0;
    // A client trying 100 frames per second for 10 s.
    for (let t = 0; t < 10_000; t += 10) if (limiter.take(1, T0 + t) === null) passed++;
    assert.ok(passed >= 20 + 99 && passed <= 20 + 100, `passed ${passed}`);
  });
});

describe('RateLimiter: bytes', () => {
  it('refuses a frame larger than the bytes left, without spending a message token', () => {
    const limiter = new RateLimiter(SETTINGS, T0);
    assert.equal(limiter.take(3000, T0), null);
    assert.equal(limiter.take(1500, T0), 'bytes');
    // 18 small frames still fit in the message bucket (19 left) and the 1000 bytes left.
    for (let i = 0; i < 19; i++) assert.equal(limiter.take(50, T0), null, `frame ${i}`);
    assert.equal(limiter.take(1, T0), 'messages');
  });

  it('refills at bytesPerSecond and lets a frame of the whole burst through from a full bucket', () => {
    const limiter = new RateLimiter(SETTINGS, T0);
    assert.equal(limiter.take(4000, T0), null);
    assert.equal(limiter.take(1, T0), 'bytes');
    assert.equal(limiter.take(500, T0 + 500), null);
    assert.equal(limiter.take(4000, T0 + 4000), 'bytes', '3500 bytes back, not 4000');
    assert.equal(limiter.take(4000, T0 + 4500), null);
  });
});

describe('RateLimiter: refusals and the close', () => {
  it('allows rateLimitedBurst refusals, then asks for the close', () => {
    const limiter = new RateLimiter(SETTINGS, T0);
    for (let i = 0; i < 5; i++) assert.equal(limiter.strike(T0), false, `strike ${i}`);
    assert.equal(limiter.strike(T0), true);
  });

  it('forgives refusals at rateLimitedRefillPerSecond', () => {
    const limiter = new RateLimiter(SETTINGS, T0);
    for (let i = 0; i < 5; i++) limiter.strike(T0);
    assert.equal(limiter.strike(T0 + 1000), false);
    assert.equal(limiter.strike(T0 + 1000), true);
  });

  it('closes a flood after a bounded number of refusals, however fast it sends', () => {
    const limiter = new RateLimiter(SETTINGS, T0);
    let refused = 0;
    let closedAt = -1;
    for (let i = 0; i < 1_000_000 && closedAt === -1; i++) {
      if (limiter.take(10, T0) === null) continue;
      if (limiter.strike(T0)) closedAt = i;
      else refused++;
    }
    assert.equal(refused, 5);
    assert.equal(closedAt, 20 + 5);
  });

  it('closes sustained overage in seconds, and never closes a client just under the limit', () => {
    const run = (perSecond: number, seconds: number): number | null => {
      const limiter = new RateLimiter(SETTINGS, T0);
      const step = 1000 / perSecond;
      for (let t = 0; t < seconds * 1000; t += step) {
        if (limiter.take(10, T0 + t) !== null && limiter.strike(T0 + t)) return t;
      }
      return null;
    };
    const twice = run(20, 60);
    assert.ok(twice !== null && twice < 5000, `2x the rate closed at ${twice} ms`);
    assert.equal(run(9.5, 600), null);
  });
});

describe('rateLimited and disabled buckets', () => {
  it('is off only when both rates are 0', () => {
    assert.equal(rateLimited(DEFAULT_LIMITS), true);
    assert.equal(rateLimited({ ...SETTINGS, messagesPerSecond: 0 }), true);
    assert.equal(rateLimited({ ...SETTINGS, messagesPerSecond: 0, bytesPerSecond: 0 }), false);
  });

  it('a rate of 0 disables its bucket; the byte size then does not matter', () => {
    const messagesOnly = new RateLimiter({ ...SETTINGS, bytesPerSecond: 0 }, T0);
    assert.equal(messagesOnly.countsBytes, false);
    assert.equal(messagesOnly.take(1_000_000, T0), null);
    const bytesOnly = new RateLimiter({ ...SETTINGS, messagesPerSecond: 0 }, T0);
    assert.equal(bytesOnly.countsBytes, true);
    for (let i = 0; i < 400; i++) assert.equal(bytesOnly.take(10, T0), null);
    assert.equal(bytesOnly.take(10, T0), 'bytes');
  });
});
