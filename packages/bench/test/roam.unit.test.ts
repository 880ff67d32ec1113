// The pure parts of the drain and failover scenarios: the roaming clients' reconnect rules (the SDK's),
// the sequence check of recovering subscribers, the windows and bounds the reports are computed with.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { drainCloseReason } from '@switchboard/protocol';
import { SDK_BACKOFF, afterClose, roamConnected, roamState } from '../src/generator/roam-policy.js';
import { SequenceCheck, numberOf } from '../src/generator/sequence-check.js';
import { parseOptions } from '../src/options.js';
import { parseTcpExt } from '../src/run/netstat.js';
import { parseSamples, sampleSum } from '../src/run/nodes.js';
import { phaseOf } from '../src/scenarios/latency-windows.js';
import { peakInWindow, perSlot, percentileOf, tokenBucketExcess } from '../src/stats/windows.js';

const half = (): number => 0.5;

test('a drain hint: the next URL after exactly the hinted delay, no attempt counted', () => {
  const state = roamState(0);
  roamConnected(state, 1000);
  const verdict = afterClose(
    state,
    { connected: true, code: 1012, reason: drainCloseReason(37), now: 2000 },
    2,
  );
  assert.deepEqual(verdict, { retry: true, urlIndex: 1, delayMs: 37, hinted: true });
  assert.equal(state.attempts, 0);
  assert.equal(state.connectedAt, null);
});

test('the hint is read from 1012 only, and a reason without one falls back to the backoff', () => {
  const other = roamState(0);
  roamConnected(other, 0);
  const goingAway = afterClose(
    other,
    { connected: true, code: 1001, reason: 'retry after 37 ms', now: 10 },
    2,
    SDK_BACKOFF,
    half,
  );
  assert.deepEqual(goingAway, { retry: true, urlIndex: 0, delayMs: 250, hinted: false });
  const plain = roamState(0);
  roamConnected(plain, 0);
  const restart = afterClose(
    plain,
    { connected: true, code: 1012, reason: 'restart', now: 10 },
    2,
    SDK_BACKOFF,
    half,
  );
  assert.deepEqual(restart, { retry: true, urlIndex: 0, delayMs: 250, hinted: false });
});

test('refused attempts move on to the next URL with full jitter, the cap doubling to its maximum', () => {
  const state = roamState(1);
  const caps: number[] = [];
  const urls: number[] = [];
  for (let i = 0; i < 8; i++) {
    const verdict = afterClose(
      state,
      { connected: false, code: 1006, reason: '', now: i },
      3,
      SDK_BACKOFF,
      () => 1,
    );
    assert.ok(verdict.retry);
    caps.push(verdict.delayMs);
    urls.push(verdict.urlIndex);
  }
  assert.deepEqual(caps, [500, 1000, 2000, 4000, 8000, 16_000, 20_000, 20_000]);
  assert.deepEqual(urls, [2, 0, 1, 2, 0, 1, 2, 0]);
  // Full jitter: anything from 0 to the cap.
  const zero = afterClose(
    roamState(0),
    { connected: false, code: 1006, reason: '', now: 0 },
    2,
    SDK_BACKOFF,
    () => 0,
  );
  assert.ok(zero.retry && zero.delayMs === 0);
});

test('a crash: the same URL first; the backoff resets only after the minimum uptime', () => {
  const state = roamState(0);
  state.attempts = 3;
  roamConnected(state, 0);
  const early = afterClose(
    state,
    { connected: true, code: 1006, reason: '', now: 4999 },
    2,
    SDK_BACKOFF,
    () => 1,
  );
  assert.deepEqual(early, { retry: true, urlIndex: 0, delayMs: 4000, hinted: false });
  roamConnected(state, 10_000);
  const late = afterClose(
    state,
    { connected: true, code: 1006, reason: '', now: 15_000 },
    2,
    SDK_BACKOFF,
    () => 1,
  );
  assert.deepEqual(late, { retry: true, urlIndex: 0, delayMs: 500, hinted: false });
});

test('close codes that forbid a retry stop the client', () => {
  const state = roamState(0);
  roamConnected(state, 0);
  assert.deepEqual(afterClose(state, { connected: true, code: 4500, reason: '', now: 1 }, 2), {
    retry: false,
  });
});

test('sequence: live messages, a recovering subscribe, and what breaks continuity', () => {
  const seq = new SequenceCheck();
  assert.equal(seq.since(), null);
  seq.subscribed({ offset: 4, epoch: 'e1' });
  seq.message(5, 1);
  seq.message(6, 2);
  assert.deepEqual(seq.since(), { offset: 6, epoch: 'e1' });
  seq.subscribed({
    offset: 8,
    epoch: 'e1',
    recovered: true,
    messages: [
      { id: 7, data: { n: 3 } },
      { id: 8, data: { n: 4 } },
    ],
  });
  seq.message(8, 4);
  seq.message(9, 5);
  assert.deepEqual(seq.figures(), {
    gaps: 0,
    missing: 0,
    numberGaps: 0,
    duplicates: 1,
    recovered: 1,
    notRecovered: 0,
    replayed: 2,
  });
  seq.message(12, 6);
  seq.message(13, 8);
  const broken = seq.figures();
  assert.equal(broken.gaps, 1);
  assert.equal(broken.missing, 2);
  assert.equal(broken.numberGaps, 1);
  seq.subscribed({ offset: 20, epoch: 'e2', recovered: false });
  seq.message(21, 1);
  assert.equal(seq.figures().notRecovered, 1);
  assert.equal(seq.figures().numberGaps, 1, 'numbers restart unknown after a lost state');
  assert.equal(numberOf({ n: 3 }), 3);
  assert.ok(Number.isNaN(numberOf('x')));
});

