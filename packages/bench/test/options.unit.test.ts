import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseOptions } from '../src/options.js';

test('defaults', () => {
  const parsed = parseOptions(['fanout'], '/tmp/out');
  assert.ok(parsed.ok);
  assert.equal(parsed.options.scenario, 'fanout');
  assert.deepEqual(parsed.options.targets, ['switchboard', 'ws-frame-once', 'ws-naive', 'socketio']);
  assert.equal(parsed.options.connections, undefined);
  assert.equal(parsed.options.repeat, 1);
  assert.equal(parsed.options.outDir, '/tmp/out');
  assert.equal(parsed.options.heartbeatMs, 15_000);
  assert.equal(parsed.options.quick, false);
  assert.equal(parsed.options.batchDelayMs, 0);
});

test('--batch-delay-ms: a whole number of ms from 0 to 1000', () => {
  const parsed = parseOptions(['burst', '--batch-delay-ms', '25']);
  assert.ok(parsed.ok);
  assert.equal(parsed.options.batchDelayMs, 25);
  for (const raw of ['-1', '1001', '2.5', 'soon']) {
    const refused = parseOptions(['burst', '--batch-delay-ms', raw]);
    assert.equal(refused.ok, false, raw);
    if (!refused.ok) assert.match(refused.error, /--batch-delay-ms/);
  }
});

test('numbers, lists and flags', () => {
  const parsed = parseOptions([
    'idle',
    '--connections',
    '2000',
    '--targets',
    'switchboard,socketio',
    '--rates',
    '1,2.5,10',
    '--repeat',
    '3',
    '--quick',
  ]);
  assert.ok(parsed.ok);
  assert.equal(parsed.options.connections, 2000);
  assert.deepEqual(parsed.options.targets, ['switchboard', 'socketio']);
  assert.deepEqual(parsed.options.rates, [1, 2.5, 10]);
  assert.equal(parsed.options.repeat, 3);
  assert.equal(parsed.options.quick, true);
});

test('refusals name the problem', () => {
  const cases: [string[], RegExp][] = [
    [[], /missing scenario/],
    [['nope'], /unknown scenario nope/],
    [['idle', '--connections', '0'], /--connections must be a number from 1/],
    [['idle', '--connections', 'many'], /--connections/],
    [['fanout', '--rates', '5,-1'], /--rates/],
    [['idle', '--bogus'], /bogus/],
    [['idle', 'extra'], /unexpected argument extra/],
  ];
  for (const [argv, pattern] of cases) {
    const parsed = parseOptions(argv);
    assert.equal(parsed.ok, false, argv.join(' '));
    if (!parsed.ok) assert.match(parsed.error, pattern);
  }
});

test('--help needs no scenario', () => {
  const parsed = parseOptions(['--help']);
  assert.ok(parsed.ok);
  assert.equal(parsed.options.help, true);
});

test('--payload-shape: padded (the default) or ticker', () => {
  const plain = parseOptions(['fanout']);
  assert.ok(plain.ok);
  assert.equal(plain.options.payloadShape, 'padded');
  const ticker = parseOptions(['fanout', '--payload-shape', 'ticker']);
  assert.ok(ticker.ok);
  assert.equal(ticker.options.payloadShape, 'ticker');
  const refused = parseOptions(['fanout', '--payload-shape', 'zeros']);
  assert.equal(refused.ok, false);
  if (!refused.ok) assert.match(refused.error, /--payload-shape/);
});
