import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Emitter } from '../src/emitter.js';

interface Events {
  count: number;
  name: string;
}

describe('Emitter', () => {
  it('calls listeners of an event in registration order with its payload', () => {
    const emitter = new Emitter<Events>();
    const seen: string[] = [];
    emitter.on('count', (n) => seen.push(`a${n}`));
    emitter.on('count', (n) => seen.push(`b${n}`));
    emitter.on('name', (s) => seen.push(s));
    emitter.emit('count', 1);
    emitter.emit('name', 'x');
    assert.deepEqual(seen, ['a1', 'b1', 'x']);
  });

  it('removes a listener through the returned function and through off()', () => {
    const emitter = new Emitter<Events>();
    const seen: number[] = [];
    const listener = (n: number): void => {
      seen.push(n);
    };
    const remove = emitter.on('count', listener);
    emitter.emit('count', 1);
    remove();
    emitter.emit('count', 2);
    emitter.on('count', listener);
    emitter.off('count', listener);
    emitter.emit('count', 3);
    assert.deepEqual(seen, [1]);
    assert.equal(emitter.listenerCount('count'), 0);
  });

  it('the remover of one registration leaves other registrations of the same function', () => {
    const emitter = new Emitter<Events>();
    let calls = 0;
    const listener = (): void => {
      calls++;
    };
    const first = emitter.on('count', listener);
    emitter.on('count', listener);
    first();
    emitter.emit('count', 1);
    assert.equal(calls, 1);
  });

  it('once() listeners run a single time, even when the event is emitted from inside them', () => {
    const emitter = new Emitter<Events>();
    const seen: number[] = [];
    emitter.once('count', (n) => {
      seen.push(n);
      emitter.emit('count', n + 1);
    });
    emitter.emit('count', 1);
    emitter.emit('count', 5);
    assert.deepEqual(seen, [1]);
  });

  it('listeners added or removed during an emit take effect from the next emit', () => {
    const emitter = new Emitter<Events>();
    const seen: string[] = [];
    const late = (): void => {
      seen.push('late');
    };
    const second = (): void => {
      seen.push('second');
    };
    emitter.on('count', () => {
      seen.push('first');
      emitter.on('count', late);
      emitter.off('count', second);
    });
    emitter.on('count', second);
    emitter.emit('count', 1);
    assert.deepEqual(seen, ['first', 'second']);
    seen.length = 0;
    emitter.emit('count', 2);
    assert.deepEqual(seen, ['first', 'late']);
  });

  it('a throwing listener does not stop the others and is reported', () => {
    const errors: unknown[] = [];
    const emitter = new Emitter<Events>({ onListenerError: (error, event) => errors.push([error, event]) });
    const seen: number[] = [];
    const boom = new Error('boom');
    emitter.on('count', () => {
      throw boom;
    });
    emitter.on('count', (n) => seen.push(n));
    emitter.emit('count', 7);
    assert.deepEqual(seen, [7]);
    assert.deepEqual(errors, [[boom, 'count']]);
  });
});
