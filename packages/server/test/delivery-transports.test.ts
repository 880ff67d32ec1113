/**
 * The SDK's inbox and work-queue consumer over each of its transports (WebSocket, SSE, long-polling)
 * against a real server (issue 18): a delivered message reaches the handler and is acked (the store holds
 * nothing for the device after), a handler that throws gets the message again (attempt 2), and jobs are
 * consumed (a failed one redelivered) until the queue is empty.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { SwitchboardClient } from '@switchboard/client';
import type { InboxMessage, Job, TransportName } from '@switchboard/client';
import { createMemoryEngine } from '../src/index.js';
import { queryUserAuthenticator, startServer } from './helpers.js';
import { NO_LIMITS, eventually, testScope } from './scale-helpers.js';
import { Waiter } from './delivery-helpers.js';

const T = { timeout: 20_000 };
const scope = testScope();

/** A server on the memory engine (its stores at hand) and an SDK client of user `ann` over `transport`. */
async function setUp(transport: TransportName) {
  const engine = createMemoryEngine();
  const inboxStore = engine.inbox;
  const queueStore = engine.queues;
  if (inboxStore === undefined || queueStore === undefined)
    throw new Error('the memory engine has no stores');
  const t = await startServer({
    ...NO_LIMITS,
    authenticator: queryUserAuthenticator,
    engine,
    inbox: { ackTimeoutMs: 5000, retryMinMs: 5, retryMaxMs: 20 },
    queues: { pollMs: 50, retryMinMs: 5, retryMaxMs: 20 },
  });
  scope.defer(() => t.stop());
  const client = new SwitchboardClient(`${t.wsUrl}/ws?user=ann`, {
    WebSocket,
    transports: [transport],
    inbox: { device: 'tab' },
  });
  scope.defer(() => client.close());
  return { t, client, inboxStore, queueStore, waiter: new Waiter() };
}

for (const transport of ['websocket', 'sse', 'polling'] as const satisfies readonly TransportName[]) {
  describe(`guaranteed delivery through the SDK over ${transport}`, () => {
    it('inbox: deliver -> handler -> acked (nothing left in the store); a nack redelivers', T, async () => {
      const { t, client, inboxStore, waiter } = await setUp(transport);
      const calls: InboxMessage[] = [];
      const completed: string[] = [];
      let failNext = false;
      client.inbox.on('message', (message) => {
        calls.push(message);
        waiter.signal();
        if (failNext) {
          failNext = false;
          throw new Error('not now');
        }
        completed.push(message.id);
        waiter.signal();
      });
      const errors: string[] = [];
      client.inbox.on('error', (error) => errors.push(error.code));
      const opened = new Promise<void>((resolve) => client.inbox.on('open', () => resolve()));
      await client.connect();
      await opened;
      assert.equal(client.transport, transport);
      const nothingPending = async (): Promise<boolean> =>
        (await inboxStore.pending('ann', 'tab', 0, 10, Date.now())).length === 0;

      // Delivered, handled once, acked: the store holds nothing for the device.
      const first = await t.server.deliver('ann', { n: 1 });
      await waiter.until(() => completed.includes(first.id), 'the first message handled');
      await eventually(nothingPending, 'the first ack in the store');
      assert.deepEqual(
        calls.map((m) => [m.id, m.attempt, m.data]),
        [[first.id, 1, { n: 1 }]],
      );

      // The handler throws: nacked, sent again as attempt 2, then acked.
      failNext = true;
      const second = await t.server.deliver('ann', { n: 2 });
      await waiter.until(() => completed.includes(second.id), 'the second message handled after its nack');
      assert.deepEqual(
        calls.slice(1).map((m) => [m.id, m.attempt]),
        [
          [second.id, 1],
          [second.id, 2],
        ],
      );
      await eventually(nothingPending, 'the second ack in the store');
      assert.deepEqual(await t.server.deadLetters('ann'), []);
      assert.deepEqual(errors, []);
    });

    it('work queue: jobs consumed, a failed one redelivered, the queue empty after', T, async () => {
      const { t, client, queueStore, waiter } = await setUp(transport);
      await client.connect();
      // Work queue: three jobs consumed, the first attempt of one fails and it comes again.
      const jobs: Job[] = [];
      const done = new Set<string>();
      let failJob = true;
      const queue = `jobs-${transport}`;
      const consumer = client.consume(
        queue,
        (job) => {
          jobs.push(job);
          if (failJob && (job.data as { n: number }).n === 2) {
            failJob = false;
            throw new Error('try again');
          }
          done.add(job.id);
          waiter.signal();
        },
        { prefetch: 2 },
      );
      const consumerErrors: string[] = [];
      consumer.on('error', (error) => consumerErrors.push(error.code));
      const ids: string[] = [];
      for (let n = 1; n <= 3; n += 1) ids.push((await t.server.enqueue(queue, { n })).id);
      await waiter.until(() => ids.every((id) => done.has(id)), 'the three jobs done');
      const failed = jobs.filter((job) => job.id === ids[1]).map((job) => job.attempt);
      assert.deepEqual(failed, [1, 2]);
      assert.equal(jobs.length, 4);
      await eventually(async () => {
        const depth = await queueStore.depth(queue);
        return depth.waiting === 0 && depth.claimed === 0;
      }, 'the queue empty');
      await consumer.cancel();
      assert.deepEqual(consumerErrors, []);
    });
  });
}
