/**
 * The QueueStore contract, run against every implementation (queue-contract.test.ts: memory, Redis,
 * PostgreSQL). `make` builds a fresh store with the given limits; every test uses queues of its own and
 * explicit `now` values near the wall clock (no sleeping).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { nth } from './inbox-contract.js';
import type {
  EnqueueInput,
  EnqueueOutcome,
  QueueJob,
  QueueLimits,
  QueueStore,
} from '../src/inbox/queue-store.js';

/** A store under test and how to dispose of it. */
export interface QueueFixture {
  readonly store: QueueStore;
  /** Close the store and remove what the test stored (keys, rows). */
  cleanup(): Promise<void>;
}

/** Builds a fresh store with these limits (the store's defaults for the rest). */
export type QueueFactory = (limits?: Partial<QueueLimits>) => Promise<QueueFixture>;

/** The contract's cases, by key: what {@link QueueSkip} names. */
export type QueueCase =
  | 'fifo'
  | 'concurrent-claims'
  | 'ack'
  | 'lock-expiry'
  | 'nack-delay'
  | 'release'
  | 'max-attempts'
  | 'ttl'
  | 'depth'
  | 'bounds'
  | 'idempotency'
  | 'redeliver'
  | 'delete-dead-letter'
  | 'max-dead-letters'
  | 'queues';

/**
 * Why the implementation cannot run here: a string (or false) for the whole suite (a missing server), or
 * a reason per case that cannot apply to it.
 */
export type QueueSkip = string | false | Readonly<Partial<Record<QueueCase, string>>>;

/** A queue name no other test uses. */
export function freshQueue(): string {
  return `q-${randomUUID()}`;
}

/** An enqueue input: JSON `"<text>"`, 3 attempts, no TTL. */
export function job(
  queue: string,
  text: string,
  now: number,
  extra: Partial<EnqueueInput> = {},
): EnqueueInput {
  return { queue, json: JSON.stringify(text), maxAttempts: 3, now, ...extra };
}

/** The id of a successful enqueue. */
export function enqueued(outcome: EnqueueOutcome): string {
  assert.ok(outcome.ok, 'enqueue was refused');
  return outcome.id;
}

const LOCK = 1000;