test('percentiles, peaks in a window, per-slot counts', () => {
  assert.equal(percentileOf([5, 1, 3, 2, 4], 50), 3);
  assert.equal(percentileOf([5, 1, 3, 2, 4], 99), 5);
  assert.ok(Number.isNaN(percentileOf([], 50)));
  assert.equal(peakInWindow([0, 100, 500, 999, 1000, 1999], 1000), 4);
  assert.equal(peakInWindow([], 1000), 0);
  assert.deepEqual(perSlot([90, 100, 120, 349, 700], 100, 100), [2, 0, 1, 0, 0, 0, 1]);
});

test('token bucket bound: a conforming sequence stays under it, a burst past it does not', () => {
  // 10/s with a burst of 10: ten at once, then one every 100 ms conforms.
  const conforming = [
    ...Array.from({ length: 10 }, () => 0),
    ...Array.from({ length: 30 }, (_, i) => 100 * (i + 1)),
  ];
  assert.ok(tokenBucketExcess(conforming, 10, 10) <= 1e-9);
  const burst = [...conforming, 3000, 3000, 3000];
  assert.ok(tokenBucketExcess(burst, 10, 10) >= 2 - 1e-9);
  assert.equal(tokenBucketExcess([], 10, 10), -10);
  // 1000/s admitted 1 ms apart, read from a millisecond clock, can show 2 in one reading: allowed for.
  const ms = [0, 1, 1, 2, 3, 4];
  assert.ok(tokenBucketExcess(ms, 1000, 1) > 0);
  assert.ok(tokenBucketExcess(ms, 1000, 1, 1) <= 1e-9);
});

test('windows are before, during or after the storm', () => {
  assert.equal(phaseOf({ start: 0, end: 1000 }, 1000, 5000), 'before');
  assert.equal(phaseOf({ start: 900, end: 1900 }, 1000, 5000), 'storm');
  assert.equal(phaseOf({ start: 4900, end: 5900 }, 1000, 5000), 'storm');
  assert.equal(phaseOf({ start: 5000, end: 6000 }, 1000, 5000), 'after');
});

test('Prometheus samples: parsed, summed by name and labels', () => {
  const samples = parseSamples(
    [
      '# HELP switchboard_admission_refused_total x',
      'switchboard_admission_refused_total{reason="accept_budget"} 12',
      'switchboard_admission_refused_total{reason="shutting_down"} 3',
      'switchboard_connections_opened_total{transport="websocket"} 40',
      'switchboard_connections_opened_total{transport="sse"} 2',
      '',
    ].join('\n'),
  );
  assert.equal(sampleSum(samples, 'switchboard_admission_refused_total', 'reason="accept_budget"'), 12);
  assert.equal(sampleSum(samples, 'switchboard_admission_refused_total'), 15);
  assert.equal(sampleSum(samples, 'switchboard_connections_opened_total'), 42);
  assert.equal(sampleSum(samples, 'switchboard_connections'), 0);
});

test('drain and failover options: their own target, sizes and budgets', () => {
  const drain = parseOptions([
    'drain',
    '--accept-budget',
    '300',
    '--drain-ms',
    '5000',
    '--publish-rate',
    '50',
  ]);
  assert.ok(drain.ok);
  assert.deepEqual(drain.options.targets, ['switchboard-nodes']);
  assert.equal(drain.options.acceptBudget, 300);
  assert.equal(drain.options.drainMs, 5000);
  assert.equal(drain.options.publishRate, 50);
  const failover = parseOptions([
    'failover',
    '--survivors',
    '3',
    '--chat-clients',
    '600',
    '--admission-loop-delay-ms',
    '50',
  ]);
  assert.ok(failover.ok);
  assert.equal(failover.options.survivors, 3);
  assert.equal(failover.options.chatClients, 600);
  assert.equal(failover.options.admissionLoopDelayMs, 50);
  assert.equal(parseOptions(['failover', '--survivors', '0']).ok, false);
});

test('kernel TCP counters: the TcpExt names and values of /proc/net/netstat', () => {
  const text = [
    'TcpExt: SyncookiesSent ListenOverflows ListenDrops',
    'TcpExt: 3 12 12',
    'IpExt: InNoRoutes',
    'IpExt: 0',
  ].join('\n');
  const counters = parseTcpExt(text);
  assert.equal(counters.get('ListenOverflows'), 12);
  assert.equal(counters.get('SyncookiesSent'), 3);
  assert.equal(parseTcpExt('').size, 0);
});
