/**
 * The admin dashboard page's pure parts (packages/server/admin-ui): formats, the ring buffer and the
 * timeline, snapshots to chart series and cluster tables, routes, the publish editor's JSON check, and
 * reading snapshots defensively. The page itself runs in Chromium: admin.browser.test.ts.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { closeCodeName, closeCodeReconnects } from '../admin-ui/close-codes.js';
import {
  NONE,
  formatAgo,
  formatBytes,
  formatClock,
  formatCount,
  formatDuration,
  formatJson,
  formatJsonCompact,
  formatMs,
  formatPercent,
  formatRate,
  plural,
} from '../admin-ui/format.js';
import { humanKey, pacingFields } from '../admin-ui/history-reads.js';
import { checkJson, lineColumn } from '../admin-ui/json-input.js';
import { RingBuffer } from '../admin-ui/ring-buffer.js';
import { formatRoute, parseRoute } from '../admin-ui/route.js';
import type { Route } from '../admin-ui/route.js';
import {
  clusterSeries,
  mergeCloseCodes,
  mergeRecentErrors,
  mergeTopChannels,
  nodeSeries,
  summarize,
} from '../admin-ui/series.js';
import type { LineSpec } from '../admin-ui/series.js';
import { parseSnapshot, parseSnapshots } from '../admin-ui/snapshot.js';
import type { Snapshot } from '../admin-ui/snapshot.js';
import { Timeline } from '../admin-ui/timeline.js';

/** A snapshot as a node publishes it, with `over` replacing fields. */
function raw(nodeId: string, time: number, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    nodeId,
    time,
    intervalMs: 1000,
    startedAt: time - 60_000,
    state: 'running',
    ready: true,
    health: { status: 'ok', reasons: [] },
    eventLoopDelayMs: { p50: 1, p99: 5, max: 9 },
    memory: { rssBytes: 100e6, heapUsedBytes: 50e6 },
    cpuPercent: 12.5,
    connections: 10,
    users: 8,
    channels: 3,
    transports: { websocket: 9, sse: 1, polling: 0 },
    rates: {
      inPerSec: 5,
      outPerSec: 50,
      publishedPerSec: 5,
      droppedPerSec: 0,
      errorsPerSec: 0,
      acceptedPerSec: 1,
      heartbeatEvictionsPerSec: 0,
      slowConsumersPerSec: 0,
    },
    totals: {},
    latencyMs: { p50: 1, p95: 2, p99: 3 },
    closeCodes: { '1000': 4, '4001': 1 },
    redis: null,
    historyReads: null,
    topChannels: [],
    recentErrors: [],
    ...over,
  };
}

function snap(nodeId: string, time: number, over: Record<string, unknown> = {}): Snapshot {
  const s = parseSnapshot(raw(nodeId, time, over));
  assert.ok(s !== null);
  return s;
}

