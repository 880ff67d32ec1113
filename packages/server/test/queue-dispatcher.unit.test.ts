// The queue dispatcher on the memory queue store, without a server: server-side workers as consumers, a
// store that counts the claims in flight. A burst of wake-ups must not stampede the store.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryQueueStore } from '../src/inbox/memory-queue-store.js';
import type { QueueStore } from '../src/inbox/queue-store.js';
import { QueueDispatcher } from '../src/hub/queue-dispatcher.js';
import { NoopMetrics, silentLogger } from '../src/index.js';
import { systemClock } from '../src/util/clock.js';
import { until } from './helpers.js';

/** The memory store, its claims slowed by a turn of the event loop and counted while in flight. */
function countingStore(): { store: QueueStore; claims: { inFlight: number; most: number; total: number } } {
  const inner = new MemoryQueueStore();
  const claims = { inFlight: 0, most: 0, total: 0 };
  const store: QueueStore = Object.assign(Object.create(inner) as QueueStore, {
    async claim(...args: Parameters<QueueStore['claim']>) {
      claims.inFlight++;
      claims.total++;
      claims.most = Math.max(claims.most, claims.inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      try {
        return await inner.claim(...args);
      } finally {
        claims.inFlight--;
      }
    },
  });
  return { store, claims };
}

function dispatcher(store: QueueStore): QueueDispatcher {
  return new QueueDispatcher({
    nodeId: 'n1',
    store,
    ackTimeoutMs: 30_000,
    pollMs: 1000,
    backoff: () => 0,
    permits: () => Promise.resolve(true),
    replies: { reply() {}, error() {}, writeText() {} },
    deadLettered() {},
    metrics: new NoopMetrics(),
    logger: silentLogger,
    clock: systemClock,
  });
}

test('a burst of enqueues and acks keeps one claim per queue in flight, and each job runs once', async () => {
  const { store, claims } = countingStore();
  const queues = dispatcher(store);
  const seen = new Map<string, number>();
  const workers = [1, 2, 3].map(() =>
    queues.work(
      'burst',
      (job) => {
        seen.set(job.id, (seen.get(job.id) ?? 0) + 1);
      },
      2,
    ),
  );
  for (let i = 0; i < 100; i++) {
    await store.enqueue({ queue: 'burst', json: String(i), maxAttempts: 5, now: Date.now() });
    queues.notify('burst');
  }
  await until(() => seen.size === 100, 5000, '100 jobs');
  await Promise.all(workers.map((w) => w.stop()));
  assert.equal(claims.most, 1, 'claims of one queue never overlap');
  assert.ok([...seen.values()].every((n) => n === 1));
  assert.deepEqual(await store.depth('burst'), { waiting: 0, claimed: 0 });
  assert.equal(queues.consumers('burst'), 0);
});

test('workers share a queue round robin, each within its prefetch', async () => {
  const store = new MemoryQueueStore();
  const queues = dispatcher(store);
  for (let i = 0; i < 30; i++)
    await store.enqueue({ queue: 'rr', json: String(i), maxAttempts: 5, now: Date.now() });
  const running = [0, 0];
  const handled = [0, 0];
  const gates: (() => void)[] = [];
  const workers = [0, 1].map((w) =>
    queues.work(
      'rr',
      async () => {
        running[w] = (running[w] ?? 0) + 1;
        assert.ok((running[w] ?? 0) <= 3, `worker ${w} runs ${running[w]} jobs with prefetch 3`);
        await new Promise<void>((resolve) => gates.push(resolve));
        running[w] = (running[w] ?? 0) - 1;
        handled[w] = (handled[w] ?? 0) + 1;
      },
      3,
    ),
  );
  // Let jobs through a few at a time: both workers stay busy, neither exceeds its prefetch.
  while ((handled[0] ?? 0) + (handled[1] ?? 0) < 30) {
    await until(() => gates.length > 0, 3000, 'a running job');
    gates.splice(0).forEach((open) => open());
    await new Promise((resolve) => setImmediate(resolve));
  }
  await Promise.all(workers.map((w) => w.stop()));
  assert.ok((handled[0] ?? 0) >= 10 && (handled[1] ?? 0) >= 10, `shares ${handled.join(' / ')}`);
});
