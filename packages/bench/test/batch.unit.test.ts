import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forEachFrame } from '../src/generator/dialect.js';
import { dueMessages, publishOrder } from '../src/generator/publisher.js';
import { switchboardDialect } from '../src/generator/switchboard-dialect.js';
import { payload, readTimestamp } from '../src/generator/timestamp.js';
import { parseOptions } from '../src/options.js';
import { burstParams } from '../src/scenarios/burst.js';

function frames(text: string): string[] {
  const out: string[] = [];
  const count = forEachFrame(Buffer.from(text), (frame) => out.push(frame.toString()));
  assert.equal(count, out.length);
  return out;
}

test('a batched message splits into its frames; a lone frame is one', () => {
  assert.deepEqual(frames('{"a":1}'), ['{"a":1}']);
  assert.deepEqual(frames('{"a":1}\n{"b":2}\n{"c":3}'), ['{"a":1}', '{"b":2}', '{"c":3}']);
  assert.deepEqual(frames('{"a":1}\n'), ['{"a":1}']);
  assert.deepEqual(frames('\n\n{"a":1}\n\n{"b":2}'), ['{"a":1}', '{"b":2}']);
  assert.deepEqual(frames(''), []);
});

test('every frame of a batch is classified and keeps its own send time', () => {
  const dialect = switchboardDialect('secret', true);
  assert.equal(dialect.newlineBatches, true);
  const sent = [0, 1, 2].map((n) => payload(n, 60, 'x'.repeat(100)));
  const times = sent.map((p) => (JSON.parse(p) as { ts: number }).ts);
  const batch = sent
    .map((p, i) => `{"type":"message","channel":"r","id":${i},"data":${p},"time":1}`)
    .join('\n');
  const seen: number[] = [];
  forEachFrame(Buffer.from(batch), (frame) => {
    assert.equal(dialect.classify(frame), 'message');
    seen.push(readTimestamp(frame));
  });
  assert.deepEqual(seen, times);
});

test('the switchboard dialect asks for batch=1 unless told not to', async () => {
  assert.match(await switchboardDialect('s').path(1), /^\/ws\?batch=1&token=[\w-]+\.[\w-]+\.[\w-]+$/);
  const plain = switchboardDialect('s', false);
  assert.match(await plain.path(1), /^\/ws\?token=/);
  assert.equal(plain.newlineBatches, false);
});

test('publishers take turns room by room', () => {
  const rooms = { kind: 'groups', prefix: 'c-', size: 3 } as const;
  assert.deepEqual(publishOrder([0, 1, 2, 3, 4, 5, 6], rooms), [0, 3, 6, 1, 4, 2, 5]);
  assert.deepEqual(publishOrder([5, 1], { kind: 'fixed', room: 'r' }), [5, 1]);
});

test('messages fall due in whole bursts', () => {
  assert.equal(dueMessages(0, 200, 1, 1000), 1);
  assert.equal(dueMessages(0, 200, 8, 1000), 8);
  assert.equal(dueMessages(0.039, 200, 8, 1000), 8);
  assert.equal(dueMessages(0.04, 200, 8, 1000), 16);
  assert.equal(dueMessages(100, 200, 8, 1000), 1000);
});

test('burst defaults and options', () => {
  const parsed = parseOptions(['burst', '--burst', '4', '--cpu-rate', '100']);
  assert.ok(parsed.ok);
  const params = burstParams(parsed.options);
  assert.equal(params.subscribers, 1000);
  assert.equal(params.burst, 4);
  assert.equal(params.rate, 100);
  assert.equal(params.messages, 1000);
  assert.equal(params.messages % params.burst, 0);
  const chat = parseOptions(['chat', '--connect-rate', '2000']);
  assert.ok(chat.ok);
  assert.equal(chat.options.connectRate, 2000);
  assert.equal(chat.options.burst, 8);
});

test('an error reply is a refused subscribe, not an ack', () => {
  const dialect = switchboardDialect('s');
  assert.equal(dialect.classify(Buffer.from('{"type":"reply","id":1,"result":{"offset":0}}')), 'ack');
  const refusal = '{"type":"reply","id":1,"error":{"code":"unavailable","message":"x","temporary":true}}';
  assert.equal(dialect.classify(Buffer.from(refusal)), 'nack');
});
