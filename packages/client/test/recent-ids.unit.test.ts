import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RecentIds } from '../src/recent-ids.js';

describe('RecentIds', () => {
  it('keeps at most its capacity, evicting the least recently used; a hit counts as a use', () => {
    const ids = new RecentIds(2);
    ids.add('a');
    ids.add('b');
    assert.equal(ids.has('a'), true);
    ids.add('c');
    assert.equal(ids.size, 2);
    assert.equal(ids.has('b'), false, 'b was the least recently used');
    assert.equal(ids.has('a'), true);
    assert.equal(ids.has('c'), true);
    ids.add('a');
    ids.add('d');
    assert.deepEqual(
      ['a', 'c', 'd'].map((id) => ids.has(id)),
      [true, false, true],
    );
  });

  it('keeps nothing with capacity 0', () => {
    const ids = new RecentIds(0);
    ids.add('a');
    assert.equal(ids.has('a'), false);
    assert.equal(ids.size, 0);
  });
});
