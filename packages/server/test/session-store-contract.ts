/**
 * The SessionStore contract, run against every implementation (engine-contract.test.ts: memory, Redis
 * standalone, Redis Cluster). `make` builds a fresh store; each test closes it after. Session ids are unique
 * per test. A case an implementation cannot run skips with the reason its caller gives in `skips`.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { SessionSnapshot, SessionStore } from '../src/sessions/session-store.js';
import { BackendUnavailableError } from '../src/errors.js';

/** A store under test and what the suite does around it. */
export interface SessionStoreFixture {
  readonly store: SessionStore;
  /**
   * Let the TTL of session `id`, saved with `ttlMs`, run out: move the store's clock by `ttlMs` (memory),
   * or poll the backend until the entry is gone, bounded (Redis expires keys by its own clock).
   */
  expire(id: string, ttlMs: number): Promise<void>;
  /** Cut the store off its backend until {@link close} (pause the server); absent where there is none. */
  cutOff?(): Promise<void>;
  /** Release the store (and undo a cutOff). */
  close(): Promise<void>;
}

/** Builds a fresh store; `maxSessions` bounds it where the implementation has a bound of its own. */
export type SessionStoreFactory = (options?: {
  readonly maxSessions?: number;
}) => Promise<SessionStoreFixture>;

/** Options of {@link sessionStoreContract}. */
export interface SessionContractOptions {
  /** node:test's `skip`: why the implementation cannot run here (a missing redis-server), or false. */
  readonly skip?: string | false;
  /** Why a case cannot run on this implementation: its backend cannot be cut off, it has no `maxSessions`. */
  readonly skips?: { readonly unreachable?: string; readonly bound?: string };
}

/** A session id no other test uses. */
export function freshSessionId(): string {
  return `s-${randomUUID()}`;
}

/** A snapshot with every shape JSON must carry: positions and nulls, nested and falsy state values. */
export const SNAPSHOT: SessionSnapshot = {
  userId: 'alice',
  channels: [
    ['news', { offset: 42, epoch: 'e1' }],
    ['chat:room-1', { offset: 0, epoch: 'e2' }],
    ['typing', null],
  ],
  state: [
    ['theme', 'dark'],
    ['count', 3],
    ['ready', false],
    ['cleared', null],
    ['prefs', { langs: ['en', 'fr'], muted: { until: 0 } }],
  ],
};

/** Whether `error` is the `unavailable` failure of a backend that cannot be reached. */
function unavailable(error: unknown): boolean {
  assert.ok(error instanceof BackendUnavailableError, `a BackendUnavailableError, got ${String(error)}`);
  assert.equal(error.code, 'unavailable');
  return true;
}

/** Register the SessionStore contract's tests for one implementation. */
export function sessionStoreContract(
  name: string,
  make: SessionStoreFactory,
  options: SessionContractOptions = {},
): void {
  const skip = options.skip ?? false;
  const TEST = { skip, timeout: 10_000 };

  async function withStore(
    body: (fixture: SessionStoreFixture) => Promise<void>,
    storeOptions?: { readonly maxSessions?: number },
  ): Promise<void> {
    const fixture = await make(storeOptions);
    try {
      await body(fixture);
    } finally {
      await fixture.close();
    }
  }

  describe(`SessionStore contract: ${name}`, () => {
    test('take returns what save kept, through JSON: user, positions and nulls, state', TEST, () =>
      withStore(async ({ store }) => {
        const id = freshSessionId();
        await store.save(id, SNAPSHOT, 60_000);
        assert.deepEqual(await store.take(id), SNAPSHOT);
        const anonymous: SessionSnapshot = { userId: null, channels: [], state: [] };
        const other = freshSessionId();
        await store.save(other, anonymous, 60_000);
        assert.deepEqual(await store.take(other), anonymous);
      }),
    );

    test('take removes the session: a second take is null', TEST, () =>
      withStore(async ({ store }) => {
        const id = freshSessionId();
        await store.save(id, SNAPSHOT, 60_000);
        assert.notEqual(await store.take(id), null);
        assert.equal(await store.take(id), null);
      }),
    );

    test('an unknown id is null; ids do not collide', TEST, () =>
      withStore(async ({ store }) => {
        assert.equal(await store.take(freshSessionId()), null);
        const [a, b] = [freshSessionId(), freshSessionId()];
        await store.save(a, { ...SNAPSHOT, userId: 'a' }, 60_000);
        await store.save(b, { ...SNAPSHOT, userId: 'b' }, 60_000);
        assert.equal((await store.take(b))?.userId, 'b');
        assert.equal((await store.take(a))?.userId, 'a');
      }),
    );

    test('a save replaces an earlier save of the same id', TEST, () =>
      withStore(async ({ store }) => {
        const id = freshSessionId();
        await store.save(id, SNAPSHOT, 60_000);
        const later: SessionSnapshot = { userId: 'alice', channels: [['news', null]], state: [['v', 2]] };
        await store.save(id, later, 60_000);
        assert.deepEqual(await store.take(id), later);
        assert.equal(await store.take(id), null, 'one session, not two');
      }),
    );

    test('a session past its TTL is null; one within its TTL is not', TEST, () =>
      withStore(async (fixture) => {
        const [short, long] = [freshSessionId(), freshSessionId()];
        await fixture.store.save(short, SNAPSHOT, 100);
        await fixture.store.save(long, SNAPSHOT, 60_000);
        await fixture.expire(short, 100);
        assert.equal(await fixture.store.take(short), null);
        assert.deepEqual(await fixture.store.take(long), SNAPSHOT);
      }),
    );

    test('two concurrent takes of one session: exactly one gets it', TEST, () =>
      withStore(async ({ store }) => {
        for (let round = 0; round < 20; round++) {
          const id = freshSessionId();
          await store.save(id, SNAPSHOT, 60_000);
          const taken = await Promise.all([store.take(id), store.take(id)]);
          assert.equal(taken.filter((s) => s !== null).length, 1, `round ${round}: ${JSON.stringify(taken)}`);
        }
      }),
    );

    test(
      'backend unreachable: save and take reject with BackendUnavailableError',
      { ...TEST, skip: skip || (options.skips?.unreachable ?? false) },
      () =>
        withStore(async (fixture) => {
          const id = freshSessionId();
          await fixture.store.save(id, SNAPSHOT, 60_000);
          assert.ok(fixture.cutOff, 'the fixture can cut the store off (or the case skips with a reason)');
          await fixture.cutOff();
          await assert.rejects(fixture.store.save(freshSessionId(), SNAPSHOT, 60_000), unavailable);
          await assert.rejects(fixture.store.take(id), unavailable);
        }),
    );

    test(
      'at most maxSessions are kept: the oldest goes first',
      { ...TEST, skip: skip || (options.skips?.bound ?? false) },
      () =>
        withStore(
          async ({ store }) => {
            const oldest = freshSessionId();
            const rest = [freshSessionId(), freshSessionId(), freshSessionId()];
            for (const id of [oldest, ...rest])
              await store.save(id, { ...SNAPSHOT, userId: `u:${id}` }, 60_000);
            assert.equal(await store.take(oldest), null, 'the oldest made room for the fourth');
            for (const id of rest) assert.equal((await store.take(id))?.userId, `u:${id}`);
          },
          { maxSessions: 3 },
        ),
    );
  });
}
