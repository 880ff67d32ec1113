import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inboxDialect, inboxMessageId } from '../src/generator/inbox-dialect.js';
import { parseOptions } from '../src/options.js';
import { deliverParams, rateOf } from '../src/scenarios/deliver.js';

test('the message id of an inbox push, cut out by position (escapes kept)', () => {
  const frame = (id: string): Buffer =>
    Buffer.from(`{"type":"inbox","id":${JSON.stringify(id)},"attempt":1,"data":{"ts":1},"time":2}`);
  assert.equal(inboxMessageId(frame('0-1.abc')), '"0-1.abc"');
  assert.equal(inboxMessageId(frame('a"b\\c')), JSON.stringify('a"b\\c'));
  assert.equal(inboxMessageId(Buffer.from('{"type":"direct","data":{}}')), null);
  assert.equal(inboxMessageId(Buffer.from('{"type":"inbox","id":"unterminated')), null);
});

test('the inbox dialect acks inbox pushes, counts direct pushes, opens the inbox on subscribe', () => {
  const dialect = inboxDialect('secret');
  const push = Buffer.from('{"type":"inbox","id":"m1","attempt":1,"data":{"ts":1},"time":2}');
  assert.equal(dialect.classify(push), 'message');
  assert.equal(dialect.acknowledge?.(push), '{"type":"ack","message":"m1"}');
  const direct = Buffer.from('{"type":"direct","data":{"ts":1}}');
  assert.equal(dialect.classify(direct), 'message');
  assert.equal(dialect.acknowledge?.(direct), null);
  assert.equal(dialect.classify(Buffer.from('{"type":"reply","id":1,"result":{"device":"d"}}')), 'ack');
  assert.deepEqual(JSON.parse(dialect.subscribe('d', 3) as string), { type: 'inbox', id: 3, device: 'd' });
});

test('deliver options: its own default targets and threshold, --max steps ×1.5 from the first rate', () => {
  const parsed = parseOptions(['deliver', '--max', '--rates', '1000']);
  assert.ok(parsed.ok);
  assert.deepEqual(parsed.options.targets, ['send-to-user', 'inbox-memory', 'inbox-redis', 'inbox-postgres']);
  const params = deliverParams(parsed.options);
  assert.equal(params.thresholdMs, 50);
  assert.deepEqual(
    [0, 1, 2, 3].map((i) => rateOf(params, i)),
    [1000, 1500, 2250, 3375],
  );
  assert.equal(rateOf(params, 100), undefined);
  const fixed = parseOptions(['deliver', '--rates', '10,20']);
  assert.ok(fixed.ok);
  const p = deliverParams(fixed.options);
  assert.deepEqual(
    [0, 1, 2].map((i) => rateOf(p, i)),
    [10, 20, undefined],
  );
  const fanout = parseOptions(['fanout']);
  assert.ok(fanout.ok && fanout.options.thresholdMs === undefined);
});
