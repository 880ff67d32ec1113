import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inRange, overlap, roomOf, sourceAddress, splitProportionally } from '../src/generator/plan.js';
import { payload, readTimestamp } from '../src/generator/timestamp.js';
import { textFrame } from '../src/targets/ws-frame.js';
import { peakPerSecond } from '../src/scenarios/measure.js';
import * as ws from 'ws';

/** ws exports its Sender at run time; @types/ws does not declare it. */
const { Sender } = ws as unknown as {
  Sender: { frame(data: Buffer, options: Record<string, boolean | number>): Buffer[] };
};

test('rooms by fixed name, groups and spread', () => {
  assert.equal(roomOf({ kind: 'fixed', room: 'r' }, 7), 'r');
  assert.equal(roomOf({ kind: 'groups', prefix: 'c-', size: 20 }, 39), 'c-1');
  assert.equal(roomOf({ kind: 'groups', prefix: 'c-', size: 20 }, 40), 'c-2');
  assert.equal(roomOf({ kind: 'spread', prefix: 'c-', rooms: 5 }, 12), 'c-2');
});

test('ranges', () => {
  assert.ok(inRange({ first: 10, count: 5 }, 14));
  assert.ok(!inRange({ first: 10, count: 5 }, 15));
  assert.equal(overlap({ first: 0, count: 10 }, { first: 5, count: 10 }), 5);
  assert.equal(overlap({ first: 0, count: 10 }, { first: 10, count: 10 }), 0);
});

test('proportional split is exact and fair', () => {
  assert.deepEqual(splitProportionally(10, [1, 1, 1]), [4, 3, 3]);
  assert.deepEqual(splitProportionally(5001, [2501, 2501]), [2501, 2500]);
  assert.deepEqual(splitProportionally(7, [0, 3]), [0, 7]);
  assert.deepEqual(splitProportionally(7, [0, 0]), [0, 0]);
});

test('source addresses change every thousand sockets', () => {
  assert.equal(sourceAddress('127.3.0.', 0), '127.3.0.2');
  assert.equal(sourceAddress('127.3.0.', 999), '127.3.0.2');
  assert.equal(sourceAddress('127.3.0.', 1000), '127.3.0.3');
});

test('timestamps survive every dialect framing', () => {
  const data = payload(3, 100, 'x'.repeat(200));
  const parsed = JSON.parse(data) as { ts: number; n: number; p: string };
  assert.equal(parsed.n, 3);
  assert.ok(data.length >= 95 && data.length <= 105, `${data.length}`);
  for (const frame of [
    `{"type":"message","channel":"r","id":1,"data":${data},"time":1}`,
    `42["message","r",${data}]`,
  ]) {
    assert.equal(readTimestamp(Buffer.from(frame)), parsed.ts);
  }
  assert.ok(Number.isNaN(readTimestamp(Buffer.from('{"type":"ping"}'))));
});

test('textFrame matches ws Sender.frame for every length class', () => {
  for (const length of [0, 5, 125, 126, 65_535, 65_536]) {
    const data = Buffer.alloc(length, 0x61);
    const expected = Buffer.concat(
      Sender.frame(data, { fin: true, opcode: 1, mask: false, readOnly: true, rsv1: false }),
    );
    assert.deepEqual(textFrame(data), expected, `length ${length}`);
  }
});

test('peak per second is the best sliding one-second sum', () => {
  assert.equal(peakPerSecond([]), 0);
  assert.equal(peakPerSecond([5, 5]), 10);
  assert.equal(peakPerSecond([100, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 50, 50]), 101);
});
