/**
 * The TicketStore contract, run against every implementation (the memory store in its unit run, Redis in
 * redis-stores.test.ts). `make` builds a fresh store on a clock the suite can move.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TicketStore } from '../src/index.js';
import { ShiftedClock } from './auth-fixtures.js';

/** Options of {@link ticketStoreContract}. */
export interface TicketContractOptions {
  /** node:test's `skip`: why the implementation cannot run here (a missing redis-server), or false. */
  readonly skip?: string | false;
  /**
   * Let `ms` pass for the store. Default: move `clock` (stores that expire by it). A store that expires
   * tickets by its own clock (Redis) waits for real instead.
   */
  readonly elapse?: (clock: ShiftedClock, ms: number) => Promise<void>;
}

/** Register the contract's tests for one implementation. */
export function ticketStoreContract(
  name: string,
  make: (clock: ShiftedClock) => TicketStore,
  options: TicketContractOptions = {},
): void {
  const TEST = { skip: options.skip ?? false, timeout: 10_000 };
  const elapse =
    options.elapse ??
    ((clock: ShiftedClock, ms: number): Promise<void> => {
      clock.advance(ms);
      return Promise.resolve();
    });

  describe(`TicketStore contract: ${name}`, () => {
    test('a ticket is taken once, with the principal it was added with', TEST, async () => {
      const store = make(new ShiftedClock());
      const principal = {
        userId: 'alice',
        expiresAt: 1_900_000_000_000,
        scopes: ['a'],
        info: { sub: 'alice' },
      };
      assert.equal(await store.add('k1', principal, 30_000), true);
      assert.deepEqual(await store.take('k1'), principal);
      assert.equal(await store.take('k1'), null);
    });

    test('unknown keys are null; keys do not collide', TEST, async () => {
      const store = make(new ShiftedClock());
      assert.equal(await store.take('nope'), null);
      await store.add('a', { userId: 'a' }, 30_000);
      await store.add('b', { userId: 'b' }, 30_000);
      assert.deepEqual(await store.take('b'), { userId: 'b' });
      assert.deepEqual(await store.take('a'), { userId: 'a' });
    });

    test('a ticket past its TTL is null', TEST, async () => {
      const clock = new ShiftedClock();
      const store = make(clock);
      await store.add('k', { userId: 'a' }, 100);
      await store.add('k2', { userId: 'b' }, 5000);
      await elapse(clock, 100);
      assert.equal(await store.take('k'), null);
      assert.deepEqual(await store.take('k2'), { userId: 'b' });
    });

    test('concurrent takes of one key: at most one gets the principal', TEST, async () => {
      const store = make(new ShiftedClock());
      await store.add('k', { userId: 'a' }, 30_000);
      const taken = await Promise.all([store.take('k'), store.take('k'), store.take('k')]);
      assert.equal(taken.filter((p) => p !== null).length, 1);
    });
  });
}
