// Guaranteed delivery's options (hub/guaranteed-config.ts) and the redelivery backoff (util/full-jitter.ts):
// pure logic, no server.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_INBOX_CONFIG,
  DEFAULT_QUEUE_CONFIG,
  resolveGuaranteedConfig,
} from '../src/hub/guaranteed-config.js';
import { fullJitterDelay } from '../src/util/full-jitter.js';
import { InvalidOptionError, createServer } from '../src/index.js';

describe('resolveGuaranteedConfig', () => {
  test('defaults: 24 h TTL, 5 attempts, 30 s ack timeout, 1 s to 60 s backoff, 5 s sweep', () => {
    const config = resolveGuaranteedConfig(undefined, undefined);
    assert.deepEqual(config.inbox, DEFAULT_INBOX_CONFIG);
    assert.deepEqual(config.queues, DEFAULT_QUEUE_CONFIG);
    assert.equal(config.inbox.ttlMs, 86_400_000);
    assert.equal(config.inbox.maxAttempts, 5);
    assert.equal(config.inbox.ackTimeoutMs, 30_000);
    assert.deepEqual([config.inbox.retryMinMs, config.inbox.retryMaxMs], [1000, 60_000]);
    assert.equal(config.inbox.sweepMs, 5000);
    assert.equal(config.inbox.undeliveredAfterMs, null);
    assert.equal(config.inbox.limits.whenFull, 'reject');
  });

  test('given values win; limits are merged over the defaults', () => {
    const config = resolveGuaranteedConfig(
      {
        ttlMs: 1000,
        maxAttempts: 100,
        retryMinMs: 70_000,
        limits: { maxMessages: 3, whenFull: 'dead-letter-oldest' },
      },
      { pollMs: 50, limits: { maxJobs: 9 } },
    );
    assert.equal(config.inbox.ttlMs, 1000);
    assert.equal(config.inbox.maxAttempts, 100);
    // A minimum over the default maximum lifts the maximum with it.
    assert.deepEqual([config.inbox.retryMinMs, config.inbox.retryMaxMs], [70_000, 70_000]);
    assert.equal(config.inbox.limits.maxMessages, 3);
    assert.equal(config.inbox.limits.maxBytes, DEFAULT_INBOX_CONFIG.limits.maxBytes);
    assert.equal(config.inbox.limits.whenFull, 'dead-letter-oldest');
    assert.equal(config.queues.pollMs, 50);
    assert.equal(config.queues.limits.maxJobs, 9);
  });

  test('out of range, wrong type or unknown choice: InvalidOptionError naming the option', () => {
    const bad: [Parameters<typeof resolveGuaranteedConfig>, string][] = [
      [[{ ttlMs: 0 }, undefined], 'inbox.ttlMs'],
      [[{ ttlMs: 31 * 86_400_000 }, undefined], 'inbox.ttlMs'],
      [[{ maxAttempts: 0 }, undefined], 'inbox.maxAttempts'],
      [[{ maxAttempts: 1.5 }, undefined], 'inbox.maxAttempts'],
      [[{ ackTimeoutMs: 5 }, undefined], 'inbox.ackTimeoutMs'],
      [[{ retryMinMs: 500, retryMaxMs: 100 }, undefined], 'inbox.retryMaxMs'],
      [[{ store: 'mysql' as 'memory' }, undefined], 'inbox.store'],
      [[{ limits: { whenFull: 'drop' as 'reject' } }, undefined], 'inbox.limits.whenFull'],
      [[{ limits: { maxMessages: 0 } }, undefined], 'inbox.limits.maxMessages'],
      [[undefined, { pollMs: 1 }], 'queues.pollMs'],
      [[undefined, { maxAttempts: 101 }], 'queues.maxAttempts'],
    ];
    for (const [args, option] of bad) {
      assert.throws(
        () => resolveGuaranteedConfig(...args),
        (error: unknown) => error instanceof InvalidOptionError && error.option === option,
        option,
      );
    }
  });

  test('createServer validates them at construction', () => {
    assert.throws(() => createServer({ inbox: { ttlMs: -1 } }), InvalidOptionError);
    assert.throws(() => createServer({ inbox: { store: 'postgres' } }), /postgres/);
  });
});

describe('fullJitterDelay', () => {
  test('from 0 to a cap that starts at the minimum and doubles per attempt up to the maximum', () => {
    const top = (): number => 0.999_999;
    assert.equal(fullJitterDelay(1, 1000, 60_000, top), 1000);
    assert.equal(fullJitterDelay(2, 1000, 60_000, top), 2000);
    assert.equal(fullJitterDelay(4, 1000, 60_000, top), 8000);
    assert.equal(fullJitterDelay(7, 1000, 60_000, top), 60_000);
    assert.equal(fullJitterDelay(1000, 1000, 60_000, top), 60_000);
    assert.equal(
      fullJitterDelay(3, 1000, 60_000, () => 0),
      0,
    );
    assert.equal(
      fullJitterDelay(3, 1000, 60_000, () => 0.5),
      2000,
    );
  });
});
