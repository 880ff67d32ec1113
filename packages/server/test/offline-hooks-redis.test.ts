/**
 * onUserOffline across nodes of the Redis engine: exactly one fire per transition across the nodes; a
 * user moving from one node to another within the grace fires nothing; a node SIGKILLed with users on it
 * has their transitions fired once by a survivor, within the node expiry plus the grace, and not for a
 * user still connected elsewhere. Each test starts its own redis-server.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { connect } from './helpers.js';
import type { TestClient } from './helpers.js';
import { OwnedChild } from './node-process.js';
import { redisRequirement, startRedis, startRedisCluster } from './redis-harness.js';
import type { RedisProcess } from './redis-harness.js';
import { FAST_ENGINE, NO_LIMITS, testScope, uniquePrefix } from './scale-helpers.js';
import type { FixtureConfig } from './fixtures/redis-node.js';
import { OfflineRecorder, quiet } from './offline-recorder.js';

const SUITE = { skip: redisRequirement.skip };
const T = { timeout: 30_000 };
const GRACE_MS = 300;
const FIXTURE = fileURLToPath(new URL('./fixtures/redis-node.ts', import.meta.url));

const scope = testScope();

async function redisForTest(): Promise<RedisProcess> {
  redisRequirement.assert();
  const redis = await startRedis();
  scope.defer(() => redis.stop());
  return redis;
}

async function open(wsUrl: string, user: string): Promise<TestClient> {
  const client = await connect(`${wsUrl}/ws?user=${user}`);
  await client.nextOfType('connected');
  return client;
}

/** A node in a child process (killable for real), over the fixture of redis-failure.test.ts. */
async function childNode(config: FixtureConfig): Promise<{ wsUrl: string; child: OwnedChild }> {
  const tsx = import.meta.resolve('tsx');
  const child = new OwnedChild(process.execPath, ['--import', tsx, FIXTURE], {
    ...process.env,
    SWITCHBOARD_FIXTURE: JSON.stringify(config),
  });
  scope.defer(async () => {
    await child.terminate(3000);
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line\n${child.describeOutput()}`)), 10_000);
    child.onStdoutLine((text) => {
      try {
        const entry = JSON.parse(text) as Record<string, unknown>;
        if (entry['msg'] !== 'switchboard listening') return;
        clearTimeout(timer);
        resolve(String(entry['url']));
      } catch {
        // not a log line
      }
    });
    void child.exited.then((status) => {
      clearTimeout(timer);
      reject(new Error(`the fixture node exited (${status})\n${child.describeOutput()}`));
    });
  });
  return { wsUrl: url.replace(/^http/, 'ws').replace(/\/$/, ''), child };
}

describe('onUserOffline across Redis nodes', SUITE, () => {
  it(
    'a user on two nodes who leaves both fires exactly once; moving between nodes within the grace fires nothing',
    T,
    async () => {
      const redis = await redisForTest();
      const prefix = uniquePrefix();
      const recorder = new OfflineRecorder();
      const server = { presenceGraceMs: GRACE_MS, onUserOffline: recorder.hook };
      const a = await scope.node(redis.url, prefix, { server });
      const b = await scope.node(redis.url, prefix, { server });

      const onA = await open(a.wsUrl, 'ann');
      const onB = await open(b.wsUrl, 'ann');
      onA.close();
      await onA.closed;
      await quiet(GRACE_MS * 3);
      assert.equal(recorder.fired.length, 0, 'fired while ann was still on node B');
      onB.close();
      await recorder.count(1);
      await quiet(GRACE_MS * 3);
      assert.deepEqual(recorder.users(), ['ann']);

      // Bob leaves node A and comes back on node B within the grace: no transition.
      const bobA = await open(a.wsUrl, 'bob');
      bobA.close();
      await bobA.closed;
      const bobB = await open(b.wsUrl, 'bob');
      await quiet(GRACE_MS * 3);
      assert.deepEqual(recorder.users(), ['ann']);
      bobB.close();
      await recorder.count(2);
      await quiet(GRACE_MS * 3);
      assert.deepEqual(recorder.users(), ['ann', 'bob']);
    },
  );

  it(
    "a node stopped during a user's grace hands the transition over: a survivor fires it once",
    T,
    async () => {
      const redis = await redisForTest();
      const prefix = uniquePrefix();
      const before = new OfflineRecorder();
      const recorder = new OfflineRecorder();
      // A grace far longer than a stop, so the leaving node cannot have fired before it stopped.
      const graceMs = 1000;
      const leaving = await scope.node(redis.url, prefix, {
        server: { presenceGraceMs: graceMs, onUserOffline: before.hook },
      });
      await scope.node(redis.url, prefix, {
        server: { presenceGraceMs: graceMs, onUserOffline: recorder.hook },
      });
      const zoe = await open(leaving.wsUrl, 'zoe');
      const closedAt = Date.now();
      zoe.close();
      await zoe.closed;
      await leaving.stop(); // within zoe's grace
      await recorder.count(1);
      assert.ok((recorder.fired[0]?.at ?? 0) - closedAt >= graceMs, 'fired before the grace ran out');
      await quiet(GRACE_MS * 3);
      assert.deepEqual(recorder.users(), ['zoe']);
      assert.deepEqual(before.users(), []);
    },
  );

  it(
    'a node SIGKILLed: a survivor fires once for its users within the expiry and the grace, not for one still connected',
    T,
    async () => {
      const redis = await redisForTest();
      const prefix = uniquePrefix();
      const recorder = new OfflineRecorder();
      const doomed = await childNode({
        engine: { ...FAST_ENGINE, url: redis.url, prefix },
        server: { ...NO_LIMITS, presenceGraceMs: GRACE_MS },
      });
      const survivor = await scope.node(redis.url, prefix, {
        server: { presenceGraceMs: GRACE_MS, onUserOffline: recorder.hook },
      });

      const kate = await open(doomed.wsUrl, 'kate'); // only on the doomed node
      const olgaDoomed = await open(doomed.wsUrl, 'olga'); // on both nodes
      const olga = await open(survivor.wsUrl, 'olga');
      const killedAt = Date.now();
      assert.equal(await doomed.child.kill('SIGKILL'), 'SIGKILL');
      assert.equal((await kate.closed).code, 1006);
      await olgaDoomed.closed;

      // The dead node expires after three missed refreshes; then the grace runs.
      const bound = FAST_ENGINE.nodeReportIntervalMs * 4 + GRACE_MS + 2000;
      await recorder.count(1, bound + 2000);
      const firedAfterMs = (recorder.fired[0]?.at ?? Number.NaN) - killedAt;
      assert.deepEqual(recorder.users(), ['kate']);
      assert.ok(firedAfterMs >= GRACE_MS, `fired ${firedAfterMs} ms after the kill: before the grace`);
      assert.ok(firedAfterMs <= bound, `fired ${firedAfterMs} ms after the kill (bound ${bound} ms)`);
      await quiet(GRACE_MS * 3);
      assert.deepEqual(recorder.users(), ['kate'], 'olga is still connected to the survivor');

      olga.close();
      await recorder.count(2);
      await quiet(GRACE_MS * 3);
      assert.deepEqual(recorder.users(), ['kate', 'olga']);
    },
  );
});

describe('onUserOffline on a Redis Cluster', SUITE, () => {
  it('two nodes on three masters: a user on both fires exactly once when it leaves both', T, async () => {
    redisRequirement.assert();
    const cluster = await startRedisCluster({ masters: 3 });
    scope.defer(() => cluster.stop());
    const prefix = uniquePrefix();
    const recorder = new OfflineRecorder();
    const server = { presenceGraceMs: GRACE_MS, onUserOffline: recorder.hook };
    const a = await scope.node(cluster.url, prefix, { server });
    const b = await scope.node(cluster.url, prefix, { server });
    const users = ['ann', 'bob', 'cat', 'dan']; // spread over the slots
    const clients = [];
    for (const user of users) clients.push(await open(a.wsUrl, user), await open(b.wsUrl, user));
    for (const client of clients) client.close();
    await recorder.count(users.length);
    await quiet(GRACE_MS * 3);
    assert.deepEqual(recorder.users().sort(), users);
  });
});