describe('format', () => {
  test('counts: grouped below ten thousand, then compact', () => {
    assert.equal(formatCount(0), '0');
    assert.equal(formatCount(1234), '1,234');
    assert.equal(formatCount(9999), '9,999');
    assert.equal(formatCount(12_345), '12.3k');
    assert.equal(formatCount(250_000), '250k');
    assert.equal(formatCount(4_560_000), '4.56M');
    assert.equal(formatCount(null), NONE);
    assert.equal(formatCount(Number.NaN), NONE);
  });

  test('rates, sizes, durations, percentages', () => {
    assert.equal(formatRate(0), '0/s');
    assert.equal(formatRate(0.004), '<0.01/s');
    assert.equal(formatRate(0.25), '0.25/s');
    assert.equal(formatRate(3.456), '3.46/s');
    assert.equal(formatRate(1200), '1,200/s');
    assert.equal(formatRate(45_600), '45.6k/s');
    assert.equal(formatBytes(512), '512 B');
    assert.equal(formatBytes(1536), '1.5 KiB');
    assert.equal(formatBytes(230 * 1024 * 1024), '230 MiB');
    assert.equal(formatMs(0.421), '0.42 ms');
    assert.equal(formatMs(12.4), '12 ms');
    assert.equal(formatMs(1250), '1.25 s');
    assert.equal(formatMs(undefined), NONE);
    assert.equal(formatPercent(7.5), '7.5%');
    assert.equal(formatPercent(100), '100%');
    assert.equal(formatDuration(45_000), '45 s');
    assert.equal(formatDuration(12 * 60_000 + 5000), '12 min 5 s');
    assert.equal(formatDuration(3 * 3_600_000 + 20 * 60_000), '3 h 20 min');
    assert.equal(formatDuration(2 * 86_400_000 + 4 * 3_600_000), '2 d 4 h');
    assert.equal(formatAgo(1000, 1500), 'just now');
    assert.equal(formatAgo(1000, 13_000), '12 s ago');
    assert.equal(plural(1, 'node'), '1 node');
    assert.equal(plural(3, 'node'), '3 nodes');
  });

  test('clock times are the browser zone’s, to the second', () => {
    const t = new Date(2025, 4, 11, 9, 3, 7).getTime();
    assert.equal(formatClock(t), '09:03:07');
  });

  test('JSON: compact when short, indented when long, cut when huge', () => {
    assert.equal(formatJsonCompact({ a: 1 }), '{"a":1}');
    const long = { text: 'x'.repeat(200) };
    assert.equal(formatJsonCompact(long), JSON.stringify(long, null, 2));
    const huge = formatJson({ text: 'y'.repeat(5000) }, 100);
    assert.ok(huge.startsWith('{\n  "text": "yyy'));
    assert.match(huge, /… \(4,9\d\d more characters\)$/);
    assert.equal(formatJson(undefined), NONE);
  });
});

describe('ring buffer', () => {
  test('keeps the newest `capacity` items, oldest first', () => {
    const ring = new RingBuffer<number>(3);
    assert.equal(ring.last(), undefined);
    for (let i = 1; i <= 5; i++) ring.push(i);
    assert.deepEqual(ring.toArray(), [3, 4, 5]);
    assert.equal(ring.length, 3);
    assert.equal(ring.last(), 5);
    ring.clear();
    assert.deepEqual(ring.toArray(), []);
    assert.throws(() => new RingBuffer(0), RangeError);
  });
});

describe('timeline', () => {
  test('per node, in order, bounded; repeats and stragglers are refused', () => {
    const timeline = new Timeline(3);
    assert.equal(timeline.add(snap('a', 1000), 0), true);
    assert.equal(timeline.add(snap('a', 1000), 0), false, 'a repeat');
    assert.equal(timeline.add(snap('a', 900), 0), false, 'out of order');
    assert.equal(timeline.addAll([snap('a', 4000), snap('b', 1500), snap('a', 2000), snap('a', 3000)], 0), 4);
    assert.deepEqual(
      timeline.history('a').map((s) => s.time),
      [2000, 3000, 4000],
    );
    assert.deepEqual(timeline.nodeIds(), ['a', 'b']);
  });

  test('staleness and pruning follow when the page received a node, not the node’s clock', () => {
    const timeline = new Timeline();
    // Node b's clock runs an hour behind: it is still live.
    timeline.add(snap('a', 10_000), 10_000);
    timeline.add(snap('b', 10_000 - 3_600_000), 10_000);
    timeline.add(snap('c', 5_000), 5_000);
    const views = timeline.latest(12_000, 5000);
    assert.deepEqual(
      views.map((v) => [v.snapshot.nodeId, v.stale]),
      [
        ['a', false],
        ['b', false],
        ['c', true],
      ],
    );
    assert.deepEqual(timeline.prune(12_000, 6000), ['c']);
    assert.deepEqual(timeline.nodeIds(), ['a', 'b']);
  });
});

