/**
 * The history read pacing options of the real `switchboard` CLI reach the Redis engine: the built CLI
 * (node-process.ts) over a real redis-server, configured once by flags and once by environment variables,
 * reports exactly the configured bounds as `historyReads.limits` in /api/stats. The parser alone is
 * covered by cli.test.ts; this is what proves serve.ts hands the values to createRedisEngine.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { HistoryReadStats } from '../src/index.js';
import { startNode } from './node-process.js';
import type { NodeProcess, StartNodeOptions } from './node-process.js';
import { redisPerSuite, redisRequirement } from './redis-harness.js';
import { http, uniquePrefix } from './scale-helpers.js';

const TEST = { skip: redisRequirement.skip, timeout: 30_000 };

/** `historyReads.limits` of the node's /api/stats. */
async function limitsOf(node: NodeProcess): Promise<HistoryReadStats['limits']> {
  const { status, body } = await http(`${node.url}/api/stats`);
  assert.equal(status, 200, JSON.stringify(body));
  return (body['historyReads'] as HistoryReadStats).limits;
}

describe('history read pacing options of the CLI', () => {
  const redis = redisPerSuite();

  it('reach the Redis engine from flags and from the environment', TEST, async () => {
    const { url } = redis();
    // Quick to stop: no connection is open, so nothing is drained.
    const quickStop = ['--shutdown-timeout-ms', '1000'];
    const byFlags: StartNodeOptions = {
      args: [
        ...quickStop,
        '--redis-url',
        url,
        '--redis-prefix',
        uniquePrefix(),
        '--history-read-concurrency',
        '7',
        '--history-read-queue-size',
        '70',
        '--history-read-queue-timeout-ms',
        '700',
      ],
    };
    // Other values than the flags', so that neither run can pass on the other's configuration.
    const byEnvironment: StartNodeOptions = {
      args: quickStop,
      env: {
        REDIS_URL: url,
        SWITCHBOARD_REDIS_PREFIX: uniquePrefix(),
        SWITCHBOARD_HISTORY_READ_CONCURRENCY: '8',
        SWITCHBOARD_HISTORY_READ_QUEUE_SIZE: '80',
        SWITCHBOARD_HISTORY_READ_QUEUE_TIMEOUT_MS: '800',
      },
    };
    // Started together: each start is most of this test's time.
    const started = await Promise.allSettled([startNode(byFlags), startNode(byEnvironment)]);
    const nodes = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    try {
      for (const result of started) if (result.status === 'rejected') throw result.reason;
      const [flags, environment] = nodes as [NodeProcess, NodeProcess];
      assert.deepEqual(
        await limitsOf(flags),
        { concurrency: 7, queueSize: 70, queueTimeoutMs: 700 },
        `from the flags\n${flags.stdout()}`,
      );
      assert.deepEqual(
        await limitsOf(environment),
        { concurrency: 8, queueSize: 80, queueTimeoutMs: 800 },
        `from the environment\n${environment.stdout()}`,
      );
      for (const node of nodes) assert.equal(await node.stop(), 0);
    } finally {
      await Promise.all(nodes.map((node) => node.kill()));
    }
  });
});
