/**
 * The fault proofs of guaranteed delivery (issue 18): nothing that `deliver` confirmed is lost when
 * (a) the node holding a user's connection, with unacked messages in flight, is SIGKILLed (the client
 * reconnects to the other node, which sends them again as attempt 2); (b) Redis, with `appendonly yes`
 * and `appendfsync always`, is SIGKILLed and restarted on the same port and directory under a writer
 * that retries with idempotency keys; (c) a server on the PostgreSQL store is SIGKILLed right after N
 * confirmed delivers (201) and started again: the user gets all N, in order; (d) a work queue across two
 * nodes with three consumers, the node of one SIGKILLed while its consumer holds a job: the job goes to
 * another consumer once its lock ran out, none is lost, none is done twice.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SwitchboardClient } from '@switchboard/client';
import type { InboxMessage } from '@switchboard/client';
import { createPostgresStores } from '../src/inbox/postgres-stores.js';
import { silentLogger } from '../src/index.js';
import { redisRequirement, startRedis } from './redis-harness.js';
import type { RedisProcess } from './redis-harness.js';
import { postgresPerSuite, postgresRequirement } from './postgres-harness.js';
import { eventually, http, testScope, uniquePrefix } from './scale-helpers.js';
import { Waiter, routedWebSocket, spawnDeliveryNode } from './delivery-helpers.js';
import type { TappedFrame } from './delivery-helpers.js';

const T = { timeout: 30_000 };
const FAST_RETRY = { retryMinMs: 5, retryMaxMs: 20, sweepMs: 200 };
const scope = testScope();

/** A device's handler log: every call, and the ids it completed. */
class Handled {
  readonly calls: { id: string; attempt: number; data: unknown }[] = [];
  readonly completed: string[] = [];
  readonly waiter = new Waiter();

  record(message: InboxMessage): void {
    this.calls.push({ id: message.id, attempt: message.attempt, data: message.data });
  }

  complete(message: InboxMessage): void {
    this.completed.push(message.id);
    this.waiter.signal();
  }
}

function sdk(url: string, device: string, WebSocketClass: unknown): SwitchboardClient {
  const client = new SwitchboardClient(url, {
    WebSocket: WebSocketClass as never,
    transports: ['websocket'],
    backoff: { minDelayMs: 5, maxDelayMs: 50 },
    requestTimeoutMs: 3000,
    inbox: { device, prefetch: 10 },
  });
  scope.defer(() => client.close());
  return client;
}

async function openInbox(client: SwitchboardClient): Promise<void> {
  const opened = new Promise<void>((resolve) => client.inbox.on('open', () => resolve()));
  await client.connect();
  await opened;
}

