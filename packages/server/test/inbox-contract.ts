/**
 * The InboxStore contract, run against every implementation (inbox-contract.test.ts: memory, Redis,
 * PostgreSQL). `make` builds a fresh store with the given limits; every test uses users of its own and
 * explicit `now` values near the wall clock (no sleeping), and filters what `expire` and `undelivered`
 * return (they span every user) by its own users, so stores sharing a server do not disturb each other.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type {
  DeadLetter,
  DeliverInput,
  DeliverOutcome,
  InboxLimits,
  InboxMessage,
  InboxStore,
} from '../src/inbox/inbox-store.js';

/** A store under test and how to dispose of it. */
export interface InboxFixture {
  readonly store: InboxStore;
  /** Close the store and remove what the test stored (keys, rows). */
  cleanup(): Promise<void>;
}

/** Builds a fresh store with these limits (the store's defaults for the rest). */
export type InboxFactory = (limits?: Partial<InboxLimits>) => Promise<InboxFixture>;

/** The contract's cases, by key: what {@link InboxSkip} names. */
export type InboxCase =
  | 'deliver'
  | 'order'
  | 'paging'
  | 'users'
  | 'multi-device'
  | 'new-device'
  | 'no-device'
  | 'forgotten-device'
  | 'attempts'
  | 'take'
  | 'ack-unknown'
  | 'idempotency'
  | 'full-reject'
  | 'full-bytes'
  | 'evict-oldest'
  | 'evict-too-big'
  | 'evict-drops'
  | 'expire'
  | 'expire-limit'
  | 'undelivered'
  | 'undelivered-concurrent'
  | 'dead-letter'
  | 'redeliver'
  | 'redeliver-full'
  | 'delete-dead-letter'
  | 'max-dead-letters';

/**
 * Why the implementation cannot run here: a string (or false) for the whole suite (a missing server), or
 * a reason per case that cannot apply to it.
 */
export type InboxSkip = string | false | Readonly<Partial<Record<InboxCase, string>>>;

const HOUR = 3_600_000;

/** A user id no other test uses. */
export function freshUser(): string {
  return `u-${randomUUID()}`;
}

/** A deliver input: JSON `"<text>"`, a TTL of an hour, 5 attempts. */
export function input(
  userId: string,
  text: string,
  now: number,
  extra: Partial<DeliverInput> = {},
): DeliverInput {
  return { userId, json: JSON.stringify(text), ttlMs: HOUR, maxAttempts: 5, now, ...extra };
}

/** The stored message of a successful deliver. */
export function stored(outcome: DeliverOutcome): InboxMessage {
  assert.ok(outcome.ok, 'deliver was refused');
  return outcome.message;
}

/** The `index`th item, asserted present. */
export function nth<T>(list: readonly T[], index: number): T {
  const item = list[index];
  assert.ok(item !== undefined, `no item ${index}`);
  return item;
}

