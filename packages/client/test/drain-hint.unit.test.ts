/**
 * A draining server's hint (1012 with `retry after <n> ms`, docs/protocol.md#draining): the reconnect waits
 * the hinted delay instead of a backoff draw, and does not count as a failed attempt.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff } from '../src/index.js';
import { Reconnector } from '../src/reconnector.js';
import { Endpoints } from '../src/endpoints.js';
import { ManualClock } from './manual-clock.js';

describe('the drain hint', () => {
  it('replaces the backoff delay and leaves the attempt count alone', () => {
    const clock = new ManualClock();
    let retries = 0;
    const backoff = new Backoff({ minDelayMs: 100, maxDelayMs: 1000, random: () => 0.999 });
    const r = new Reconnector({ enabled: true, backoff, clock, network: null, retry: () => retries++ });
    r.start();
    r.connected(clock.now());
    const verdict = r.lost(1012, clock.now(), 1234);
    assert.deepEqual(verdict, { retry: true, attempt: 0, delayMs: 1234 });
    clock.advance(1233);
    assert.equal(retries, 0);
    clock.advance(1);
    assert.equal(retries, 1);
  });

  it('is ignored after a close that forbids reconnecting', () => {
    const clock = new ManualClock();
    const r = new Reconnector({
      enabled: true,
      backoff: new Backoff(),
      clock,
      network: null,
      retry: () => {},
    });
    assert.deepEqual(r.lost(4502, clock.now(), 10), { retry: false, why: 'terminal' });
  });

  it('endpoints move on to the next node', () => {
    const endpoints = new Endpoints(['ws://a/ws', 'ws://b/ws']);
    endpoints.attemptFailed();
    assert.equal(endpoints.current, 'ws://b/ws');
  });
});
