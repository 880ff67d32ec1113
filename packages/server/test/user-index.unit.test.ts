// The per-user connection index: a user's single connection is stored as is, a second one makes a Set, and
// adds and removes report the first and the last connection (the broker's watch and unwatch).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { UserIndex } from '../src/hub/user-index.js';

describe('UserIndex', () => {
  test('first and last connection of a user, through one and several connections', () => {
    const index = new UserIndex<{ id: number }>();
    const [a, b, c] = [{ id: 1 }, { id: 2 }, { id: 3 }];
    assert.equal(index.add('u', a), true, 'first');
    assert.equal(index.add('u', a), false, 'again: not a first');
    assert.equal(index.count('u'), 1);
    assert.deepEqual([...(index.get('u') ?? [])], [a]);
    assert.equal(index.add('u', b), false);
    assert.equal(index.add('u', c), false);
    assert.equal(index.count('u'), 3);
    assert.deepEqual(index.list('u'), [a, b, c]);
    assert.equal(index.delete('u', { id: 9 }), false, 'not one of them');
    assert.equal(index.delete('u', b), false);
    assert.equal(index.delete('u', a), false);
    assert.equal(index.delete('u', c), true, 'last');
    assert.equal(index.count('u'), 0);
    assert.equal(index.get('u'), undefined);
    assert.equal(index.size, 0);
  });

  test('a single connection: removing another one changes nothing', () => {
    const index = new UserIndex<{ id: number }>();
    const a = { id: 1 };
    index.add('u', a);
    assert.equal(index.delete('u', { id: 2 }), false);
    assert.equal(index.delete('v', a), false);
    assert.equal(index.size, 1);
    assert.equal(index.delete('u', a), true);
    assert.deepEqual(index.list('u'), []);
  });

  test('list is a copy: closing connections while iterating it is safe', () => {
    const index = new UserIndex<{ id: number }>();
    const all = [{ id: 1 }, { id: 2 }, { id: 3 }];
    for (const c of all) index.add('u', c);
    for (const c of index.list('u')) index.delete('u', c);
    assert.equal(index.size, 0);
  });
});
