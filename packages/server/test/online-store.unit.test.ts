/** The memory online store's transitions and claims, with a fake clock. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryOnlineStore } from '../src/presence/memory-online-store.js';
import { FakeClock } from './fake-clock.js';

describe('MemoryOnlineStore', () => {
  it('numbers transitions and fires a claim once, after the grace', async () => {
    const clock = new FakeClock();
    const store = new MemoryOnlineStore(clock);
    await store.online('u');
    await store.online('u');
    assert.equal(await store.offline('u'), null);
    const transition = await store.offline('u');
    assert.ok(transition !== null);
    assert.deepEqual(await store.claim('u', transition.epoch, 100), { outcome: 'wait', waitMs: 100 });
    clock.advance(100);
    assert.deepEqual(await store.claim('u', transition.epoch, 100), { outcome: 'fire' });
    assert.deepEqual(await store.claim('u', transition.epoch, 100), { outcome: 'none' });
  });

  it('a user back within the grace makes the old transition claim nothing', async () => {
    const clock = new FakeClock();
    const store = new MemoryOnlineStore(clock);
    await store.online('u');
    const old = await store.offline('u');
    assert.ok(old !== null);
    await store.online('u');
    clock.advance(1000);
    assert.deepEqual(await store.claim('u', old.epoch, 100), { outcome: 'none' });
    const next = await store.offline('u');
    assert.ok(next !== null);
    assert.notEqual(next.epoch, old.epoch);
    assert.deepEqual(await store.claim('u', old.epoch, 0), { outcome: 'none' });
    assert.deepEqual(await store.claim('u', next.epoch, 0), { outcome: 'fire' });
  });
});
