/**
 * The PresenceStore contract, run against every implementation (memory in its unit run, Redis on a
 * standalone server and on a cluster in redis-stores.test.ts). `make` builds a fresh store; channel names
 * are unique per test, so stores sharing one Redis do not see each other's members.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { PresenceEntry } from '@switchboard/protocol';
import type { PresenceMember, PresenceStore } from '../src/index.js';

/** Options of {@link presenceStoreContract}. */
export interface PresenceContractOptions {
  /** node:test's `skip`: why the implementation cannot run here (a missing redis-server), or false. */
  readonly skip?: string | false;
}

/** A member with a user id (its key) and optional info. */
export function user(userId: string, info?: unknown): PresenceMember {
  return { key: userId, userId, ...(info === undefined ? {} : { info }) };
}

/** An anonymous connection: keyed `#<connectionId>`, no user id. */
export function anonymous(connectionId: string, info?: unknown): PresenceMember {
  return { key: `#${connectionId}`, userId: null, connectionId, ...(info === undefined ? {} : { info }) };
}

/** A channel name no other test uses. */
export function freshChannel(): string {
  return `room:${randomUUID()}`;
}

/** Entries in a stable order, for comparing lists whose order a store does not promise. */
export function sorted(entries: readonly PresenceEntry[]): PresenceEntry[] {
  const id = (entry: PresenceEntry): string => entry.userId ?? `#${entry.connectionId ?? ''}`;
  return [...entries].sort((a, b) => (id(a) < id(b) ? -1 : id(a) > id(b) ? 1 : 0));
}

/** Register the contract's tests for one implementation. */
export function presenceStoreContract(
  name: string,
  make: () => PresenceStore,
  options: PresenceContractOptions = {},
): void {
  const TEST = { skip: options.skip ?? false, timeout: 10_000 };

  async function withStore(body: (store: PresenceStore) => Promise<void>): Promise<void> {
    const store = make();
    try {
      await body(store);
    } finally {
      await store.close();
    }
  }

  describe(`PresenceStore contract: ${name}`, () => {
    test('add and remove count a member’s connections; 0 means gone', TEST, () =>
      withStore(async (store) => {
        const channel = freshChannel();
        assert.equal(await store.add(channel, user('alice')), 1);
        assert.equal(await store.add(channel, user('alice')), 2);
        assert.equal(await store.add(channel, user('bob')), 1);
        assert.equal(await store.remove(channel, 'alice'), 1);
        assert.equal(await store.remove(channel, 'alice'), 0);
        assert.equal(await store.remove(channel, 'alice'), 0, 'removing a gone member stays at 0');
        assert.equal(await store.remove(channel, 'nobody'), 0);
        assert.equal(await store.remove(freshChannel(), 'bob'), 0, 'an unknown channel');
        assert.equal(await store.add(channel, user('alice')), 1, 'a gone member comes back from 0');
      }),
    );

    test('list and stats give members with their connections; channels are separate', TEST, () =>
      withStore(async (store) => {
        const channel = freshChannel();
        const other = freshChannel();
        assert.deepEqual(await store.list(channel), []);
        assert.deepEqual(await store.stats(channel), { users: 0, connections: 0 });
        await store.add(channel, user('alice'));
        await store.add(channel, user('alice'));
        await store.add(channel, user('bob'));
        await store.add(other, user('carol'));
        assert.deepEqual(sorted(await store.list(channel)), [
          { userId: 'alice', connections: 2 },
          { userId: 'bob', connections: 1 },
        ]);
        assert.deepEqual(await store.stats(channel), { users: 2, connections: 3 });
        assert.deepEqual(await store.list(other), [{ userId: 'carol', connections: 1 }]);

        await store.remove(channel, 'alice');
        await store.remove(channel, 'bob');
        assert.deepEqual(await store.list(channel), [{ userId: 'alice', connections: 1 }]);
        assert.deepEqual(await store.stats(channel), { users: 1, connections: 1 });
        await store.remove(channel, 'alice');
        assert.deepEqual(await store.list(channel), []);
        assert.deepEqual(await store.stats(channel), { users: 0, connections: 0 });
      }),
    );

    test('member info round-trips; a member keeps the info of its first connection', TEST, () =>
      withStore(async (store) => {
        const channel = freshChannel();
        const info = { name: 'Ålice ✓', roles: ['admin', 'ops'], level: 3, nested: { ok: true, none: null } };
        await store.add(channel, user('alice', info));
        await store.add(channel, user('alice', { name: 'second tab' }));
        await store.add(channel, user('bob', 'just a string'));
        await store.add(channel, user('zed'));
        assert.deepEqual(sorted(await store.list(channel)), [
          { userId: 'alice', connections: 2, info },
          { userId: 'bob', connections: 1, info: 'just a string' },
          { userId: 'zed', connections: 1 },
        ]);
        const [zed] = (await store.list(channel)).filter((entry) => entry.userId === 'zed');
        assert.equal(zed !== undefined && 'info' in zed, false, 'no info means no info key');

        // Gone, then back: the new connection's info.
        await store.remove(channel, 'alice');
        await store.remove(channel, 'alice');
        await store.add(channel, user('alice', { name: 'later' }));
        const [alice] = (await store.list(channel)).filter((entry) => entry.userId === 'alice');
        assert.deepEqual(alice, { userId: 'alice', connections: 1, info: { name: 'later' } });
      }),
    );

    test('anonymous connections are members of their own, keyed #<connectionId>', TEST, () =>
      withStore(async (store) => {
        const channel = freshChannel();
        assert.equal(await store.add(channel, anonymous('c1')), 1);
        assert.equal(await store.add(channel, anonymous('c2', { guest: true })), 1);
        assert.equal(
          await store.add(channel, user('c1')),
          1,
          'a user id equal to a connection id is another member',
        );
        assert.deepEqual(sorted(await store.list(channel)), [
          { userId: null, connectionId: 'c1', connections: 1 },
          { userId: null, connectionId: 'c2', connections: 1, info: { guest: true } },
          { userId: 'c1', connections: 1 },
        ]);
        assert.deepEqual(await store.stats(channel), { users: 3, connections: 3 });
        assert.equal(await store.remove(channel, '#c1'), 0);
        assert.deepEqual(sorted(await store.list(channel)), [
          { userId: null, connectionId: 'c2', connections: 1, info: { guest: true } },
          { userId: 'c1', connections: 1 },
        ]);
      }),
    );

    test('keys and channel names with separators and unicode stay apart', TEST, () =>
      withStore(async (store) => {
        const channel = `${freshChannel()}|{odd}:名前`;
        await store.add(channel, user('a|b'));
        await store.add(channel, user('a'));
        await store.add(channel, user('ユーザー'));
        assert.equal(await store.add(channel, user('a|b')), 2);
        assert.deepEqual(sorted(await store.list(channel)), [
          { userId: 'a', connections: 1 },
          { userId: 'a|b', connections: 2 },
          { userId: 'ユーザー', connections: 1 },
        ]);
        assert.equal(await store.remove(channel, 'a'), 0);
        assert.equal(await store.remove(channel, 'a|b'), 1);
      }),
    );

    test('concurrent adds and removes of one member add up', TEST, () =>
      withStore(async (store) => {
        const channel = freshChannel();
        await Promise.all(Array.from({ length: 20 }, () => store.add(channel, user('alice'))));
        assert.deepEqual(await store.stats(channel), { users: 1, connections: 20 });
        await Promise.all(Array.from({ length: 15 }, () => store.remove(channel, 'alice')));
        assert.deepEqual(await store.list(channel), [{ userId: 'alice', connections: 5 }]);
      }),
    );
  });
}
