/**
 * The concurrency limit (util/concurrency-limit.ts), I/O-free: tasks are promises the test settles by
 * hand and time is a fake clock. At most `concurrency` run, the rest start in arrival order; the queue
 * is bounded in length (refused at once) and in time (refused by one timer); a failing task frees its slot
 * and its error reaches its caller; rejectWaiting refuses the waiting and leaves the running alone.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConcurrencyLimit } from '../src/util/concurrency-limit.js';
import type { ConcurrencyLimitOptions, ConcurrencyRefusal } from '../src/util/concurrency-limit.js';
import { FakeClock } from './fake-clock.js';

/** A task the test settles by hand, recording when it started. */
class ManualTask {
  started = false;
  private settle: { resolve: (value: string) => void; reject: (error: Error) => void } | null = null;

  constructor(readonly name: string) {}

  readonly run = (): Promise<string> => {
    this.started = true;
    return new Promise<string>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
  };

  resolve(): void {
    assert.ok(this.settle !== null, `${this.name} never started`);
    this.settle.resolve(this.name);
  }

  reject(error: Error): void {
    assert.ok(this.settle !== null, `${this.name} never started`);
    this.settle.reject(error);
  }
}

/** A refusal as an error that carries it, so tests can check why. */
class Refused extends Error {
  constructor(readonly refusal: ConcurrencyRefusal) {
    super(refusal.reason);
  }
}

function limit(
  clock: FakeClock,
  overrides: Partial<ConcurrencyLimitOptions> = {},
): { limit: ConcurrencyLimit; clock: FakeClock } {
  const options: ConcurrencyLimitOptions = {
    concurrency: 2,
    maxWaiting: 100,
    maxWaitMs: 1000,
    clock,
    refuse: (refusal) => new Refused(refusal),
    ...overrides,
  };
  return { limit: new ConcurrencyLimit(options), clock };
}

/** Let every pending promise reaction run (settled tasks free their slots in reactions). */
async function settled(): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Record how `promise` settles without leaving a rejection unhandled. */
function outcome<T>(promise: Promise<T>): { value?: T; error?: unknown; done: boolean } {
  const result: { value?: T; error?: unknown; done: boolean } = { done: false };
  promise.then(
    (value) => {
      result.value = value;
      result.done = true;
    },
    (error: unknown) => {
      result.error = error;
      result.done = true;
    },
  );
  return result;
}

