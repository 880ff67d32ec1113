/**
 * `switchboard --workers N` (node:cluster) over a real redis-server, through the built CLI: the workers
 * share one port, connections land on each of them, a publish reaches every subscriber once whichever
 * worker holds it, a worker killed with SIGKILL is replaced while the others keep serving, and SIGTERM
 * stops the lot with exit 0. Without Redis, `--workers 2` is a usage error.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from './helpers.js';
import type { TestClient } from './helpers.js';
import { CLI_PATH, OwnedChild, startNode } from './node-process.js';
import type { NodeProcess } from './node-process.js';
import { redisRequirement, startRedis } from './redis-harness.js';
import { eventually, http, messages, queued, stats, uniquePrefix } from './scale-helpers.js';

const CONNECTIONS = 20;

/** The 'switchboard listening' lines printed so far: the primary's (with `workers`) and each worker's. */
function listeningLines(node: NodeProcess): Record<string, unknown>[] {
  return node
    .stdout()
    .split('\n')
    .flatMap((line) => {
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        return entry['msg'] === 'switchboard listening' ? [entry] : [];
      } catch {
        return [];
      }
    });
}

function portOf(url: unknown): number {
  return Number(new URL(String(url)).port);
}

/** Open a v1 connection and read its `connected` push. */
async function open(node: NodeProcess): Promise<{ client: TestClient; connectionId: string }> {
  const client = await connect(`${node.wsUrl}/ws`);
  const connected = await client.nextOfType('connected');
  return { client, connectionId: String(connected['connectionId']) };
}

function nodeIdOf(connectionId: string): string {
  return connectionId.slice(0, connectionId.lastIndexOf('-'));
}