/** Register the contract's tests for one implementation. */
export function runQueueContract(name: string, make: QueueFactory, skip: QueueSkip = false): void {
  function options(key: QueueCase): { skip: string | false; timeout: number } {
    const reason = typeof skip === 'object' ? (skip[key] ?? false) : skip;
    return { skip: reason, timeout: 10_000 };
  }

  function it(
    key: QueueCase,
    title: string,
    body: (store: QueueStore, queue: string, t0: number) => Promise<void>,
    limits?: Partial<QueueLimits>,
  ): void {
    test(`${key}: ${title}`, options(key), async () => {
      const fixture = await make(limits);
      try {
        await body(fixture.store, freshQueue(), Date.now());
      } finally {
        await fixture.cleanup();
      }
    });
  }

  async function enqueueAll(
    store: QueueStore,
    queue: string,
    texts: string[],
    now: number,
  ): Promise<string[]> {
    const ids: string[] = [];
    for (const text of texts) ids.push(enqueued(await store.enqueue(job(queue, text, now))));
    return ids;
  }

  async function claimOne(
    store: QueueStore,
    queue: string,
    consumer: string,
    now: number,
  ): Promise<QueueJob> {
    const { jobs } = await store.claim(queue, consumer, 1, LOCK, now);
    assert.equal(jobs.length, 1, 'one job claimed');
    return nth(jobs, 0);
  }

  describe(`QueueStore contract: ${name}`, () => {
    it('fifo', 'claims take the oldest jobs first, locked, with attempt 1', async (store, queue, t0) => {
      const ids = await enqueueAll(store, queue, ['a', 'b', 'c'], t0);
      assert.equal(new Set(ids).size, 3);
      for (const id of ids) assert.ok(id.length > 0 && id.length <= 128);
      const first = await store.claim(queue, 'c1', 2, LOCK, t0 + 5);
      assert.deepEqual(first.dead, { letters: [], dropped: 0 });
      assert.deepEqual(
        first.jobs.map((j) => j.id),
        ids.slice(0, 2),
      );
      const [a] = first.jobs;
      assert.equal(a?.queue, queue);
      assert.equal(a?.json, '"a"');
      assert.equal(a?.time, t0);
      assert.equal(a?.attempt, 1);
      assert.equal(a?.maxAttempts, 3);
      assert.equal(a?.lockedUntil, t0 + 5 + LOCK);
      assert.equal(typeof a?.token, 'string');
      const second = await store.claim(queue, 'c2', 5, LOCK, t0 + 5);
      assert.deepEqual(
        second.jobs.map((j) => j.id),
        ids.slice(2),
      );
      assert.deepEqual((await store.claim(queue, 'c3', 5, LOCK, t0 + 5)).jobs, []);
    });

    it('concurrent-claims', 'concurrent claims never get the same job', async (store, queue, t0) => {
      const ids = await enqueueAll(
        store,
        queue,
        Array.from({ length: 40 }, (_, i) => `j${i}`),
        t0,
      );
      const claims = await Promise.all(
        Array.from({ length: 16 }, (_, i) => store.claim(queue, `c${i}`, 3, LOCK, t0 + 1)),
      );
      const got = claims.flatMap((c) => c.jobs.map((j) => j.id));
      assert.equal(got.length, 40, 'every job claimed (48 slots for 40 jobs)');
      assert.deepEqual(new Set(got), new Set(ids));
      for (const claim of claims) {
        const seqs = claim.jobs.map((j) => ids.indexOf(j.id));
        assert.deepEqual(
          seqs,
          [...seqs].sort((x, y) => x - y),
          'each claim oldest first',
        );
      }
    });

    it('ack', 'ack removes the job; a wrong token or a second ack is refused', async (store, queue, t0) => {
      const [id] = await enqueueAll(store, queue, ['a'], t0);
      const claimed = await claimOne(store, queue, 'c1', t0);
      assert.equal(claimed.id, id);
      assert.equal(await store.ack(queue, claimed.id, `${claimed.token}x`), false);
      assert.equal(await store.ack(queue, claimed.id, claimed.token), true);
      assert.equal(await store.ack(queue, claimed.id, claimed.token), false);
      assert.equal(await store.ack(queue, 'no-such-id', claimed.token), false);
      assert.deepEqual(await store.depth(queue), { waiting: 0, claimed: 0 });
      assert.deepEqual((await store.claim(queue, 'c1', 5, LOCK, t0 + 10 * LOCK)).jobs, []);
    });

    it(
      'lock-expiry',
      'an expired lock makes the job claimable again, attempt + 1; the old token is refused',
      async (store, queue, t0) => {
        await enqueueAll(store, queue, ['a'], t0);
        const first = await claimOne(store, queue, 'c1', t0);
        assert.deepEqual((await store.claim(queue, 'c2', 5, LOCK, t0 + LOCK - 1)).jobs, [], 'still locked');
        const second = await claimOne(store, queue, 'c2', t0 + LOCK);
        assert.equal(second.id, first.id);
        assert.equal(second.attempt, 2);
        assert.notEqual(second.token, first.token);
        assert.equal(second.lockedUntil, t0 + 2 * LOCK);
        assert.equal(await store.ack(queue, first.id, first.token), false);
        assert.equal(await store.nack(queue, first.id, first.token, 0, t0 + LOCK), false);
        assert.equal(await store.ack(queue, second.id, second.token), true);
      },
    );

    it(
      'nack-delay',
      'a nacked job is claimable again after its delay, its attempt counted',
      async (store, queue, t0) => {
        await enqueueAll(store, queue, ['a', 'b'], t0);
        const a = await claimOne(store, queue, 'c1', t0);
        assert.equal(await store.nack(queue, a.id, `${a.token}x`, 0, t0), false);
        assert.equal(await store.nack(queue, a.id, a.token, 500, t0 + 10), true);
        assert.equal(
          await store.nack(queue, a.id, a.token, 500, t0 + 10),
          false,
          'the token no longer holds it',
        );
        assert.equal(await store.ack(queue, a.id, a.token), false);
        const meanwhile = await store.claim(queue, 'c2', 5, LOCK, t0 + 100);
        assert.deepEqual(
          meanwhile.jobs.map((j) => j.json),
          ['"b"'],
          'a waits for its delay',
        );
        const again = await claimOne(store, queue, 'c3', t0 + 510);
        assert.equal(again.id, a.id);
        assert.equal(again.attempt, 2);
        // A nack without delay: available at once.
        assert.equal(await store.nack(queue, again.id, again.token, 0, t0 + 520), true);
        assert.equal((await claimOne(store, queue, 'c1', t0 + 520)).attempt, 3);
      },
    );

    it('release', 'release gives a consumer’s jobs back at once', async (store, queue, t0) => {
      const ids = await enqueueAll(store, queue, ['a', 'b', 'c'], t0);
      const held = await store.claim(queue, 'leaver', 2, LOCK, t0);
      const other = await claimOne(store, queue, 'stayer', t0);
      assert.equal(await store.release(queue, 'leaver', t0 + 1), 2);
      assert.equal(await store.release(queue, 'nobody', t0 + 1), 0);
      const taken = await store.claim(queue, 'taker', 5, LOCK, t0 + 1);
      assert.deepEqual(
        taken.jobs.map((j) => j.id),
        ids.slice(0, 2),
      );
      assert.deepEqual(
        taken.jobs.map((j) => j.attempt),
        [2, 2],
      );
      for (const j of held.jobs) assert.equal(await store.ack(queue, j.id, j.token), false);
      assert.equal(await store.ack(queue, other.id, other.token), true, 'the other consumer keeps its job');
      assert.equal(await store.release(queue, 'leaver', t0 + 2), 0);
    });

    it(
      'max-attempts',
      'a job whose attempts are spent is dead-lettered at claim time',
      async (store, queue, t0) => {
        const doomed = enqueued(await store.enqueue(job(queue, 'doomed', t0, { maxAttempts: 2 })));
        const next = enqueued(await store.enqueue(job(queue, 'next', t0)));
        const first = await claimOne(store, queue, 'c1', t0);
        assert.equal(first.id, doomed);
        await store.nack(queue, first.id, first.token, 0, t0);
        const second = await claimOne(store, queue, 'c1', t0);
        assert.equal(second.attempt, 2);
        // Its lock expires: a third claim would exceed maxAttempts.
        const third = await store.claim(queue, 'c2', 1, LOCK, t0 + LOCK);
        assert.deepEqual(
          third.jobs.map((j) => j.id),
          [next],
          'the next job is claimed instead',
        );
        assert.equal(third.dead.letters.length, 1);
        const letter = third.dead.letters[0];
        assert.equal(letter?.id, doomed);
        assert.equal(letter?.reason, 'max_attempts');
        assert.equal(letter?.attempts, 2);
        assert.equal(letter?.json, '"doomed"');
        assert.equal(letter?.time, t0);
        assert.equal(letter?.deadAt, t0 + LOCK);
        assert.equal(third.dead.dropped, 0);
        assert.deepEqual(await store.deadLetters(queue, 10), [letter]);
        assert.equal(await store.ack(queue, second.id, second.token), false, 'gone');
      },
    );

    it('ttl', 'a job whose TTL passed is dead-lettered (expired) at claim time', async (store, queue, t0) => {
      const short = enqueued(await store.enqueue(job(queue, 'short', t0, { ttlMs: 1000 })));
      const forever = enqueued(await store.enqueue(job(queue, 'forever', t0)));
      const claimed = await store.claim(queue, 'c1', 5, LOCK, t0 + 1000);
      assert.deepEqual(
        claimed.jobs.map((j) => j.id),
        [forever],
      );
      assert.deepEqual(
        claimed.dead.letters.map((l) => [l.id, l.reason, l.attempts]),
        [[short, 'expired', 0]],
      );
      assert.deepEqual(
        (await store.deadLetters(queue, 10)).map((l) => l.id),
        [short],
      );
      // A job without TTL never expires.
      await store.release(queue, 'c1', t0 + 1000);
      assert.equal((await claimOne(store, queue, 'c2', t0 + 1000 * 24 * 3600 * 1000)).id, forever);
    });

    it('depth', 'depth counts waiting and claimed jobs', async (store, queue, t0) => {
      assert.deepEqual(await store.depth(queue), { waiting: 0, claimed: 0 });
      await enqueueAll(store, queue, ['a', 'b', 'c'], t0);
      assert.deepEqual(await store.depth(queue), { waiting: 3, claimed: 0 });
      const { jobs } = await store.claim(queue, 'c1', 2, LOCK, t0);
      assert.deepEqual(await store.depth(queue), { waiting: 1, claimed: 2 });
      await store.ack(queue, nth(jobs, 0).id, nth(jobs, 0).token);
      await store.nack(queue, nth(jobs, 1).id, nth(jobs, 1).token, 0, t0);
      assert.deepEqual(await store.depth(queue), { waiting: 2, claimed: 0 });
    });

    it(
      'bounds',
      'past maxJobs (waiting and claimed) an enqueue is refused',
      async (store, queue, t0) => {
        await enqueueAll(store, queue, ['a', 'b'], t0);
        const claimed = await claimOne(store, queue, 'c1', t0);
        assert.deepEqual(await store.enqueue(job(queue, 'c', t0)), { ok: false, reason: 'full' });
        assert.deepEqual(await store.depth(queue), { waiting: 1, claimed: 1 });
        assert.equal(await store.ack(queue, claimed.id, claimed.token), true);
        assert.ok((await store.enqueue(job(queue, 'c', t0))).ok);
        assert.ok((await store.enqueue(job(freshQueue(), 'c', t0))).ok, 'another queue has room');
      },
      { maxJobs: 2 },
    );

    it(
      'idempotency',
      'an enqueue with a key seen within the window returns the first job’s id',
      async (store, queue, t0) => {
        const first = await store.enqueue(job(queue, 'once', t0, { idempotencyKey: 'k1' }));
        assert.ok(first.ok);
        assert.equal(first.duplicate, false);
        const again = await store.enqueue(job(queue, 'once', t0 + 100, { idempotencyKey: 'k1' }));
        assert.deepEqual(again, { ok: true, id: first.id, duplicate: true });
        assert.deepEqual(await store.depth(queue), { waiting: 1, claimed: 0 });
        const late = await store.enqueue(job(queue, 'once', t0 + 1100, { idempotencyKey: 'k1' }));
        assert.ok(late.ok);
        assert.equal(late.duplicate, false);
        assert.notEqual(late.id, first.id);
      },
      { idempotencyWindowMs: 1000 },
    );

    it(
      'redeliver',
      'redeliver puts a dead letter back at the end with no attempts',
      async (store, queue, t0) => {
        const doomed = enqueued(await store.enqueue(job(queue, 'doomed', t0, { maxAttempts: 1 })));
        const first = await claimOne(store, queue, 'c1', t0);
        await store.nack(queue, first.id, first.token, 0, t0);
        const other = enqueued(await store.enqueue(job(queue, 'other', t0 + 1)));
        const claimed = await store.claim(queue, 'c1', 1, LOCK, t0 + 2);
        assert.deepEqual(
          claimed.dead.letters.map((l) => l.id),
          [doomed],
        );
        assert.equal(await store.release(queue, 'c1', t0 + 2), 1);
        const outcome = await store.redeliver(queue, doomed, t0 + 3);
        assert.ok(outcome?.ok);
        assert.equal(outcome.duplicate, false);
        assert.deepEqual(await store.deadLetters(queue, 10), []);
        const { jobs } = await store.claim(queue, 'c2', 5, LOCK, t0 + 3);
        assert.deepEqual(
          jobs.map((j) => [j.id, j.json, j.attempt]),
          [
            [other, '"other"', 2],
            [outcome.id, '"doomed"', 1],
          ],
        );
        assert.equal(jobs[1]?.maxAttempts, 1);
        assert.equal(await store.redeliver(queue, doomed, t0 + 4), undefined, 'no longer a dead letter');
        assert.equal(await store.redeliver(queue, 'no-such-id', t0 + 4), undefined);
      },
    );

    it(
      'delete-dead-letter',
      'deleteDeadLetter removes one dead letter; false when there was none',
      async (store, queue, t0) => {
        await enqueueAll(store, queue, ['a', 'b'], t0);
        await store.enqueue(job(queue, 'a', t0, { ttlMs: 10 }));
        const { dead } = await store.claim(queue, 'c1', 5, LOCK, t0 + 10);
        const [letter] = dead.letters;
        assert.ok(letter);
        assert.equal(await store.deleteDeadLetter(freshQueue(), letter.id), false);
        assert.equal(await store.deleteDeadLetter(queue, letter.id), true);
        assert.equal(await store.deleteDeadLetter(queue, letter.id), false);
        assert.deepEqual(await store.deadLetters(queue, 10), []);
      },
    );

    it(
      'max-dead-letters',
      'past maxDeadLetters the oldest are dropped, and counted',
      async (store, queue, t0) => {
        const ids: string[] = [];
        for (const text of ['a', 'b', 'c'])
          ids.push(enqueued(await store.enqueue(job(queue, text, t0, { ttlMs: 10 }))));
        const { dead } = await store.claim(queue, 'c1', 5, LOCK, t0 + 10);
        assert.deepEqual(
          dead.letters.map((l) => l.id),
          ids,
        );
        assert.equal(dead.dropped, 1);
        assert.deepEqual(
          (await store.deadLetters(queue, 10)).map((l) => l.id),
          ids.slice(1),
        );
        assert.deepEqual(
          (await store.deadLetters(queue, 1)).map((l) => l.id),
          ids.slice(1, 2),
          'oldest first, at most limit',
        );
      },
      { maxDeadLetters: 2 },
    );

    it('queues', 'queues are independent', async (store, queue, t0) => {
      const other = freshQueue();
      const [a] = await enqueueAll(store, queue, ['a'], t0);
      const [b] = await enqueueAll(store, other, ['b'], t0);
      assert.deepEqual(
        (await store.claim(other, 'c1', 5, LOCK, t0)).jobs.map((j) => j.id),
        [b],
      );
      assert.deepEqual(await store.depth(queue), { waiting: 1, claimed: 0 });
      assert.deepEqual(
        (await store.claim(queue, 'c1', 5, LOCK, t0)).jobs.map((j) => j.id),
        [a],
      );
      assert.equal(await store.release(other, 'c1', t0), 1);
      assert.deepEqual(await store.depth(queue), { waiting: 0, claimed: 1 });
    });
  });
}
