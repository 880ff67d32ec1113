// Session ids: 128 bits from the CSPRNG as 22 base64url characters, never repeated, also across refills of
// the registry's random pool; a new session keeps no state until the application stores some.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SessionRegistry } from '../src/hub/session-registry.js';
import { systemClock } from '../src/index.js';

describe('SessionRegistry', () => {
  test('ids are 22 base64url characters and unique across pool refills', () => {
    const registry = new SessionRegistry<object>(30_000, systemClock);
    const ids = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const { id } = registry.create(null, {});
      assert.match(id, /^[\w-]{22}$/);
      ids.add(id);
    }
    assert.equal(ids.size, 2000);
    assert.equal(registry.size, 2000);
  });

  test('state is created on first use and kept across a resume', () => {
    const registry = new SessionRegistry<object>(30_000, systemClock);
    const first = {};
    const record = registry.create('alice', first);
    assert.equal(record.hasState, false);
    record.state.set('k', 1);
    assert.equal(record.hasState, true);
    assert.equal(registry.release(record, first, new Map()), true);
    const claimed = registry.claim(record.id, 'alice', {});
    assert.equal(claimed?.record.state.get('k'), 1);
  });
});
