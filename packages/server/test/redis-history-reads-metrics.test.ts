/**
 * The Redis engine's history read pacing as operators see it: `historyReads` in /stats and the
 * switchboard_history_reads_* metrics follow the reads in flight, waiting for their turn and refused,
 * against a real redis-server stalled with SIGSTOP (as redis-history-pacing.test.ts stalls it), and are 0
 * when nothing is read; /stats also shows the bounds, an unbounded one as `null`. The memory engine's
 * zeros (and `limits: null`) are checked in ops-endpoints.test.ts, the CLI's flags and environment in
 * redis-history-read-limits-cli.test.ts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BackendUnavailableError } from '../src/index.js';
import type { ServerStats } from '../src/index.js';
import { createRedisEngine } from '../src/engine/redis-engine.js';
import type { HistoryReadStats } from '../src/history/history-read-pacing.js';
import { metricSample, startServer } from './helpers.js';
import type { TestServer } from './helpers.js';
import { redisPerSuite, redisRequirement } from './redis-harness.js';

const SKIP = redisRequirement.skip;
const TEST = { skip: SKIP, timeout: 20_000 };

/** The bounds the test's engine is made with, as /stats reports them. */
const LIMITS = { concurrency: 1, queueSize: 2, queueTimeoutMs: 1000 };

/**
 * Assert that /api/stats (the /stats document without the cluster counts) and /metrics both report
 * `expected`, and that /api/stats reports {@link LIMITS} beside it (the metrics do not export the bounds).
 */
async function assertReads(
  t: TestServer,
  expected: Omit<HistoryReadStats, 'limits'>,
  when: string,
): Promise<void> {
  // /stats itself would wait for the cluster counts, which need the Redis this test stalls.
  const stats = (await (await fetch(`${t.httpUrl}/api/stats`)).json()) as ServerStats;
  assert.deepEqual(stats.historyReads, { ...expected, limits: LIMITS }, `/stats ${when}`);
  const text = await (await fetch(`${t.httpUrl}/metrics`)).text();
  const sample = (series: string): number | undefined =>
    metricSample(text, `switchboard_history_reads_${series}`);
  const exported = {
    running: sample('running'),
    waiting: sample('waiting'),
    refused: {
      queueFull: sample('refused_total{reason="queue_full"}'),
      waitedTooLong: sample('refused_total{reason="waited_too_long"}'),
    },
  };
  assert.deepEqual(exported, expected, `/metrics ${when}`);
}

describe('history read pacing in /stats and /metrics', () => {
  const redis = redisPerSuite();

  it(
    'follow the reads in flight, waiting and refused while Redis stalls, and are 0 when idle',
    TEST,
    async () => {
      const { pid, url } = redis();
      const engine = createRedisEngine({
        url,
        historyReadConcurrency: LIMITS.concurrency,
        historyReadQueueSize: LIMITS.queueSize,
        historyReadQueueTimeoutMs: LIMITS.queueTimeoutMs,
        // Nothing else gives up on the stalled Redis meanwhile: the read sent stays in flight throughout.
        commandTimeoutMs: 10_000,
        probeIntervalMs: 60_000,
        probeTimeoutMs: 60_000,
      });
      const t = await startServer({ engine });
      try {
        await t.server.history('warm-up'); // the read script is cached: a read is one command from now on
        await assertReads(
          t,
          { running: 0, waiting: 0, refused: { queueFull: 0, waitedTooLong: 0 } },
          'when idle',
        );

        process.kill(pid, 'SIGSTOP');
        // The first read is sent (and stalls), the next two wait their turn, the fourth finds the queue full.
        const first = t.server.history('a');
        const second = t.server.history('b');
        const third = t.server.history('c');
        const fourth = t.server.history('d');
        // Outcomes are asserted below; this only keeps a failed assertion from surfacing as an unhandled rejection.
        for (const read of [first, second, third, fourth]) read.catch(() => {});
        try {
          await assert.rejects(fourth, BackendUnavailableError);
          await assertReads(
            t,
            { running: 1, waiting: 2, refused: { queueFull: 1, waitedTooLong: 0 } },
            'with one read stalled and two waiting',
          );
          // The waiting two are refused once they have waited historyReadQueueTimeoutMs.
          await Promise.all([
            assert.rejects(second, BackendUnavailableError),
            assert.rejects(third, BackendUnavailableError),
          ]);
          await assertReads(
            t,
            { running: 1, waiting: 0, refused: { queueFull: 1, waitedTooLong: 2 } },
            'after the wait bound',
          );
        } finally {
          process.kill(pid, 'SIGCONT');
        }
        await first; // answered once Redis runs again
        await assertReads(
          t,
          { running: 0, waiting: 0, refused: { queueFull: 1, waitedTooLong: 2 } },
          'idle again (the refusals are running totals)',
        );
      } finally {
        await t.stop();
      }
    },
  );

  it('show an unbounded limit (Infinity, which JSON cannot carry) as null', TEST, async () => {
    const engine = createRedisEngine({
      url: redis().url,
      historyReadConcurrency: Infinity,
      historyReadQueueSize: Infinity,
      historyReadQueueTimeoutMs: Infinity,
    });
    const t = await startServer({ engine });
    try {
      const stats = (await (await fetch(`${t.httpUrl}/api/stats`)).json()) as ServerStats;
      assert.deepEqual(stats.historyReads.limits, {
        concurrency: null,
        queueSize: null,
        queueTimeoutMs: null,
      });
    } finally {
      await t.stop();
    }
  });
});