/** Register the contract's tests for one implementation. */
export function runInboxContract(name: string, make: InboxFactory, skip: InboxSkip = false): void {
  function options(key: InboxCase): { skip: string | false; timeout: number } {
    const reason = typeof skip === 'object' ? (skip[key] ?? false) : skip;
    return { skip: reason, timeout: 10_000 };
  }

  function it(
    key: InboxCase,
    title: string,
    body: (store: InboxStore, t0: number) => Promise<void>,
    limits?: Partial<InboxLimits>,
  ): void {
    test(`${key}: ${title}`, options(key), async () => {
      const fixture = await make(limits);
      try {
        await body(fixture.store, Date.now());
      } finally {
        await fixture.cleanup();
      }
    });
  }

  async function deliverAll(
    store: InboxStore,
    userId: string,
    texts: string[],
    now: number,
  ): Promise<InboxMessage[]> {
    const out: InboxMessage[] = [];
    for (const text of texts) out.push(stored(await store.deliver(input(userId, text, now))));
    return out;
  }

  async function pendingIds(
    store: InboxStore,
    userId: string,
    device: string,
    now: number,
  ): Promise<string[]> {
    return (await store.pending(userId, device, 0, 1000, now)).map((m) => m.id);
  }

  /** Whether the user's inbox still holds `id`: a fresh device would receive it. */
  async function holds(store: InboxStore, userId: string, id: string, now: number): Promise<boolean> {
    const probe = `probe-${randomUUID()}`;
    await store.touchDevice(userId, probe, now);
    return (await pendingIds(store, userId, probe, now)).includes(id);
  }

  describe(`InboxStore contract: ${name}`, () => {
    it('deliver', 'deliver stores a message and describes it', async (store, t0) => {
      const userId = freshUser();
      const outcome = await store.deliver(input(userId, 'hello', t0, { ttlMs: 5000, maxAttempts: 3 }));
      assert.ok(outcome.ok);
      assert.equal(outcome.duplicate, false);
      assert.deepEqual(outcome.evicted, []);
      const m = outcome.message;
      assert.equal(typeof m.id, 'string');
      assert.ok(m.id.length > 0 && m.id.length <= 128, `id length ${m.id.length}`);
      assert.equal(m.userId, userId);
      assert.equal(m.json, '"hello"');
      assert.equal(m.time, t0);
      assert.equal(m.expiresAt, t0 + 5000);
      assert.equal(m.maxAttempts, 3);
      const [pending] = await store.pending(userId, 'laptop', 0, 10, t0);
      assert.ok(pending);
      assert.equal(pending.id, m.id);
      assert.equal(pending.seq, m.seq);
      assert.equal(pending.json, '"hello"');
      assert.equal(pending.time, t0);
      assert.equal(pending.expiresAt, t0 + 5000);
      assert.equal(pending.maxAttempts, 3);
      assert.equal(pending.attempts, 0);
    });

    it('order', 'messages come in seq order, with increasing seqs and unique ids', async (store, t0) => {
      const userId = freshUser();
      const texts = Array.from({ length: 30 }, (_, i) => `m${i}`);
      const messages = await deliverAll(store, userId, texts, t0);
      for (let i = 1; i < messages.length; i++) {
        assert.ok(nth(messages, i).seq > nth(messages, i - 1).seq, 'seq increases');
      }
      assert.equal(new Set(messages.map((m) => m.id)).size, messages.length);
      await store.touchDevice(userId, 'laptop', t0);
      const pending = await store.pending(userId, 'laptop', 0, 100, t0);
      assert.deepEqual(
        pending.map((m) => m.json),
        texts.map((text) => JSON.stringify(text)),
      );
    });

    it('paging', 'pending honours afterSeq and limit, and skips what the device acked', async (store, t0) => {
      const userId = freshUser();
      await store.touchDevice(userId, 'laptop', t0);
      await store.touchDevice(userId, 'phone', t0);
      const messages = await deliverAll(store, userId, ['a', 'b', 'c', 'd', 'e'], t0);
      const first = await store.pending(userId, 'laptop', 0, 2, t0);
      assert.deepEqual(
        first.map((m) => m.id),
        messages.slice(0, 2).map((m) => m.id),
      );
      const next = await store.pending(userId, 'laptop', nth(first, 1).seq, 2, t0);
      assert.deepEqual(
        next.map((m) => m.id),
        messages.slice(2, 4).map((m) => m.id),
      );
      assert.equal(await store.ack(userId, 'laptop', nth(messages, 0).id, t0), 'acked');
      assert.equal(await store.ack(userId, 'laptop', nth(messages, 2).id, t0), 'acked');
      assert.deepEqual(await pendingIds(store, userId, 'laptop', t0), [
        nth(messages, 1).id,
        nth(messages, 3).id,
        nth(messages, 4).id,
      ]);
      assert.deepEqual(
        await pendingIds(store, userId, 'phone', t0),
        messages.map((m) => m.id),
      );
    });

    it('users', 'each user has an inbox of their own', async (store, t0) => {
      const alice = freshUser();
      const bob = freshUser();
      const a = stored(await store.deliver(input(alice, 'for alice', t0)));
      const b = stored(await store.deliver(input(bob, 'for bob', t0)));
      assert.notEqual(a.id, b.id);
      assert.deepEqual(await pendingIds(store, alice, 'd', t0), [a.id]);
      assert.deepEqual(await pendingIds(store, bob, 'd', t0), [b.id]);
    });

    it(
      'multi-device',
      'the laptop acks; the offline phone still gets it later; it leaves once both acked',
      async (store, t0) => {
        const userId = freshUser();
        await store.touchDevice(userId, 'laptop', t0);
        await store.touchDevice(userId, 'phone', t0);
        const delivered = await deliverAll(store, userId, ['one', 'two'], t0 + 10);
        const m1 = nth(delivered, 0);
        const m2 = nth(delivered, 1);
        assert.equal(await store.ack(userId, 'laptop', m1.id, t0 + 20), 'acked');
        assert.equal(await store.ack(userId, 'laptop', m2.id, t0 + 20), 'acked');
        assert.equal(
          await store.ack(userId, 'laptop', m1.id, t0 + 21),
          'acked',
          'an ack again is still acked',
        );
        assert.deepEqual(await pendingIds(store, userId, 'laptop', t0 + 30), []);
        // The phone comes back an hour later (within the TTL).
        const later = t0 + HOUR / 2;
        await store.touchDevice(userId, 'phone', later);
        assert.deepEqual(await pendingIds(store, userId, 'phone', later), [m1.id, m2.id]);
        assert.equal(await store.ack(userId, 'phone', m1.id, later), 'acked');
        assert.equal(await holds(store, userId, m1.id, later), false, 'acked by every device: gone');
        assert.equal(await holds(store, userId, m2.id, later), true, 'the phone has not acked m2');
        assert.equal(await store.ack(userId, 'laptop', m1.id, later), 'unknown', 'gone from the inbox');
      },
    );

    it('new-device', 'a device new to the store receives what the inbox holds', async (store, t0) => {
      const userId = freshUser();
      await store.touchDevice(userId, 'laptop', t0);
      await store.touchDevice(userId, 'phone', t0);
      const delivered = await deliverAll(store, userId, ['one', 'two'], t0);
      const m1 = nth(delivered, 0);
      const m2 = nth(delivered, 1);
      assert.equal(await store.ack(userId, 'laptop', m1.id, t0), 'acked');
      await store.touchDevice(userId, 'tablet', t0 + 100);
      assert.deepEqual(await pendingIds(store, userId, 'tablet', t0 + 100), [m1.id, m2.id]);
      // The tablet is known now: m1 waits for it as well as the phone.
      assert.equal(await store.ack(userId, 'phone', m1.id, t0 + 200), 'acked');
      assert.deepEqual(await pendingIds(store, userId, 'tablet', t0 + 200), [m1.id, m2.id]);
      assert.equal(await store.ack(userId, 'tablet', m1.id, t0 + 300), 'acked');
      assert.equal(await store.ack(userId, 'laptop', m1.id, t0 + 300), 'unknown');
    });

    it(
      'no-device',
      'a message delivered before any device is known waits for the first',
      async (store, t0) => {
        const userId = freshUser();
        const m = stored(await store.deliver(input(userId, 'early', t0)));
        await store.touchDevice(userId, 'laptop', t0 + 1000);
        assert.deepEqual(await pendingIds(store, userId, 'laptop', t0 + 1000), [m.id]);
        assert.equal(await store.ack(userId, 'laptop', m.id, t0 + 1000), 'acked');
        assert.equal(
          await store.ack(userId, 'laptop', m.id, t0 + 1001),
          'unknown',
          'its only device acked it',
        );
      },
    );

    it(
      'forgotten-device',
      'a device unseen for deviceTtlMs no longer holds messages back',
      async (store, t0) => {
        const userId = freshUser();
        await store.touchDevice(userId, 'laptop', t0);
        await store.touchDevice(userId, 'phone', t0);
        const delivered = await deliverAll(store, userId, ['one', 'two'], t0 + 10);
        const m1 = nth(delivered, 0);
        const m2 = nth(delivered, 1);
        // Within deviceTtlMs the phone holds m1 back.
        await store.touchDevice(userId, 'laptop', t0 + 500);
        assert.equal(await store.ack(userId, 'laptop', m1.id, t0 + 500), 'acked');
        assert.equal(await store.ack(userId, 'laptop', m1.id, t0 + 501), 'acked');
        // Past it, the phone is forgotten: the laptop's ack is the last one needed.
        await store.touchDevice(userId, 'laptop', t0 + 5000);
        assert.equal(await store.ack(userId, 'laptop', m2.id, t0 + 5000), 'acked');
        assert.equal(await store.ack(userId, 'laptop', m2.id, t0 + 5001), 'unknown');
      },
      { deviceTtlMs: 1000 },
    );

    it(
      'attempts',
      'attempts count per device; 0 for a message the inbox does not hold',
      async (store, t0) => {
        const userId = freshUser();
        await store.touchDevice(userId, 'laptop', t0);
        await store.touchDevice(userId, 'phone', t0);
        const m = stored(await store.deliver(input(userId, 'x', t0)));
        assert.equal(await store.attempt(userId, 'laptop', m.id), 1);
        assert.equal(await store.attempt(userId, 'laptop', m.id), 2);
        assert.equal(await store.attempt(userId, 'phone', m.id), 1);
        const [laptop] = await store.pending(userId, 'laptop', 0, 10, t0);
        const [phone] = await store.pending(userId, 'phone', 0, 10, t0);
        assert.equal(laptop?.attempts, 2);
        assert.equal(phone?.attempts, 1);
        assert.equal(await store.attempt(userId, 'laptop', `${m.id}x`), 0, 'never stored');
        assert.equal(await store.attempt(freshUser(), 'laptop', m.id), 0, 'another user’s');
        await store.ack(userId, 'laptop', m.id, t0);
        await store.ack(userId, 'phone', m.id, t0);
        assert.equal(await store.attempt(userId, 'laptop', m.id), 0, 'gone');
      },
    );

    it(
      'take',
      'take returns what pending does with each attempt counted; spent attempts are not counted',
      async (store, t0) => {
        if (store.take === undefined) return;
        const userId = freshUser();
        await store.touchDevice(userId, 'laptop', t0);
        await store.touchDevice(userId, 'phone', t0);
        const [m1, m2, m3] = await deliverAll(store, userId, ['a', 'b', 'c'], t0);
        assert.ok(m1 && m2 && m3);
        await store.ack(userId, 'laptop', m2.id, t0);
        const first = await store.take(userId, 'laptop', 0, 10, t0);
        assert.deepEqual(
          first.map((m) => [m.id, m.attempts, m.json, m.maxAttempts]),
          [
            [m1.id, 1, '"a"', 5],
            [m3.id, 1, '"c"', 5],
          ],
        );
        assert.deepEqual(
          (await store.take(userId, 'laptop', m1.seq, 1, t0)).map((m) => [m.id, m.attempts]),
          [[m3.id, 2]],
        );
        const [laptop] = await store.pending(userId, 'laptop', 0, 1, t0);
        assert.equal(laptop?.attempts, 1);
        assert.equal(await store.attempt(userId, 'phone', m1.id), 1, 'per device');
        assert.deepEqual(await store.take(userId, 'laptop', 0, 10, t0 + 2 * HOUR), [], 'expired');
        assert.deepEqual(await store.take(freshUser(), 'laptop', 0, 10, t0), []);
        const spent = stored(await store.deliver(input(userId, 'd', t0, { maxAttempts: 1 })));
        const once = await store.take(userId, 'laptop', m3.seq, 10, t0);
        assert.deepEqual(
          once.map((m) => [m.id, m.attempts]),
          [[spent.id, 1]],
        );
        const twice = await store.take(userId, 'laptop', m3.seq, 10, t0);
        assert.deepEqual(
          twice.map((m) => [m.id, m.attempts]),
          [[spent.id, 2]],
          'past maxAttempts',
        );
        const [after] = await store.pending(userId, 'laptop', m3.seq, 10, t0);
        assert.equal(after?.attempts, 1, 'a spent message is not counted again');
      },
    );

    it(
      'ack-unknown',
      'ack of an id never stored or another user’s is unknown, and changes nothing',
      async (store, t0) => {
        const alice = freshUser();
        const bob = freshUser();
        await store.touchDevice(alice, 'laptop', t0);
        await store.touchDevice(bob, 'laptop', t0);
        const m = stored(await store.deliver(input(alice, 'secret', t0)));
        assert.equal(await store.ack(alice, 'laptop', 'no-such-id', t0), 'unknown');
        assert.equal(await store.ack(bob, 'laptop', m.id, t0), 'unknown');
        assert.deepEqual(await pendingIds(store, alice, 'laptop', t0), [m.id]);
      },
    );

    it(
      'idempotency',
      'a deliver with a key seen within the window returns the first message',
      async (store, t0) => {
        const userId = freshUser();
        const first = stored(await store.deliver(input(userId, 'once', t0, { idempotencyKey: 'k1' })));
        const again = await store.deliver(input(userId, 'once', t0 + 100, { idempotencyKey: 'k1' }));
        assert.ok(again.ok);
        assert.equal(again.duplicate, true);
        assert.equal(again.message.id, first.id);
        assert.equal(again.message.seq, first.seq);
        assert.deepEqual(await pendingIds(store, userId, 'laptop', t0 + 100), [first.id]);
        const other = stored(await store.deliver(input(userId, 'other', t0 + 100, { idempotencyKey: 'k2' })));
        assert.notEqual(other.id, first.id);
        // Keys are per user.
        const bob = await store.deliver(input(freshUser(), 'once', t0 + 100, { idempotencyKey: 'k1' }));
        assert.ok(bob.ok);
        assert.equal(bob.duplicate, false);
        // Past the window the key is new again.
        const late = await store.deliver(input(userId, 'once', t0 + 1100, { idempotencyKey: 'k1' }));
        assert.ok(late.ok);
        assert.equal(late.duplicate, false);
        assert.notEqual(late.message.id, first.id);
      },
      { idempotencyWindowMs: 1000 },
    );

    it(
      'full-reject',
      'past maxMessages a deliver is refused; an ack makes room',
      async (store, t0) => {
        const userId = freshUser();
        await store.touchDevice(userId, 'laptop', t0);
        const delivered = await deliverAll(store, userId, ['a', 'b'], t0);
        const m1 = nth(delivered, 0);
        assert.deepEqual(await store.deliver(input(userId, 'c', t0)), { ok: false, reason: 'full' });
        assert.equal((await pendingIds(store, userId, 'laptop', t0)).length, 2, 'nothing was dropped');
        assert.equal(await store.ack(userId, 'laptop', m1.id, t0), 'acked');
        assert.ok((await store.deliver(input(userId, 'c', t0))).ok);
        // Another user's inbox is not full.
        assert.ok((await store.deliver(input(freshUser(), 'c', t0))).ok);
      },
      { maxMessages: 2, whenFull: 'reject' },
    );

    it(
      'full-bytes',
      'past maxBytes (payload JSON length) a deliver is refused',
      async (store, t0) => {
        const userId = freshUser();
        assert.ok((await store.deliver(input(userId, 'aaaa', t0))).ok); // 6 bytes
        assert.ok((await store.deliver(input(userId, 'bb', t0))).ok); // 4 bytes: 10 in all
        assert.deepEqual(await store.deliver(input(userId, '', t0)), { ok: false, reason: 'full' });
        assert.deepEqual(await store.deliver(input(freshUser(), 'x'.repeat(9), t0)), {
          ok: false,
          reason: 'full',
        });
      },
      { maxBytes: 10, whenFull: 'reject' },
    );

    it(
      'evict-oldest',
      'with whenFull dead-letter-oldest the oldest move to dead letters (evicted)',
      async (store, t0) => {
        const userId = freshUser();
        const delivered = await deliverAll(store, userId, ['a', 'b'], t0);
        const a = nth(delivered, 0);
        const b = nth(delivered, 1);
        const outcome = await store.deliver(input(userId, 'c', t0 + 5));
        assert.ok(outcome.ok);
        assert.equal(outcome.duplicate, false);
        assert.equal(outcome.evicted.length, 1);
        assert.equal(outcome.dropped, 0);
        const [letter] = outcome.evicted;
        assert.equal(letter?.id, a.id);
        assert.equal(letter?.reason, 'evicted');
        assert.equal(letter?.json, '"a"');
        assert.equal(letter?.time, t0);
        assert.equal(letter?.deadAt, t0 + 5);
        assert.deepEqual(await pendingIds(store, userId, 'laptop', t0 + 5), [b.id, outcome.message.id]);
        const letters = await store.deadLetters(userId, 10);
        assert.deepEqual(
          letters.map((l) => [l.id, l.reason]),
          [[a.id, 'evicted']],
        );
      },
      { maxMessages: 2, whenFull: 'dead-letter-oldest' },
    );

    it(
      'evict-too-big',
      'a message larger than maxBytes is refused without evicting anything',
      async (store, t0) => {
        const userId = freshUser();
        const delivered = await deliverAll(store, userId, ['aa', 'bb'], t0); // 4 bytes each
        const a = nth(delivered, 0);
        const b = nth(delivered, 1);
        const outcome = await store.deliver(input(userId, 'cccc', t0)); // 6 bytes: evicts a
        assert.ok(outcome.ok);
        assert.deepEqual(
          outcome.evicted.map((l) => l.id),
          [a.id],
        );
        assert.deepEqual(await store.deliver(input(userId, 'x'.repeat(11), t0)), {
          ok: false,
          reason: 'full',
        });
        assert.deepEqual(await pendingIds(store, userId, 'laptop', t0), [b.id, outcome.message.id]);
      },
      { maxBytes: 10, whenFull: 'dead-letter-oldest' },
    );

    it(
      'evict-drops',
      'evicting past maxDeadLetters drops the oldest dead letters, and deliver counts them',
      async (store, t0) => {
        const userId = freshUser();
        const b = nth(await deliverAll(store, userId, ['a', 'b'], t0), 1);
        const c = stored(await store.deliver(input(userId, 'c', t0 + 1))); // evicts a: 1 dead letter
        const d = await store.deliver(input(userId, 'd', t0 + 2)); // evicts b: 2 dead letters, a dropped
        assert.ok(d.ok);
        assert.deepEqual(
          d.evicted.map((l) => l.id),
          [b.id],
        );
        assert.equal(d.dropped, 1);
        assert.deepEqual(
          (await store.deadLetters(userId, 10)).map((l) => l.id),
          [b.id],
        );
        // A duplicate (idempotency key) evicts and drops nothing.
        const first = await store.deliver(input(userId, 'e', t0 + 3, { idempotencyKey: 'k' }));
        assert.ok(first.ok);
        assert.equal(first.dropped, 1); // evicts c, drops b
        const again = await store.deliver(input(userId, 'e', t0 + 4, { idempotencyKey: 'k' }));
        assert.ok(again.ok);
        assert.equal(again.duplicate, true);
        assert.deepEqual([again.evicted.length, again.dropped], [0, 0]);
        assert.deepEqual(
          (await store.deadLetters(userId, 10)).map((l) => l.id),
          [c.id],
        );
      },
      { maxMessages: 2, maxDeadLetters: 1, whenFull: 'dead-letter-oldest' },
    );

    it(
      'expire',
      'at its TTL a message acked by some device just leaves; acked by none, it is dead-lettered',
      async (store, t0) => {
        const userId = freshUser();
        await store.touchDevice(userId, 'laptop', t0);
        await store.touchDevice(userId, 'phone', t0);
        const ackedBySome = stored(await store.deliver(input(userId, 'some', t0, { ttlMs: 1000 })));
        const ackedByNone = stored(await store.deliver(input(userId, 'none', t0, { ttlMs: 1000 })));
        const lasting = stored(await store.deliver(input(userId, 'lasting', t0, { ttlMs: HOUR })));
        assert.equal(await store.ack(userId, 'laptop', ackedBySome.id, t0 + 10), 'acked');
        // Expired messages are no longer pending, even before expire() runs.
        assert.deepEqual(await pendingIds(store, userId, 'phone', t0 + 1000), [lasting.id]);
        const result = await store.expire(t0 + 1000, 1000);
        const mine = result.letters.filter((l) => l.id === ackedBySome.id || l.id === ackedByNone.id);
        assert.equal(mine.length, 1);
        assert.equal(mine[0]?.id, ackedByNone.id);
        assert.equal(mine[0]?.reason, 'expired');
        assert.equal(mine[0]?.json, '"none"');
        assert.equal(mine[0]?.deadAt, t0 + 1000);
        // The sweep covers every user: each letter names its user (onDeadLetter needs it).
        assert.equal(mine[0]?.userId, userId);
        assert.equal(result.dropped, 0);
        assert.equal(await store.ack(userId, 'phone', ackedBySome.id, t0 + 1001), 'unknown');
        assert.equal(await store.ack(userId, 'phone', ackedByNone.id, t0 + 1001), 'unknown');
        assert.deepEqual(await pendingIds(store, userId, 'phone', t0 + 1001), [lasting.id]);
        assert.deepEqual(
          (await store.deadLetters(userId, 10)).map((l) => l.id),
          [ackedByNone.id],
        );
        // Not expired yet: nothing of this user moves.
        const early = await store.expire(t0 + 1001, 1000);
        assert.equal(early.letters.filter((l) => l.id === lasting.id).length, 0);
      },
    );

    it('expire-limit', 'expire removes at most limit messages per call', async (store, t0) => {
      const userId = freshUser();
      const ids = new Set<string>();
      for (const text of ['a', 'b', 'c'])
        ids.add(stored(await store.deliver(input(userId, text, t0, { ttlMs: 100 }))).id);
      const seen: string[] = [];
      for (let round = 0; round < 10 && seen.length < 3; round++) {
        const result = await store.expire(t0 + 100, 2);
        assert.ok(result.letters.length <= 2);
        seen.push(...result.letters.filter((l) => ids.has(l.id)).map((l) => l.id));
      }
      assert.deepEqual(new Set(seen), ids);
      assert.equal(seen.length, 3, 'each expired once');
    });

    it('undelivered', 'messages no device acked by `before` are reported once', async (store, t0) => {
      const userId = freshUser();
      await store.touchDevice(userId, 'laptop', t0);
      const unacked = stored(await store.deliver(input(userId, 'unacked', t0)));
      const acked = stored(await store.deliver(input(userId, 'acked', t0 + 10)));
      const late = stored(await store.deliver(input(userId, 'late', t0 + 5000)));
      await store.touchDevice(userId, 'phone', t0 + 20);
      assert.equal(await store.ack(userId, 'laptop', acked.id, t0 + 20), 'acked');
      const mine = (list: readonly InboxMessage[]): string[] =>
        list.filter((m) => m.userId === userId).map((m) => m.id);
      const first = await store.undelivered(t0 + 100, 1000);
      assert.deepEqual(mine(first), [unacked.id]);
      const reported = first.find((m) => m.id === unacked.id);
      assert.equal(reported?.json, '"unacked"');
      assert.equal(reported?.time, t0);
      assert.deepEqual(mine(await store.undelivered(t0 + 100, 1000)), [], 'reported once');
      assert.deepEqual(mine(await store.undelivered(t0 + 6000, 1000)), [late.id]);
      assert.deepEqual(mine(await store.undelivered(t0 + 6000, 1000)), []);
      // Reporting does not remove it from the inbox.
      assert.ok((await pendingIds(store, userId, 'phone', t0 + 6000)).includes(unacked.id));
    });

    it('undelivered-concurrent', 'two concurrent callers never both get a message', async (store, t0) => {
      const userId = freshUser();
      const ids = new Set<string>();
      for (let i = 0; i < 20; i++) ids.add(stored(await store.deliver(input(userId, `m${i}`, t0))).id);
      const [a, b] = await Promise.all([store.undelivered(t0, 1000), store.undelivered(t0, 1000)]);
      const got = [...a, ...b].filter((m) => m.userId === userId).map((m) => m.id);
      assert.equal(got.length, 20, 'every message reported');
      assert.deepEqual(new Set(got), ids);
    });

    it(
      'dead-letter',
      'deadLetter moves a message out for every device, with the reason and attempts',
      async (store, t0) => {
        const userId = freshUser();
        await store.touchDevice(userId, 'laptop', t0);
        await store.touchDevice(userId, 'phone', t0);
        const m = stored(await store.deliver(input(userId, 'doomed', t0)));
        const next = stored(await store.deliver(input(userId, 'next', t0)));
        for (let i = 0; i < 3; i++) await store.attempt(userId, 'phone', m.id);
        const result = await store.deadLetter(userId, m.id, 'max_attempts', t0 + 50, 'phone');
        assert.equal(result.dropped, 0);
        assert.equal(result.letters.length, 1);
        const letter: DeadLetter | undefined = result.letters[0];
        assert.equal(letter?.id, m.id);
        assert.equal(letter?.json, '"doomed"');
        assert.equal(letter?.time, t0);
        assert.equal(letter?.deadAt, t0 + 50);
        assert.equal(letter?.reason, 'max_attempts');
        assert.equal(letter?.attempts, 3);
        assert.equal(letter?.device, 'phone');
        assert.deepEqual(await pendingIds(store, userId, 'laptop', t0 + 50), [next.id]);
        assert.deepEqual(await pendingIds(store, userId, 'phone', t0 + 50), [next.id]);
        assert.equal(await store.ack(userId, 'laptop', m.id, t0 + 50), 'unknown');
        assert.deepEqual(await store.deadLetters(userId, 10), [letter]);
        // Nothing to move: no letter.
        const none = await store.deadLetter(userId, 'no-such-id', 'max_attempts', t0 + 60);
        assert.deepEqual(none.letters, []);
        assert.equal(
          (await store.deadLetter(freshUser(), next.id, 'max_attempts', t0 + 60)).letters.length,
          0,
        );
        assert.deepEqual(await pendingIds(store, userId, 'laptop', t0 + 60), [next.id]);
      },
    );

    it('redeliver', 'redeliver puts a dead letter back at the end as a new message', async (store, t0) => {
      const userId = freshUser();
      await store.touchDevice(userId, 'laptop', t0);
      const m = stored(await store.deliver(input(userId, 'again', t0, { maxAttempts: 7 })));
      await store.attempt(userId, 'laptop', m.id);
      await store.deadLetter(userId, m.id, 'max_attempts', t0 + 10, 'laptop');
      const other = stored(await store.deliver(input(userId, 'other', t0 + 20)));
      const outcome = await store.redeliver(userId, m.id, t0 + 30, 5000);
      assert.ok(outcome?.ok);
      assert.equal(outcome.duplicate, false);
      const again = outcome.message;
      assert.notEqual(again.id, m.id);
      assert.ok(again.seq > other.seq);
      assert.equal(again.json, '"again"');
      assert.equal(again.maxAttempts, 7);
      assert.equal(again.expiresAt, t0 + 30 + 5000);
      const pending = await store.pending(userId, 'laptop', 0, 10, t0 + 30);
      assert.deepEqual(
        pending.map((p) => [p.id, p.attempts]),
        [
          [other.id, 0],
          [again.id, 0],
        ],
      );
      assert.deepEqual(await store.deadLetters(userId, 10), []);
      assert.equal(await store.redeliver(userId, m.id, t0 + 40, 5000), undefined, 'no longer a dead letter');
      assert.equal(await store.redeliver(userId, 'no-such-id', t0 + 40, 5000), undefined);
    });

    it(
      'redeliver-full',
      'redeliver into a full inbox is refused and the dead letter stays',
      async (store, t0) => {
        const userId = freshUser();
        const m = stored(await store.deliver(input(userId, 'a', t0)));
        await store.deadLetter(userId, m.id, 'max_attempts', t0);
        await deliverAll(store, userId, ['b', 'c'], t0);
        assert.deepEqual(await store.redeliver(userId, m.id, t0, 1000), { ok: false, reason: 'full' });
        assert.deepEqual(
          (await store.deadLetters(userId, 10)).map((l) => l.id),
          [m.id],
        );
      },
      { maxMessages: 2, whenFull: 'reject' },
    );

    it(
      'delete-dead-letter',
      'deleteDeadLetter removes one dead letter; false when there was none',
      async (store, t0) => {
        const userId = freshUser();
        const delivered = await deliverAll(store, userId, ['a', 'b'], t0);
        const a = nth(delivered, 0);
        const b = nth(delivered, 1);
        await store.deadLetter(userId, a.id, 'max_attempts', t0 + 1);
        await store.deadLetter(userId, b.id, 'max_attempts', t0 + 2);
        assert.deepEqual(
          (await store.deadLetters(userId, 10)).map((l) => l.id),
          [a.id, b.id],
          'oldest first',
        );
        assert.deepEqual(
          (await store.deadLetters(userId, 1)).map((l) => l.id),
          [a.id],
          'at most limit',
        );
        assert.equal(await store.deleteDeadLetter(freshUser(), a.id), false, 'another user’s');
        assert.equal(await store.deleteDeadLetter(userId, a.id), true);
        assert.equal(await store.deleteDeadLetter(userId, a.id), false);
        assert.deepEqual(
          (await store.deadLetters(userId, 10)).map((l) => l.id),
          [b.id],
        );
      },
    );

    it(
      'max-dead-letters',
      'past maxDeadLetters the oldest are dropped, and counted',
      async (store, t0) => {
        const userId = freshUser();
        const delivered = await deliverAll(store, userId, ['a', 'b', 'c', 'd'], t0);
        const a = nth(delivered, 0);
        const b = nth(delivered, 1);
        const c = nth(delivered, 2);
        const d = nth(delivered, 3);
        assert.equal((await store.deadLetter(userId, a.id, 'max_attempts', t0 + 1)).dropped, 0);
        assert.equal((await store.deadLetter(userId, b.id, 'max_attempts', t0 + 2)).dropped, 0);
        const third = await store.deadLetter(userId, c.id, 'max_attempts', t0 + 3);
        assert.equal(third.dropped, 1);
        assert.deepEqual(
          third.letters.map((l) => l.id),
          [c.id],
        );
        assert.deepEqual(
          (await store.deadLetters(userId, 10)).map((l) => l.id),
          [b.id, c.id],
        );
        // expire() counts what it drops too.
        const e = stored(await store.deliver(input(userId, 'e', t0 + 4, { ttlMs: 10 })));
        const expired = await store.expire(t0 + 20, 1000);
        assert.ok(expired.letters.some((l) => l.id === e.id));
        assert.ok(expired.dropped >= 1);
        assert.deepEqual(
          (await store.deadLetters(userId, 10)).map((l) => l.id),
          [c.id, e.id],
        );
        assert.deepEqual(await pendingIds(store, userId, 'x', t0 + 20), [d.id]);
      },
      { maxDeadLetters: 2 },
    );
  });
}