describe('series', () => {
  const connections: LineSpec = { label: 'connections', metric: (s) => s.connections, aggregate: 'sum' };
  const p99: LineSpec = { label: 'p99', metric: (s) => s.latencyMs?.p99 ?? null, aggregate: 'max' };

  test('nodes on their own phase share buckets; a missing snapshot carries, a long silence is a gap', () => {
    const timeline = new Timeline();
    // Interval 1000 ms; node b publishes 400 ms after node a, and skips t=3000.
    for (const t of [1000, 2000, 3000, 4000, 5000, 6000])
      timeline.add(snap('a', t, { connections: 10, latencyMs: { p50: 1, p95: 2, p99: 3 } }), t);
    for (const t of [1400, 2400, 4400])
      timeline.add(snap('b', t, { connections: 5, latencyMs: { p50: 1, p95: 2, p99: 7 } }), t);
    const series = clusterSeries(timeline, [connections, p99], { intervalMs: 1000, carry: 1 });
    assert.deepEqual(series.x, [1, 2, 3, 4, 5, 6]);
    // b: buckets 1, 2, (3 carried), 4, (5 carried), 6 gone.
    assert.deepEqual(series.ys[0], [15, 15, 15, 15, 15, 10]);
    assert.deepEqual(series.ys[1], [7, 7, 7, 7, 7, 3], 'the worst node');
  });

  test('the window keeps the newest buckets; a bucket nobody filled is null', () => {
    const timeline = new Timeline();
    for (const t of [1000, 2000, 9000, 10_000]) timeline.add(snap('a', t), t);
    const series = clusterSeries(timeline, [connections], { intervalMs: 1000, window: 3, carry: 0 });
    assert.deepEqual(series.x, [2, 9, 10]);
    assert.deepEqual(series.ys[0], [10, 10, 10]);
    const sparse = clusterSeries(timeline, [p99], { intervalMs: 1000 });
    assert.equal(sparse.ys[0]?.length, 4);
    const none = new Timeline();
    none.add(snap('a', 1000, { latencyMs: null }), 0);
    assert.deepEqual(clusterSeries(none, [p99], { intervalMs: 1000 }).ys[0], [null]);
  });

  test('one line per node, sorted by id', () => {
    const timeline = new Timeline();
    timeline.add(snap('b', 1000, { eventLoopDelayMs: { p50: 1, p99: 20, max: 30 } }), 0);
    timeline.add(snap('a', 1100, { eventLoopDelayMs: { p50: 1, p99: 4, max: 5 } }), 0);
    timeline.add(snap('a', 2000, { eventLoopDelayMs: { p50: 1, p99: 6, max: 7 } }), 0);
    const series = nodeSeries(timeline, (s) => s.eventLoopDelayMs.p99, { intervalMs: 1000 });
    assert.deepEqual(series.nodes, ['a', 'b']);
    assert.deepEqual(series.x, [1, 2]);
    assert.deepEqual(series.ys, [
      [4, 6],
      [20, 20],
    ]);
  });

  test('cluster totals, close codes, top channels and errors merge over nodes', () => {
    const a = snap('a', 1000, {
      topChannels: [
        { name: 'chat', members: 3, inPerSec: 1, outPerSec: 3 },
        { name: 'quiet', members: 9, inPerSec: 0, outPerSec: 0 },
      ],
      recentErrors: [{ time: 500, code: 'rate_limited' }],
    });
    const b = snap('b', 1200, {
      health: { status: 'degraded', reasons: ['event-loop p99 over 100 ms'] },
      ready: false,
      latencyMs: { p50: 2, p95: 9, p99: 40 },
      closeCodes: { '1000': 1, '1006': 7 },
      topChannels: [{ name: 'chat', members: 2, inPerSec: 1, outPerSec: 2 }],
      recentErrors: [{ time: 900, code: 'bad_request', message: 'no' }],
    });
    const sum = summarize([a, b]);
    assert.deepEqual(
      [sum.nodes, sum.degraded, sum.notReady, sum.connections, sum.users, sum.inPerSec, sum.latencyP99],
      [2, 1, 1, 20, 16, 10, 40],
    );
    assert.deepEqual(mergeCloseCodes([a, b]), [
      { code: '1006', count: 7 },
      { code: '1000', count: 5 },
      { code: '4001', count: 1 },
    ]);
    assert.deepEqual(mergeTopChannels([a, b]), [
      { name: 'chat', members: 5, inPerSec: 2, outPerSec: 5 },
      { name: 'quiet', members: 9, inPerSec: 0, outPerSec: 0 },
    ]);
    assert.deepEqual(
      mergeRecentErrors([a, b]).map((e) => [e.nodeId, e.code, e.message]),
      [
        ['b', 'bad_request', 'no'],
        ['a', 'rate_limited', null],
      ],
    );
    assert.equal(summarize([]).latencyP99, null);
  });
});