describe('guaranteed delivery under faults, Redis', { skip: redisRequirement.skip }, () => {
  let redis: RedisProcess | undefined;

  before(async () => {
    if (redisRequirement.skip !== false) return;
    redisRequirement.assert();
    redis = await startRedis();
  });

  after(async () => {
    await redis?.stop();
  });

  it(
    'a node SIGKILLed with unacked messages in flight: the other node sends them again, none lost',
    T,
    async () => {
      if (redis === undefined) throw new Error('redis was not started');
      const prefix = uniquePrefix();
      const inbox = { ackTimeoutMs: 30_000, ...FAST_RETRY };
      const a = await spawnDeliveryNode({ redisUrl: redis.url, prefix, inbox });
      scope.defer(async () => {
        await a.child.kill();
      });
      const b = await scope.node(redis.url, prefix, { server: { inbox } });
      const pushes: TappedFrame[] = [];
      const handled = new Handled();
      let sockets = 0;
      // The first socket goes to A (the child), every later one to B.
      const routed = routedWebSocket(
        () => (sockets++ === 0 ? a.port : b.server.port),
        (tapped) => {
          if (tapped.frame.type !== 'inbox') return;
          pushes.push(tapped);
          handled.waiter.signal();
        },
      );
      const client = sdk(`${b.wsUrl}/ws?user=kim`, 'phone', routed.WebSocket);
      let release: () => void = () => {};
      const held = new Promise<void>((resolve) => (release = resolve));
      client.inbox.on('message', async (message) => {
        handled.record(message);
        // The first handler holds on until A is dead: nothing is acked while A holds the connection.
        if (handled.calls.length === 1) await held;
        handled.complete(message);
      });
      await openInbox(client);
      assert.equal(sockets, 1);

      const ids: string[] = [];
      for (let i = 0; i < 5; i += 1) ids.push((await b.server.deliver('kim', { i })).id);
      const onA = () => pushes.filter((p) => p.port === a.port);
      await handled.waiter.until(() => onA().length === 5, 'the five messages pushed by node A');
      assert.deepEqual(
        onA().map((p) => [p.frame.id, p.frame.attempt]),
        ids.map((id) => [id, 1]),
      );
      assert.equal(handled.completed.length, 0, 'nothing acked yet');

      assert.equal(await a.child.kill('SIGKILL'), 'SIGKILL');
      release();
      await handled.waiter.until(() => handled.completed.length === 5, 'all five handled after the kill');
      // B sent every one of them again, in order, as the second attempt; each handled once.
      const onB = pushes.filter((p) => p.port === b.server.port);
      assert.deepEqual(
        onB.map((p) => [p.frame.id, p.frame.attempt]),
        ids.map((id) => [id, 2]),
      );
      assert.deepEqual(handled.completed, ids);
      assert.deepEqual(
        handled.calls.map((c) => c.id),
        ids,
        'the held message was not run again',
      );
      await eventually(
        async () => (await b.engine.inbox.pending('kim', 'phone', 0, 10, Date.now())).length === 0,
        'the acks in the store',
      );
      assert.deepEqual(await b.server.deadLetters('kim'), []);
    },
  );

  it(
    'work queue over two nodes, three consumers, the node of one SIGKILLed mid-job: its job goes to another after its lock, none lost, none held twice',
    T,
    async () => {
      if (redis === undefined) throw new Error('redis was not started');
      const prefix = uniquePrefix();
      const LOCK_MS = 2000;
      const queues = { ackTimeoutMs: LOCK_MS, pollMs: 50, retryMinMs: 5, retryMaxMs: 20 };
      const a = await spawnDeliveryNode({ redisUrl: redis.url, prefix, queues });
      scope.defer(async () => {
        await a.child.kill();
      });
      const b = await scope.node(redis.url, prefix, { server: { queues } });
      const queue = 'proof-kill';
      /** Each consumer's holding of a job: from its handler's start to its end (or the kill). */
      const holdings: { consumer: string; job: string; attempt: number; from: number; to: number }[] = [];
      const waiter = new Waiter();
      const consumerOn = (name: string, port: number, hold: boolean): SwitchboardClient => {
        const client = new SwitchboardClient(`${b.wsUrl}/ws?user=${name}`, {
          WebSocket: routedWebSocket(() => port).WebSocket as never,
          transports: ['websocket'],
          backoff: { minDelayMs: 5, maxDelayMs: 50 },
        });
        scope.defer(() => client.close());
        client.consume(
          queue,
          async (job) => {
            const holding = {
              consumer: name,
              job: job.id,
              attempt: job.attempt,
              from: Date.now(),
              to: Infinity,
            };
            holdings.push(holding);
            waiter.signal();
            // The doomed consumer never finishes; the others take a little while.
            await new Promise<void>((resolve) => {
              if (!hold) setTimeout(resolve, 5 + Math.floor(Math.random() * 20));
            });
            holding.to = Date.now();
            waiter.signal();
          },
          { prefetch: 1 },
        );
        return client;
      };
      const doomed = consumerOn('c1', a.port, true);
      await doomed.connect();
      // c1 is the only consumer until it holds a job.
      const ids: string[] = [];
      ids.push((await b.server.enqueue(queue, { n: 0 })).id);
      await waiter.until(() => holdings.length === 1, 'c1 holding the first job');
      const held = holdings[0];
      if (held === undefined) throw new Error('no holding');
      await Promise.all([
        consumerOn('c2', b.server.port, false).connect(),
        consumerOn('c3', b.server.port, false).connect(),
      ]);
      for (let n = 1; n < 12; n += 1) ids.push((await b.server.enqueue(queue, { n })).id);
      await waiter
        .until(
          () => ids.slice(1).every((id) => holdings.some((h) => h.job === id && h.to !== Infinity)),
          'the other jobs done by c2 and c3',
        )
        .catch(async (error: unknown) => {
          const depth = await b.engine.queues.depth(queue);
          throw new Error(`${String(error)}: ${JSON.stringify(holdings)} depth ${JSON.stringify(depth)}`);
        });
      assert.ok(
        !holdings.some((h) => h.job === held.job && h.consumer !== 'c1'),
        "nobody else took c1's job while c1 lived",
      );

      const killedAt = Date.now();
      assert.equal(await a.child.kill('SIGKILL'), 'SIGKILL');
      doomed.close();
      held.to = killedAt;
      await waiter.until(
        () => holdings.some((h) => h.job === held.job && h.consumer !== 'c1' && h.to !== Infinity),
        "c1's job done by another consumer",
      );
      const again = holdings.filter((h) => h.job === held.job && h.consumer !== 'c1');
      assert.equal(again.length, 1);
      assert.equal(again[0]?.attempt, 2);
      // Not handed out while c1's lock (taken before c1 saw the job) could still be valid: its next holder
      // started at least most of the lock after c1's (the slack covers the first push's way to c1).
      const gap = (again[0]?.from ?? 0) - held.from;
      assert.ok(gap >= LOCK_MS / 2, `redelivered ${gap} ms after c1 got it, within its ${LOCK_MS} ms lock`);
      // Every job done, each by one consumer only (c1 did none).
      for (const id of ids) {
        const done = holdings.filter((h) => h.job === id && h.consumer !== 'c1');
        assert.equal(done.length, 1, `job ${id} done once`);
      }
      await eventually(async () => {
        const depth = await b.engine.queues.depth(queue);
        return depth.waiting === 0 && depth.claimed === 0;
      }, 'the queue empty');
    },
  );

  it(
    'Redis with appendfsync always SIGKILLed and restarted: every confirmed deliver arrives once, in order',
    T,
    async () => {
      const aof = await startRedis({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
      scope.defer(() => aof.stop());
      const prefix = uniquePrefix();
      // Silent: the node logs each failed inbox pull while Redis is down.
      const node = await scope.node(aof.url, prefix, {
        server: { logger: silentLogger, inbox: { ackTimeoutMs: 1000, ...FAST_RETRY } },
      });
      const handled = new Handled();
      const client = sdk(
        `${node.wsUrl}/ws?user=lee`,
        'laptop',
        routedWebSocket(() => node.server.port).WebSocket,
      );
      client.inbox.on('message', (message) => {
        handled.record(message);
        handled.complete(message);
      });
      await openInbox(client);

      // The writer: each message retried with its idempotency key until deliver confirms it.
      const TOTAL = 60;
      const confirmed: string[] = [];
      let failures = 0;
      const writerProgress = new Waiter();
      const writer = (async () => {
        for (let i = 0; i < TOTAL; i += 1) {
          for (;;) {
            try {
              const result = await node.server.deliver('lee', { i }, { idempotencyKey: `m${i}` });
              confirmed.push(result.id);
              break;
            } catch {
              failures += 1;
              writerProgress.signal();
              await new Promise((resolve) => setTimeout(resolve, 20));
            }
          }
          writerProgress.signal();
        }
      })();
      await writerProgress.until(() => confirmed.length >= 20, 'twenty confirmed delivers');
      await aof.kill('SIGKILL');
      const beforeCrash = [...confirmed];
      await writerProgress.until(() => failures > 0, 'a deliver failing while Redis is down');
      await aof.restart();
      await writer;
      assert.equal(
        new Set(confirmed).size,
        TOTAL,
        'one id per message (retries matched their idempotency key)',
      );
      await handled.waiter.until(
        () => confirmed.every((id) => handled.completed.includes(id)),
        'every confirmed message handled',
        20_000,
      );
      assert.ok(beforeCrash.every((id) => handled.completed.includes(id)));
      assert.deepEqual(handled.completed, confirmed, 'each once, in delivery order');
      assert.deepEqual(
        handled.calls.map((c) => (c.data as { i: number }).i),
        Array.from({ length: TOTAL }, (_, i) => i),
      );
      await eventually(
        async () => (await node.engine.inbox.pending('lee', 'laptop', 0, 10, Date.now())).length === 0,
        'the acks in the store',
      );
    },
  );
});

describe('guaranteed delivery under faults, PostgreSQL', { skip: postgresRequirement.skip }, () => {
  const database = postgresPerSuite();

  it(
    'the server SIGKILLed right after N confirmed delivers and restarted: all N arrive, in order',
    T,
    async () => {
      const url = database().url;
      const inbox = { ackTimeoutMs: 5000, ...FAST_RETRY };
      const first = await spawnDeliveryNode({ postgresUrl: url, inbox });
      scope.defer(async () => {
        await first.child.kill();
      });
      const N = 30;
      const ids: string[] = [];
      for (let i = 0; i < N; i += 1) {
        const answer = await http(`${first.httpUrl}/api/users/max/deliver`, { data: { i } });
        assert.equal(answer.status, 201, JSON.stringify(answer.body));
        ids.push(String(answer.body['id']));
      }
      assert.equal(await first.child.kill('SIGKILL'), 'SIGKILL');

      const second = await spawnDeliveryNode({ postgresUrl: url, inbox });
      scope.defer(async () => {
        await second.child.kill();
      });
      const handled = new Handled();
      const client = sdk(`${second.wsUrl}/ws?user=max`, 'desk', routedWebSocket(() => second.port).WebSocket);
      client.inbox.on('message', (message) => {
        handled.record(message);
        handled.complete(message);
      });
      await openInbox(client);
      await handled.waiter.until(() => handled.completed.length >= N, `all ${N} handled after the restart`);
      assert.deepEqual(handled.completed, ids);
      assert.deepEqual(
        handled.calls.map((c) => (c.data as { i: number }).i),
        Array.from({ length: N }, (_, i) => i),
      );
      const stores = await createPostgresStores({ url });
      scope.defer(() => stores.close());
      await eventually(
        async () => (await stores.inbox.pending('max', 'desk', 0, 10, Date.now())).length === 0,
        'the acks in PostgreSQL',
      );
    },
  );
});
