// The memory ticket store: the TicketStore contract, plus its own bound and lazy expiry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryTicketStore } from '../src/index.js';
import { ShiftedClock } from './auth-fixtures.js';
import { ticketStoreContract } from './ticket-store-contract.js';

ticketStoreContract('memory', (clock) => new MemoryTicketStore({ clock }));

test('maxTickets bounds outstanding tickets; taking or expiring one makes room', async () => {
  const clock = new ShiftedClock();
  const store = new MemoryTicketStore({ clock, maxTickets: 2 });
  assert.equal(await store.add('a', { userId: 'a' }, 1000), true);
  assert.equal(await store.add('b', { userId: 'b' }, 1000), true);
  assert.equal(await store.add('c', { userId: 'c' }, 1000), false);
  await store.take('a');
  assert.equal(await store.add('c', { userId: 'c' }, 1000), true);
  clock.advance(1000);
  assert.equal(await store.add('d', { userId: 'd' }, 1000), true, 'expired tickets were dropped');
  assert.equal(store.size, 1);
});

test('expired tickets are dropped without timers, whenever the store is used', async () => {
  const clock = new ShiftedClock();
  const store = new MemoryTicketStore({ clock });
  for (let i = 0; i < 100; i++) await store.add(`k${i}`, { userId: 'u' }, 1000);
  clock.advance(1000);
  assert.equal(await store.take('other'), null);
  assert.equal(store.size, 0);
});

test('maxTickets must be a positive integer', () => {
  for (const maxTickets of [0, -1, 1.5, Number.NaN]) {
    assert.throws(
      () => new MemoryTicketStore({ maxTickets }),
      { name: 'InvalidOptionError' },
      String(maxTickets),
    );
  }
});
