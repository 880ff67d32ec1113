/**
 * /health's degradation (a blocked event loop, memory over its threshold) and /stats' per-channel activity
 * and recent errors, on a live server; ChannelActivity and RecentErrors as pure units.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { connectV1, startServer, waitMembers } from './helpers.js';
import { InvalidOptionError, createServer } from '../src/index.js';
import type { ChannelStats, HubStats } from '../src/index.js';
import { ChannelActivity, ACTIVITY_GENERATION_MS } from '../src/hub/channel-activity.js';
import { RecentErrors } from '../src/hub/recent-errors.js';
import type { HealthReport } from '../src/index.js';

async function health(url: string): Promise<HealthReport> {
  const response = await fetch(`${url}/health`);
  assert.equal(response.status, 200, 'degraded or not, /health answers 200');
  return (await response.json()) as HealthReport;
}

/** Poll `read` until `accept` holds; fails after `timeoutMs` with the last value. */
async function until<T>(
  read: () => Promise<T>,
  accept: (v: T) => boolean,
  what: string,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await read();
    if (accept(last)) return last;
    if (Date.now() > deadline) assert.fail(`${what}; last: ${JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Keep this thread busy for `ms`: the event loop stands still, as under a CPU-bound handler. */
function block(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

describe('/health degradation', () => {
  test('a blocked event loop: degraded with the reason while its window lasts, still 200, then ok again', async () => {
    const t = await startServer({ health: { eventLoopDelayMs: 150, eventLoopWindowMs: 100 } });
    try {
      const first = await health(t.httpUrl);
      assert.deepEqual(Object.keys(first).sort(), ['eventLoop', 'memory', 'reasons', 'status']);
      assert.equal(first.eventLoop.thresholdMs, 150);
      assert.ok(first.memory.heapUsedBytes > 0 && first.memory.heapLimitBytes > first.memory.heapUsedBytes);
      block(600);
      const degraded = await until(
        () => health(t.httpUrl),
        (h) => h.status === 'degraded',
        'degraded after a 600 ms stall',
      );
      assert.ok(degraded.eventLoop.p99Ms > 150, JSON.stringify(degraded.eventLoop));
      assert.equal(degraded.reasons[0]?.check, 'event_loop_delay');
      assert.match(degraded.reasons[0]?.message ?? '', /event loop delay p99 [\d.]+ ms over 150 ms/);
      await until(
        () => health(t.httpUrl),
        (h) => h.status === 'ok',
        'ok again once the loop runs freely',
      );
    } finally {
      await t.stop();
    }
  });

  test('memory over its thresholds: degraded with a memory reason for the heap and for RSS', async () => {
    const t = await startServer({ health: { heapFraction: 0.0001, maxRssBytes: 1 } });
    try {
      const report = await health(t.httpUrl);
      assert.equal(report.status, 'degraded');
      assert.deepEqual(
        report.reasons.map((r) => r.check),
        ['memory', 'memory'],
      );
      assert.match(report.reasons[0]?.message ?? '', /^heap used [\d.]+% of its limit, over 0%$/);
      assert.match(report.reasons[1]?.message ?? '', /^RSS \d+ bytes over 1$/);
    } finally {
      await t.stop();
    }
  });

  test('bad thresholds are refused with InvalidOptionError', () => {
    for (const health of [
      { eventLoopDelayMs: 0 },
      { eventLoopWindowMs: -1 },
      { heapFraction: 1.5 },
      { heapFraction: 0 },
      { maxRssBytes: 1.5 },
    ]) {
      assert.throws(() => createServer({ health }), InvalidOptionError, JSON.stringify(health));
    }
  });
});

describe('/stats per channel and recent errors', () => {
  test('members, rates and delivery latency per channel; the errors sent, with their connection', async () => {
    const t = await startServer();
    try {
      const { client: a } = await connectV1(t);
      const { client: b } = await connectV1(t);
      await a.request({ id: 1, type: 'subscribe', channel: 'busy' });
      await b.request({ id: 1, type: 'subscribe', channel: 'busy' });
      await b.request({ id: 2, type: 'subscribe', channel: 'quiet' });
      await waitMembers(t, 'busy', 2);
      for (let n = 0; n < 5; n++) await t.server.publish('busy', { n });
      for (let n = 0; n < 5; n++) {
        await a.nextOfType('message');
        await b.nextOfType('message');
      }
      a.send('not json');
      assert.equal((await a.nextOfType('error'))['code'], 'invalid_json');

      const stats = (await (await fetch(`${t.httpUrl}/stats`)).json()) as HubStats;
      const busy = stats.channels.list.find((c) => c.name === 'busy') as ChannelStats;
      assert.equal(busy.members, 2);
      assert.ok(busy.messagesInPerSecond > 0, JSON.stringify(busy));
      // Two members each got every publication: twice as many frames out as publications in.
      assert.ok(
        Math.abs(busy.messagesOutPerSecond - 2 * busy.messagesInPerSecond) <= 0.02,
        JSON.stringify(busy),
      );
      assert.equal(busy.latencyMs.samples, 5);
      for (const p of [busy.latencyMs.p50, busy.latencyMs.p90, busy.latencyMs.p99])
        assert.ok(typeof p === 'number' && p >= 1, JSON.stringify(busy.latencyMs));
      const quiet = stats.channels.list.find((c) => c.name === 'quiet') as ChannelStats;
      assert.deepEqual(
        { ...quiet, messagesInPerSecond: 0 },
        {
          name: 'quiet',
          members: 1,
          messagesInPerSecond: 0,
          messagesOutPerSecond: 0,
          latencyMs: { p50: null, p90: null, p99: null, samples: 0 },
        },
      );
      assert.equal(stats.recentErrors.length, 1);
      const [error] = stats.recentErrors;
      assert.equal(error?.code, 'invalid_json');
      assert.match(error?.connectionId ?? '', new RegExp(`^${stats.nodeId}`));
      assert.ok(Math.abs((error?.time ?? 0) - Date.now()) < 60_000);
      a.close();
      b.close();
    } finally {
      await t.stop();
    }
  });

  test('RecentErrors keeps the last N, oldest first', () => {
    const recent = new RecentErrors(3);
    assert.deepEqual(recent.list(), []);
    for (let i = 1; i <= 5; i++) recent.add(`code${i}`, i, `c${i}`);
    assert.deepEqual(
      recent.list().map((e) => e.code),
      ['code3', 'code4', 'code5'],
    );
    assert.equal(new RecentErrors().capacity, 100);
  });

  test('ChannelActivity: rates over two generations, latency buckets, idle generations forgotten', () => {
    const g = ACTIVITY_GENERATION_MS;
    const start = 10 * g;
    const activity = new ChannelActivity(start);
    for (let i = 0; i < 10; i++) activity.record(start + 1000, start + 1000 - 3, 4); // 3 ms -> bucket 5
    activity.record(start + 2000, start, 4); // 2000 ms -> bucket 2000
    let s = activity.snapshot(start + 2000);
    assert.equal(s.messagesInPerSecond, 5.5); // 11 in 2 s
    assert.equal(s.messagesOutPerSecond, 22);
    assert.deepEqual(s.latencyMs, { p50: 5, p90: 5, p99: 2000, samples: 11 });
    // Next generation: the previous one still counts, over its whole length.
    activity.record(start + g + 500, start + g + 500, 1);
    s = activity.snapshot(start + g + 1000);
    assert.equal(s.latencyMs.samples, 12);
    assert.equal(s.messagesInPerSecond, Math.round((12 / 6) * 100) / 100);
    // Two generations later with nothing new: all forgotten.
    s = activity.snapshot(start + 3 * g + 1);
    assert.deepEqual(s.latencyMs, { p50: null, p90: null, p99: null, samples: 0 });
    assert.equal(s.messagesInPerSecond, 0);
  });
});