describe('--workers', () => {
  it('--workers 2 without Redis exits 2 with a clear message', { timeout: 10_000 }, async () => {
    const env = { ...process.env };
    delete env['REDIS_URL'];
    delete env['SWITCHBOARD_WORKERS'];
    const child = new OwnedChild(process.execPath, [CLI_PATH, '--workers', '2', '--port', '0'], env);
    // The bound also keeps the event loop alive: the harness unreferences its children.
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), 5000)));
    const status = await Promise.race([child.exited, late]);
    clearTimeout(timer);
    if (status === 'late') await child.kill();
    assert.equal(status, 2, child.describeOutput());
    assert.match(
      child.stderr.toString(),
      /^switchboard: invalid value 2 for --workers: expected 1 without --redis-url \/ REDIS_URL/m,
      child.describeOutput(),
    );
  });

  it(
    'two workers over Redis share one port and serve as one; a killed worker is replaced; SIGTERM stops all with exit 0',
    { skip: redisRequirement.skip, timeout: 30_000 },
    async () => {
      redisRequirement.assert();
      const redis = await startRedis();
      let node: NodeProcess | undefined;
      const clients: TestClient[] = [];
      try {
        node = await startNode({
          args: [
            '--workers',
            '2',
            '--redis-url',
            redis.url,
            '--redis-prefix',
            uniquePrefix(),
            '--connection-rate-per-ip',
            '0',
            '--max-connections-per-ip',
            '0',
            '--shutdown-timeout-ms',
            '1000',
            '--drain-ms',
            '300',
          ],
        });
        const started = node;

        // One port for all: the primary announces it once both workers listen, and each worker's own
        // line names the same port (under node:cluster, listen(0) is resolved once, by the primary).
        const primary = await started.waitForLog(
          (entry) => entry['msg'] === 'switchboard listening' && entry['workers'] === 2,
        );
        const workers = await eventually(() => {
          const lines = listeningLines(started).filter((entry) => typeof entry['nodeId'] === 'string');
          return lines.length >= 2 && lines;
        }, 'both workers listening');
        assert.equal(portOf(primary['url']), started.port);
        assert.deepEqual(
          workers.map((entry) => portOf(entry['url'])),
          [started.port, started.port],
          'every worker listens on the one port',
        );
        const workerIds = new Set(workers.map((entry) => String(entry['nodeId'])));
        assert.equal(workerIds.size, 2);

        // Connections land on both workers (node:cluster hands them out round-robin).
        const opened: { client: TestClient; connectionId: string }[] = [];
        for (let i = 0; i < CONNECTIONS; i++) opened.push(await open(started));
        clients.push(...opened.map((o) => o.client));
        const seenIds = new Set(opened.map((o) => nodeIdOf(o.connectionId)));
        assert.deepEqual([...seenIds].sort(), [...workerIds].sort(), 'connections on both workers');
        // Both registered in Redis (reports every 5 s by default, the first one at start).
        await eventually(
          async () => (await stats({ httpUrl: started.url })).cluster?.nodes === 2,
          '/stats cluster.nodes of both workers',
        );

        // A publish through the HTTP API (answered by either worker) reaches every subscriber once.
        for (const client of clients) await client.request({ id: 1, type: 'subscribe', channel: 'news' });
        const published = await http(`${started.url}/api/publish`, { channel: 'news', data: 'hello all' });
        assert.deepEqual([published.status, published.body], [200, { id: 1 }]);
        const marker = await http(`${started.url}/api/publish`, { channel: 'news', data: 'marker' });
        assert.deepEqual(marker.body, { id: 2 });
        for (const client of clients) {
          assert.deepEqual(await messages(client, 2), [
            { id: 1, data: 'hello all' },
            { id: 2, data: 'marker' },
          ]);
          assert.deepEqual(queued(client, 'message'), []);
        }

        // A worker dies: the primary replaces it, and the survivors keep serving throughout.
        const victim = workers[0];
        const victimId = String(victim?.['nodeId']);
        const victimPid = Number(victim?.['pid']);
        assert.ok(victimPid > 0 && victimPid !== started.pid, 'a worker has its own pid');
        const onVictim = opened.filter((o) => nodeIdOf(o.connectionId) === victimId);
        const survivors = opened.filter((o) => nodeIdOf(o.connectionId) !== victimId);
        process.kill(victimPid, 'SIGKILL');
        await started.waitForLog((entry) => /worker died/.test(String(entry['msg'])), 5000);
        for (const { client } of onVictim) assert.equal((await client.closed).code, 1006);
        const replacement = await started.waitForLog(
          (entry) =>
            entry['msg'] === 'switchboard listening' &&
            typeof entry['nodeId'] === 'string' &&
            !workerIds.has(String(entry['nodeId'])),
          10_000,
        );
        assert.equal(portOf(replacement['url']), started.port, 'the replacement takes the same port');
        const again = await http(`${started.url}/api/publish`, { channel: 'news', data: 'after the crash' });
        assert.deepEqual([again.status, again.body], [200, { id: 3 }]);
        for (const { client } of survivors) {
          assert.deepEqual(await messages(client, 1), [{ id: 3, data: 'after the crash' }]);
        }
        // New connections are served, the replacement's included.
        const fresh: { client: TestClient; connectionId: string }[] = [];
        for (let i = 0; i < 6; i++) fresh.push(await open(started));
        clients.push(...fresh.map((o) => o.client));
        assert.ok(
          fresh.some((o) => nodeIdOf(o.connectionId) === String(replacement['nodeId'])),
          `a new connection on the replacement: ${fresh.map((o) => o.connectionId).join(', ')}`,
        );

        // SIGTERM: every worker drains its connections (1012), and the primary exits 0.
        const open1 = [...survivors.map((o) => o.client), ...fresh.map((o) => o.client)];
        assert.equal(await started.stop(), 0);
        for (const client of open1) assert.equal((await client.closed).code, 1012);
        assert.match(started.stdout(), /switchboard stopped/);
      } finally {
        for (const client of clients) client.close();
        await node?.kill();
        await redis.stop();
      }
    },
  );
});