describe('ConcurrencyLimit', () => {
  it('runs at most `concurrency` tasks at once and starts the others in arrival order', async () => {
    const { limit: l } = limit(new FakeClock(), { concurrency: 2 });
    const tasks = ['a', 'b', 'c', 'd', 'e'].map((name) => new ManualTask(name));
    const started: string[] = [];
    const results = tasks.map((task) =>
      outcome(
        l.run(() => {
          started.push(task.name);
          return task.run();
        }),
      ),
    );
    assert.deepEqual(started, ['a', 'b'], 'the first two start at once, synchronously');
    assert.deepEqual([l.running, l.waiting], [2, 3]);

    tasks[1]?.resolve();
    await settled();
    assert.deepEqual(started, ['a', 'b', 'c'], 'a freed slot goes to the oldest waiter');
    assert.equal(results[1]?.value, 'b');
    tasks[0]?.resolve();
    tasks[2]?.resolve();
    await settled();
    assert.deepEqual(started, ['a', 'b', 'c', 'd', 'e']);
    assert.deepEqual([l.running, l.waiting], [2, 0]);
    tasks[3]?.resolve();
    tasks[4]?.resolve();
    await settled();
    assert.deepEqual(
      results.map((r) => r.value),
      ['a', 'b', 'c', 'd', 'e'],
    );
    assert.deepEqual([l.running, l.waiting], [0, 0]);
  });

  it('keeps arrival order through thousands of waiters (the queue compacts as it drains)', async () => {
    const { limit: l } = limit(new FakeClock(), { concurrency: 3, maxWaiting: Infinity });
    const order: number[] = [];
    const all = Array.from({ length: 5000 }, (_, i) =>
      l.run(async () => {
        order.push(i);
        await Promise.resolve();
        return i;
      }),
    );
    assert.equal(l.waiting, 4997);
    assert.deepEqual(
      await Promise.all(all),
      Array.from({ length: 5000 }, (_, i) => i),
    );
    assert.deepEqual(
      order,
      Array.from({ length: 5000 }, (_, i) => i),
    );
    assert.deepEqual([l.running, l.waiting], [0, 0]);
  });

  it('refuses a task at once when `maxWaiting` tasks already wait, leaving the others be', async () => {
    const { limit: l } = limit(new FakeClock(), { concurrency: 1, maxWaiting: 2 });
    const running = new ManualTask('running');
    const first = outcome(l.run(running.run));
    const waiters = [
      outcome(l.run(() => Promise.resolve('w1'))),
      outcome(l.run(() => Promise.resolve('w2'))),
    ];
    let ran = false;
    const refused = outcome(
      l.run(() => {
        ran = true;
        return Promise.resolve('never');
      }),
    );
    await settled();
    assert.ok(refused.done && refused.error instanceof Refused);
    assert.deepEqual(refused.error.refusal, { reason: 'queue-full', waiting: 2 });
    assert.equal(ran, false, 'a refused task never runs');
    assert.deepEqual([l.running, l.waiting], [1, 2]);

    running.resolve();
    await settled();
    assert.deepEqual([first.value, ...waiters.map((w) => w.value)], ['running', 'w1', 'w2']);
    assert.deepEqual([l.running, l.waiting], [0, 0]);
  });

  it('maxWaiting 0 never queues: a task runs at once or is refused', async () => {
    const { limit: l } = limit(new FakeClock(), { concurrency: 1, maxWaiting: 0 });
    const running = new ManualTask('running');
    const first = outcome(l.run(running.run));
    const refused = outcome(l.run(() => Promise.resolve('never')));
    await settled();
    assert.ok(refused.error instanceof Refused);
    running.resolve();
    await settled();
    assert.equal(first.value, 'running');
  });

  it('refuses tasks that waited `maxWaitMs`, oldest first, with one timer for the whole queue', async () => {
    const clock = new FakeClock();
    const { limit: l } = limit(clock, { concurrency: 1, maxWaitMs: 1000 });
    const running = new ManualTask('running');
    outcome(l.run(running.run));
    assert.equal(clock.active.length, 0, 'no timer while nobody waits');
    const early = [outcome(l.run(() => Promise.resolve('e1'))), outcome(l.run(() => Promise.resolve('e2')))];
    assert.equal(clock.active.length, 1);
    clock.advance(600);
    const late = outcome(l.run(() => Promise.resolve('late')));
    assert.equal(clock.active.length, 1, 'a later waiter adds no timer');

    clock.advance(399);
    await settled();
    assert.ok(!early.some((e) => e.done), 'not refused before the bound');
    clock.advance(1);
    await settled();
    for (const e of early) {
      assert.ok(e.error instanceof Refused);
      assert.deepEqual(e.error.refusal, { reason: 'waited-too-long', waitedMs: 1000 });
    }
    assert.equal(late.done, false, 'a waiter not yet due keeps waiting');
    assert.deepEqual([l.running, l.waiting, clock.active.length], [1, 1, 1]);

    // Its turn comes before its bound: it runs, and the timer goes with the last waiter.
    clock.advance(300);
    running.resolve();
    await settled();
    assert.equal(late.value, 'late');
    assert.deepEqual([l.running, l.waiting, clock.active.length], [0, 0, 0]);
  });

  it('a rejecting or throwing task frees its slot and its caller gets its error', async () => {
    const { limit: l } = limit(new FakeClock(), { concurrency: 1 });
    const failing = new ManualTask('failing');
    const failed = outcome(l.run(failing.run));
    const thrown = outcome(
      l.run((): Promise<string> => {
        throw new TypeError('thrown synchronously');
      }),
    );
    const after = outcome(l.run(() => Promise.resolve('after')));
    const boom = new Error('boom');
    failing.reject(boom);
    await settled();
    assert.equal(failed.error, boom, 'the same error, not a wrapper');
    assert.ok(thrown.error instanceof TypeError);
    assert.equal(after.value, 'after');
    assert.deepEqual([l.running, l.waiting], [0, 0]);
  });

  it('rejectWaiting refuses every waiting task with its own error; running tasks go on', async () => {
    const clock = new FakeClock();
    const { limit: l } = limit(clock, { concurrency: 1 });
    const running = new ManualTask('running');
    const first = outcome(l.run(running.run));
    const waiters = [1, 2, 3].map((n) => outcome(l.run(() => Promise.resolve(`w${n}`))));
    assert.equal(clock.active.length, 1);
    l.rejectWaiting(() => new Error('backend gone'));
    await settled();
    const errors = waiters.map((w) => w.error);
    assert.ok(errors.every((e) => e instanceof Error && e.message === 'backend gone'));
    assert.equal(new Set(errors).size, 3, 'one error each');
    assert.deepEqual([l.running, l.waiting, clock.active.length], [1, 0, 0]);

    running.resolve();
    const next = outcome(l.run(() => Promise.resolve('next')));
    await settled();
    assert.equal(first.value, 'running');
    assert.equal(next.value, 'next', 'the limit keeps working');
  });

  it('refuses nonsense options', () => {
    const clock = new FakeClock();
    assert.throws(() => limit(clock, { concurrency: 0 }), RangeError);
    assert.throws(() => limit(clock, { concurrency: 1.5 }), RangeError);
    assert.throws(() => limit(clock, { maxWaiting: -1 }), RangeError);
    assert.throws(() => limit(clock, { maxWaitMs: 0 }), RangeError);
    assert.throws(() => limit(clock, { maxWaitMs: Number.NaN }), RangeError);
    limit(clock, { concurrency: Infinity, maxWaiting: Infinity, maxWaitMs: Infinity });
  });
});