describe('snapshots are read defensively', () => {
  test('no node id or time: not a snapshot', () => {
    assert.equal(parseSnapshot(null), null);
    assert.equal(parseSnapshot({ nodeId: 'a' }), null);
    assert.equal(parseSnapshot({ nodeId: '', time: 1 }), null);
    assert.deepEqual(
      parseSnapshots([raw('a', 1), 'junk', { time: 2 }]).map((s) => s.nodeId),
      ['a'],
    );
    assert.deepEqual(parseSnapshots('junk'), []);
  });

  test('wrong types become zero, null or empty; names stay text', () => {
    const s = parseSnapshot({
      nodeId: '<b>n</b>',
      time: 5,
      connections: 'many',
      latencyMs: 'soon',
      redis: { ready: 'yes', probeRttMs: 0.5 },
      closeCodes: { '1000': 3, '4001': 'x' },
      historyReads: { running: 1, concurrency: null, label: 'ok', nested: {} },
      topChannels: [{ name: 7 }, { name: 'chat', members: '3' }],
      recentErrors: [{ time: 1, code: 'x', message: 2 }],
    });
    assert.ok(s !== null);
    assert.equal(s.nodeId, '<b>n</b>');
    assert.equal(s.connections, 0);
    assert.equal(s.latencyMs, null);
    assert.deepEqual(s.redis, { ready: false, reason: null, probeRttMs: 0.5 });
    assert.deepEqual(s.closeCodes, { '1000': 3 });
    assert.deepEqual(s.historyReads, { running: 1, label: 'ok' });
    assert.deepEqual(s.topChannels, [{ name: 'chat', members: 0, inPerSec: 0, outPerSec: 0 }]);
    assert.deepEqual(s.recentErrors, [{ time: 1, code: 'x', message: null }]);
    assert.equal(s.state, 'unknown');
    assert.equal(s.health.status, 'unknown');
  });
});

describe('routes', () => {
  test('every view survives the round trip, whatever its name', () => {
    const names = [
      'chat:lobby',
      'room/42#main',
      '<img src=x onerror=alert(1)>',
      'a "quoted" \'name\'',
      'שלום 👋',
      '%41 & = ?',
      'x'.repeat(500),
    ];
    const routes: Route[] = [{ view: 'overview' }];
    for (const n of names) {
      routes.push({ view: 'channel', channel: n }, { view: 'user', userId: n }, { view: 'search', query: n });
    }
    for (const route of routes) assert.deepEqual(parseRoute(formatRoute(route)), route);
  });

  test('anything else is the overview', () => {
    for (const hash of ['', '#', '#/', '#/nope/x', '#/channels/', '#/users/%E0%A4%A', 'garbage'])
      assert.deepEqual(parseRoute(hash), { view: 'overview' }, hash);
  });
});

