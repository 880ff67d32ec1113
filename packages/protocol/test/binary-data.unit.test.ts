import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  BINARY_TAG,
  binaryTag,
  bytesOfTag,
  fromBase64,
  tagBinary,
  toBase64,
  untagBinary,
} from '../src/binary-data.js';

/** A deterministic byte source (xorshift32). */
function bytesFrom(seed: number, length: number): Uint8Array {
  let state = seed || 1;
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    out[i] = state & 255;
  }
  return out;
}

describe('base64', () => {
  it('writes what Buffer writes and reads it back, for every length from 0 to 300 and a large one', () => {
    for (const length of [...Array.from({ length: 301 }, (_, i) => i), 100_003]) {
      const bytes = bytesFrom(length + 7, length);
      const text = toBase64(bytes);
      assert.equal(text, Buffer.from(bytes).toString('base64'), `length ${length}`);
      assert.deepEqual(fromBase64(text), bytes, `length ${length}`);
    }
  });

  it('reads only canonical base64: the standard alphabet, padding to a multiple of 4, unused bits zero', () => {
    for (const text of [
      'A',
      'AA',
      'AAA',
      'AA=',
      'AAAAA',
      'AA-_', // base64url
      'AA==AA==',
      'A===',
      '====',
      'AAA=A',
      ' AAA',
      'AAA\n',
      'AB==', // B has bits the single byte does not use
      'AAB=', // the same, two bytes
      'AAé=',
    ]) {
      assert.equal(fromBase64(text), null, JSON.stringify(text));
    }
    assert.deepEqual(fromBase64(''), new Uint8Array(0));
    assert.deepEqual(fromBase64('AA=='), new Uint8Array([0]));
    assert.deepEqual(fromBase64('//8='), new Uint8Array([255, 255]));
  });
});

describe('the JSON form of bytes', () => {
  it('is an object with the one key $base64', () => {
    assert.equal(BINARY_TAG, '$base64');
    assert.deepEqual(binaryTag(new Uint8Array([0, 1, 2])), { $base64: 'AAEC' });
    assert.deepEqual(bytesOfTag({ $base64: 'AAEC' }), new Uint8Array([0, 1, 2]));
  });

  it('is recognised only in exactly that shape', () => {
    const notTags: unknown[] = [
      null,
      'AAEC',
      ['AAEC'],
      {},
      { $base64: 'AAEC', other: 1 },
      { $base64: 1 },
      { $base64: null },
      { $base64: 'not base64!' },
      { $Base64: 'AAEC' },
      Object.create({ $base64: 'AAEC' }) as object,
      new Uint8Array([1]),
    ];
    for (const value of notTags) assert.equal(bytesOfTag(value), null, JSON.stringify(value));
    assert.deepEqual(bytesOfTag(JSON.parse('{"$base64":""}')), new Uint8Array(0));
  });

  it('tagBinary replaces bytes in place, at any position, down to the depth given', () => {
    const value = { a: new Uint8Array([1]), b: [new Uint8Array([2]), { c: new Uint8Array([3]) }], d: 'x' };
    assert.equal(tagBinary(value, 64), value);
    assert.deepEqual(value, {
      a: { $base64: 'AQ==' },
      b: [{ $base64: 'Ag==' }, { c: { $base64: 'Aw==' } }],
      d: 'x',
    });
    assert.deepEqual(tagBinary(new Uint8Array([255]), 64), { $base64: '/w==' });
    const deep = [[new Uint8Array([1])]];
    tagBinary(deep, 1);
    assert.ok(deep[0]?.[0] instanceof Uint8Array, 'below the depth given, bytes are left');
  });

  it('untagBinary replaces tags in place, and never sets a prototype through a "__proto__" key', () => {
    const value = JSON.parse(
      '{"a":{"$base64":"AQ=="},"b":[{"$base64":"Ag=="}],"__proto__":{"$base64":"Aw=="}}',
    ) as Record<string, unknown>;
    untagBinary(value, 64);
    assert.deepEqual(value['a'], new Uint8Array([1]));
    assert.deepEqual((value['b'] as unknown[])[0], new Uint8Array([2]));
    assert.equal(Object.getPrototypeOf(value), Object.prototype);
    assert.ok(Object.hasOwn(value, '__proto__'));
    assert.deepEqual(Object.getOwnPropertyDescriptor(value, '__proto__')?.value, new Uint8Array([3]));
    assert.deepEqual(untagBinary({ $base64: 'AQ==' }, 64), new Uint8Array([1]));
  });
});
