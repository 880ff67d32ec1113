/**
 * The undelivered sweep against a test-local fake of InboxStore.undelivered (no memory inbox store had
 * landed when this was written): asks with `now - undeliveredAfterMs`, reports each message to the hook
 * and the webhook once, batches until a short batch, and survives a failing store and a throwing hook.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { InboxMessage, InboxStore } from '../src/inbox/inbox-store.js';
import { UndeliveredSweep, undeliveredSweepFor } from '../src/hub/undelivered-sweep.js';
import type { UndeliveredMessage } from '../src/hub/hooks.js';
import { InvalidOptionError, NoopMetrics, Webhooks } from '../src/index.js';
import { FakeClock } from './fake-clock.js';
import { recordingLogger } from './helpers.js';

/** InboxStore.undelivered over a list: each message reported once (as the contract says). */
class FakeUndelivered implements Pick<InboxStore, 'undelivered'> {
  readonly calls: { before: number; limit: number }[] = [];
  private readonly reported = new Set<string>();
  failNext = false;

  constructor(readonly messages: InboxMessage[]) {}

  undelivered(before: number, limit: number): Promise<readonly InboxMessage[]> {
    this.calls.push({ before, limit });
    if (this.failNext) {
      this.failNext = false;
      return Promise.reject(new Error('store down'));
    }
    const out = this.messages.filter((m) => m.time <= before && !this.reported.has(m.id)).slice(0, limit);
    for (const m of out) this.reported.add(m.id);
    return Promise.resolve(out);
  }
}

function message(n: number, time: number): InboxMessage {
  return {
    id: `m${n}`,
    userId: `u${n % 2}`,
    seq: n,
    json: JSON.stringify({ n }),
    time,
    expiresAt: time + 86_400_000,
    maxAttempts: 5,
  };
}

describe('UndeliveredSweep', () => {
  it('reports messages older than undeliveredAfterMs once each, in batches, on its timer', async () => {
    const clock = new FakeClock();
    const t0 = clock.now();
    const store = new FakeUndelivered([
      message(1, t0),
      message(2, t0),
      message(3, t0),
      message(4, t0 + 5000),
    ]);
    const seen: [string, UndeliveredMessage][] = [];
    const sweep = new UndeliveredSweep({
      store,
      undeliveredAfterMs: 1000,
      intervalMs: 100,
      batch: 2,
      hooks: { onUndelivered: (userId, m) => void seen.push([userId, m]) },
      logger: recordingLogger().logger,
      clock,
    });
    assert.equal(await sweep.sweep(), 0); // nothing is 1 s old yet
    assert.equal(store.calls[0]?.before, t0 - 1000);
    clock.advance(1000);
    sweep.start();
    clock.advance(100);
    await sweep.sweep(); // the timer's pass, already running
    await sweep.stop();
    assert.deepEqual(
      seen.map(([userId, m]) => [userId, m.id, m.data]),
      [
        ['u1', 'm1', { n: 1 }],
        ['u0', 'm2', { n: 2 }],
        ['u1', 'm3', { n: 3 }],
      ],
    );
    assert.deepEqual(seen[0]?.[1], {
      id: 'm1',
      seq: 1,
      data: { n: 1 },
      time: t0,
      expiresAt: t0 + 86_400_000,
    });
    assert.equal(await sweep.sweep(), 0, 'each message once');
  });

  it('logs a failing store and a throwing hook, and goes on', async () => {
    const clock = new FakeClock();
    const store = new FakeUndelivered([message(1, clock.now())]);
    const { logger, lines } = recordingLogger();
    const sweep = new UndeliveredSweep({
      store,
      undeliveredAfterMs: 1,
      hooks: {
        onUndelivered: () => {
          throw new Error('hook bug');
        },
      },
      logger,
      clock,
    });
    clock.advance(1);
    store.failNext = true;
    assert.equal(await sweep.sweep(), 0);
    assert.equal(await sweep.sweep(), 1);
    assert.deepEqual(
      lines.map((l) => l.msg),
      ['undelivered sweep failed; it runs again at the next interval', 'hook failed'],
    );
  });

  it('runs only when a hook or a webhook wants undelivered messages; validates undeliveredAfterMs', () => {
    const clock = new FakeClock();
    const base = { store: new FakeUndelivered([]), logger: recordingLogger().logger, clock };
    const deps = { metrics: new NoopMetrics(), logger: base.logger, clock };
    assert.equal(undeliveredSweepFor({ ...base, hooks: {} }), null);
    const offlineOnly = new Webhooks([{ url: 'http://x', secret: 's', events: ['user.offline'] }], {}, deps);
    assert.equal(undeliveredSweepFor({ ...base, hooks: {}, webhooks: offlineOnly }), null);
    const all = new Webhooks([{ url: 'http://x', secret: 's' }], {}, deps);
    assert.ok(undeliveredSweepFor({ ...base, hooks: {}, webhooks: all }) instanceof UndeliveredSweep);
    assert.ok(
      undeliveredSweepFor({ ...base, hooks: { onUndelivered: () => {} } }) instanceof UndeliveredSweep,
    );
    assert.throws(
      () => new UndeliveredSweep({ ...base, hooks: {}, undeliveredAfterMs: 0 }),
      InvalidOptionError,
    );
  });
});