describe('the publish editor', () => {
  test('valid JSON with its size; empty asks for a value', () => {
    assert.deepEqual(checkJson(' {"a": [1, "é"]} '), { ok: true, value: { a: [1, 'é'] }, bytes: 14 });
    assert.deepEqual(checkJson('"x"'), { ok: true, value: 'x', bytes: 3 });
    const empty = checkJson('  \n');
    assert.equal(empty.ok, false);
  });

  test('invalid JSON says where and what', () => {
    const problem = (text: string): string => {
      const result = checkJson(text);
      assert.equal(result.ok, false, text);
      return result.ok ? '' : result.message;
    };
    assert.equal(
      problem('{\n  "a": 1,\n  "b": }'),
      'Not valid JSON at line 3, column 8: expected a value, found “}”.',
    );
    assert.equal(problem('{"a" 1}'), 'Not valid JSON at line 1, column 6: expected “:”, found “1”.');
    assert.equal(
      problem("{'a': 1}"),
      "Not valid JSON at line 1, column 2: expected a property name in double quotes, found “'”.",
    );
    assert.equal(
      problem('[1, 2'),
      'Not valid JSON at line 1, column 6: expected “,” or “]”, found the end of the text.',
    );
    assert.equal(
      problem('{"a": 1,}'),
      'Not valid JSON at line 1, column 9: expected a property name in double quotes, found “}”.',
    );
    assert.equal(
      problem('"tab\there"'),
      'Not valid JSON at line 1, column 5: expected no control character in a string (escape it), found “\t”.',
    );
    assert.equal(
      problem('"\\x"'),
      'Not valid JSON at line 1, column 3: expected an escape such as \\n or \\u0041, found “x”.',
    );
    assert.equal(
      problem('1 2'),
      'Not valid JSON at line 1, column 3: expected nothing more after the value, found “2”.',
    );
    assert.equal(
      problem('01'),
      'Not valid JSON at line 1, column 2: expected nothing more after the value, found “1”.',
    );
    assert.equal(problem('tru'), 'Not valid JSON at line 1, column 1: expected a value, found “t”.');
    assert.equal(problem('-'), 'Not valid JSON at line 1, column 1: expected a value, found “-”.');
    assert.deepEqual(lineColumn('ab\ncd', 4), { line: 2, column: 2 });
  });

  test('the scanner accepts exactly what JSON.parse accepts', () => {
    const samples = [
      '0',
      '-0.5e+3',
      '1E2',
      'true',
      'null',
      '"\\u00e9\\n"',
      '[]',
      '{}',
      '[[], {}]',
      ' {"a": [1, {"b": null}], "c": "d"} ',
      '[1,]',
      '{,}',
      '.5',
      '1.',
      '+1',
      '"a',
      'nul',
      '[1 2]',
      '{"a":1 "b":2}',
      '"\\u12"',
      '\u00a0 1',
    ];
    for (const text of samples) {
      let parses = true;
      try {
        JSON.parse(text);
      } catch {
        parses = false;
      }
      assert.equal(checkJson(text).ok, parses, text);
    }
  });
});

describe('names of things', () => {
  test('close codes from the protocol’s table', () => {
    assert.equal(closeCodeName(4001), 'slow consumer');
    assert.equal(closeCodeName('1000'), 'normal');
    assert.equal(closeCodeName(4321), 'code 4321');
    assert.equal(closeCodeName('x'), 'x');
    assert.equal(closeCodeReconnects(4001), true);
    assert.equal(closeCodeReconnects(4502), false);
  });

  test('history-read pacing reads as running/waiting of their limits, then anything new', () => {
    assert.deepEqual(
      pacingFields({
        running: 2,
        waiting: 0,
        refused: 3,
        refusedPerSec: 0.5,
        concurrency: 8,
        queueSize: 100,
        maxWaitMs: 250,
      }),
      [
        ['running', '2 of 8'],
        ['waiting', '0 of 100'],
        ['refused', '3 (0.5/s)'],
        ['max wait (ms)', '250'],
      ],
    );
    assert.deepEqual(pacingFields({ waiting: 4 }), [['waiting', '4']]);
    assert.equal(humanKey('allowedPerSec'), 'allowed/s');
  });
});
