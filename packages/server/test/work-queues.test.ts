// Work queues end to end (docs/delivery.md, "Work queues"): a real server on port 0 with the memory queue
// store, real WebSocket consumers speaking v1 frames, the library API and the HTTP API.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { SwitchboardClient } from '@switchboard/client';
import { InvalidQueueError, QueueFullError, silentLogger } from '../src/index.js';
import type { ServerOptions } from '../src/index.js';
import { metricSample, until, withServer } from './helpers.js';
import type { TestServer } from './helpers.js';
import { QueueClient, call, depthOf, depthWhen, post, replyError } from './queue-helpers.js';
import type { JobFrame } from './queue-helpers.js';

/** Short timers: a lapsed lock and a delayed nack are found within a few ms. */
const FAST: ServerOptions = {
  queues: { pollMs: 20, ackTimeoutMs: 5000, retryMinMs: 1, retryMaxMs: 5 },
};

async function enqueueMany(t: TestServer, queue: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push((await t.server.enqueue(queue, { n: i })).id);
  return ids;
}

async function metrics(t: TestServer): Promise<string> {
  return (await fetch(`${t.httpUrl}/metrics`)).text();
}

describe('work queues over WebSocket', () => {
  test('competing consumers each get distinct jobs, and every job is acked once', () =>
    withServer(FAST, async (t) => {
      const a = await QueueClient.open(t);
      const b = await QueueClient.open(t);
      await a.consume('jobs', 5);
      await b.consume('jobs', 5);
      const acks: Promise<unknown>[] = [];
      for (const c of [a, b]) c.onJob((job) => acks.push(c.ack('jobs', job.id)));
      const ids = await enqueueMany(t, 'jobs', 40);
      await until(() => a.jobs.length + b.jobs.length >= 40, 5000, '40 jobs');
      for (const reply of await Promise.all(acks))
        assert.deepEqual((reply as { result: unknown }).result, {});
      const got = [...a.jobs, ...b.jobs].map((j) => j.id);
      assert.equal(new Set(got).size, got.length, 'no job went to two consumers');
      assert.deepEqual([...got].sort(), [...ids].sort());
      assert.ok(a.jobs.length > 0 && b.jobs.length > 0, 'both consumers worked');
      assert.ok([...a.jobs, ...b.jobs].every((j) => j.attempt === 1 && j.queue === 'jobs'));
      assert.deepEqual(await depthOf(t, 'jobs'), {
        queue: 'jobs',
        waiting: 0,
        claimed: 0,
        consumers: 2,
      });
      const text = await metrics(t);
      assert.equal(metricSample(text, 'switchboard_queue_enqueued_total'), 40);
      assert.equal(metricSample(text, 'switchboard_queue_jobs_dispatched_total{attempt="first"}'), 40);
      assert.equal(metricSample(text, 'switchboard_queue_acks_total'), 40);
    }));

  test('a consumer never holds more than its prefetch unacked', () =>
    withServer(FAST, async (t) => {
      const prefetch = 3;
      const consumers = [await QueueClient.open(t), await QueueClient.open(t)];
      let done = 0;
      for (const c of consumers) {
        await c.consume('bounded', prefetch);
        let outstanding = 0;
        c.onJob((job) => {
          outstanding++;
          assert.ok(outstanding <= prefetch, `${outstanding} unacked jobs with prefetch ${prefetch}`);
          // Ack a little later, in a varying order, so that slots free up while others are busy.
          setTimeout(() => {
            outstanding--;
            void c.ack('bounded', job.id).then(() => done++);
          }, job.time % 7);
        });
      }
      await enqueueMany(t, 'bounded', 60);
      await until(() => done === 60, 8000, '60 acks');
      const depth = await depthOf(t, 'bounded');
      assert.equal(depth.waiting + depth.claimed, 0);
    }));

  test('a consumer that acks nothing holds exactly its prefetch; an ack lets one more through', () =>
    withServer(FAST, async (t) => {
      const c = await QueueClient.open(t);
      await c.consume('held', 2);
      await enqueueMany(t, 'held', 5);
      await c.nthJob(2);
      await until(() => c.jobs.length === 2, 1000);
      let depth = await depthOf(t, 'held');
      assert.deepEqual([depth.claimed, depth.waiting], [2, 3]);
      const first = c.jobs[0] as JobFrame;
      assert.deepEqual((await c.ack('held', first.id))['result'], {});
      await c.nthJob(3);
      depth = await depthOf(t, 'held');
      assert.deepEqual([depth.claimed, depth.waiting], [2, 2]);
      assert.equal(c.jobs.length, 3);
    }));

  test('two consumers with the same prefetch get roughly equal shares', () =>
    withServer(FAST, async (t) => {
      const a = await QueueClient.open(t);
      const b = await QueueClient.open(t);
      await a.consume('fair', 1);
      await b.consume('fair', 1);
      let acked = 0;
      for (const c of [a, b]) c.onJob((job) => void c.ack('fair', job.id).then(() => acked++));
      await enqueueMany(t, 'fair', 60);
      await until(() => acked === 60, 8000, '60 acks');
      for (const c of [a, b]) assert.ok(c.jobs.length >= 20, `shares ${a.jobs.length} / ${b.jobs.length}`);
    }));

  test('ack timeout: the job goes to another consumer with attempt 2, and the first ack is refused (lock lost)', () =>
    withServer({ queues: { pollMs: 20, ackTimeoutMs: 150 } }, async (t) => {
      const slow = await QueueClient.open(t);
      const other = await QueueClient.open(t);
      await slow.consume('timed', 1);
      await other.consume('timed', 1);
      const [id] = await enqueueMany(t, 'timed', 1);
      const first = await slow.nthJob(1);
      assert.deepEqual([first.id, first.attempt], [id, 1]);
      const second = await other.nthJob(1);
      assert.deepEqual([second.id, second.attempt], [id, 2]);
      const late = await slow.ack('timed', first.id);
      assert.deepEqual(replyError(late), { code: 'not_found', message: 'lock lost', temporary: false });
      assert.deepEqual((await other.ack('timed', second.id))['result'], {});
      const text = await metrics(t);
      assert.equal(metricSample(text, 'switchboard_queue_nacks_total{reason="timeout"}'), 1);
      assert.equal(metricSample(text, 'switchboard_queue_refused_total{reason="lock_lost"}'), 1);
      assert.equal(metricSample(text, 'switchboard_queue_jobs_dispatched_total{attempt="retry"}'), 1);
    }));

  test('a lone consumer whose lock lapsed gets the job again, attempt 2, and acks it', () =>
    withServer({ queues: { pollMs: 20, ackTimeoutMs: 100 } }, async (t) => {
      const c = await QueueClient.open(t);
      await c.consume('alone', 1);
      await enqueueMany(t, 'alone', 1);
      const job = await c.nthJob(1);
      const again = await c.nthJob(2);
      assert.deepEqual([again.id, again.attempt], [job.id, 2]);
      // Acks name the job, not the attempt: the consumer holds it (again), so the ack is taken.
      assert.deepEqual((await c.ack('alone', job.id))['result'], {});
      assert.deepEqual(await depthOf(t, 'alone'), {
        queue: 'alone',
        waiting: 0,
        claimed: 0,
        consumers: 1,
      });
    }));

  test('a consumer that disconnects gives its jobs to another at once', () =>
    withServer({ queues: { pollMs: 60_000, ackTimeoutMs: 60_000 } }, async (t) => {
      const gone = await QueueClient.open(t);
      const stays = await QueueClient.open(t);
      await gone.consume('drop', 2);
      await stays.consume('drop', 1);
      await enqueueMany(t, 'drop', 3);
      await gone.nthJob(2);
      const held = await stays.nthJob(1);
      gone.client.ws.terminate();
      // No poll and no lock expiry within the test: only the release can hand them over.
      assert.deepEqual((await stays.ack('drop', held.id))['result'], {});
      const next = await stays.nthJob(2);
      assert.equal(next.attempt, 2);
      assert.deepEqual((await stays.ack('drop', next.id))['result'], {});
      const last = await stays.nthJob(3);
      assert.equal(last.attempt, 2);
      assert.deepEqual(new Set([next.id, last.id]), new Set(gone.jobs.map((j) => j.id)));
      const text = await metrics(t);
      assert.equal(metricSample(text, 'switchboard_queue_nacks_total{reason="released"}'), 2);
    }));

  test('cancel gives the jobs back and stops the pushes', () =>
    withServer({ queues: { pollMs: 60_000, ackTimeoutMs: 60_000 } }, async (t) => {
      const a = await QueueClient.open(t);
      const b = await QueueClient.open(t);
      await a.consume('cancelled', 1);
      await enqueueMany(t, 'cancelled', 1);
      const job = await a.nthJob(1);
      assert.deepEqual((await a.request({ type: 'cancel', queue: 'cancelled' }))['result'], {});
      await b.consume('cancelled', 1);
      const again = await b.nthJob(1);
      assert.deepEqual([again.id, again.attempt], [job.id, 2]);
      assert.equal(replyError(await a.ack('cancelled', job.id))?.code, 'not_found');
    }));

  test('nack: redelivered after its delay; without one, after the backoff', () =>
    withServer(FAST, async (t) => {
      const c = await QueueClient.open(t);
      await c.consume('later', 1);
      await enqueueMany(t, 'later', 1);
      const job = await c.nthJob(1);
      const nackedAt = Date.now();
      assert.deepEqual((await c.nack('later', job.id, 300))['result'], {});
      const again = await c.nthJob(2);
      assert.ok(Date.now() - nackedAt >= 300, 'not before the delay');
      assert.deepEqual([again.id, again.attempt], [job.id, 2]);
      assert.deepEqual((await c.nack('later', again.id))['result'], {});
      const third = await c.nthJob(3);
      assert.equal(third.attempt, 3);
      assert.equal(replyError(await c.nack('later', 'nope'))?.code, 'not_found');
    }));

  test('maxAttempts: the job becomes a dead letter, onDeadLetter fires, and it can be redelivered', async () => {
    const letters: unknown[] = [];
    await withServer({ ...FAST, onDeadLetter: (letter) => void letters.push(letter) }, async (t) => {
      const c = await QueueClient.open(t);
      await c.consume('doomed', 1);
      const { id } = await t.server.enqueue('doomed', { task: 1 }, { maxAttempts: 2 });
      for (const n of [1, 2]) {
        const job = await c.nthJob(n);
        assert.deepEqual([job.id, job.attempt], [id, n]);
        await c.nack('doomed', job.id, 0);
      }
      await until(() => letters.length === 1, 3000, 'the dead letter');
      assert.deepEqual(
        { ...(letters[0] as object), time: 0, deadAt: 0 },
        {
          kind: 'queue',
          queue: 'doomed',
          id,
          data: { task: 1 },
          reason: 'max_attempts',
          attempts: 2,
          time: 0,
          deadAt: 0,
        },
      );
      const listed = await t.server.queueDeadLetters('doomed');
      assert.deepEqual(
        listed.map((l) => [l.id, l.reason, l.data]),
        [[id, 'max_attempts', { task: 1 }]],
      );
      const viaHttp = await call(t, 'GET', '/api/queues/doomed/dead-letters?limit=10');
      assert.equal(viaHttp.status, 200);
      assert.equal((viaHttp.json['deadLetters'] as unknown[]).length, 1);
      const text = await metrics(t);
      assert.equal(
        metricSample(text, 'switchboard_dead_letters_total{kind="queue",reason="max_attempts"}'),
        1,
      );
      // Redelivered: back in the queue with no attempts spent.
      const redelivered = await post(t, `/api/queues/doomed/dead-letters/${id}/redeliver`, {});
      assert.equal(redelivered.status, 200);
      const back = await c.nthJob(3);
      assert.deepEqual([back.id, back.attempt], [redelivered.json['id'], 1]);
      assert.deepEqual(await t.server.queueDeadLetters('doomed'), []);
      assert.equal((await post(t, `/api/queues/doomed/dead-letters/${id}/redeliver`, {})).status, 404);
    });
  });

  test('dead letters are deleted through the library and the HTTP API', () => {
    let letters = 0;
    return withServer({ ...FAST, onDeadLetter: () => void letters++ }, async (t) => {
      const c = await QueueClient.open(t);
      await c.consume('trash', 1);
      const one = await t.server.enqueue('trash', 1, { maxAttempts: 1 });
      const two = await t.server.enqueue('trash', 2, { maxAttempts: 1 });
      for (const n of [1, 2]) await c.nack('trash', (await c.nthJob(n)).id, 0);
      await until(() => letters === 2, 3000, 'two dead letters');
      const dead = async (): Promise<string[]> => (await t.server.queueDeadLetters('trash')).map((l) => l.id);
      assert.deepEqual(await dead(), [one.id, two.id]);
      assert.equal(await t.server.deleteQueueDeadLetter('trash', one.id), true);
      assert.equal(await t.server.deleteQueueDeadLetter('trash', one.id), false);
      assert.equal((await call(t, 'DELETE', `/api/queues/trash/dead-letters/${two.id}`)).status, 200);
      const again = await call(t, 'DELETE', `/api/queues/trash/dead-letters/${two.id}`);
      assert.deepEqual([again.status, (again.json['error'] as { code: string }).code], [404, 'not_found']);
      assert.deepEqual(await dead(), []);
    });
  });

  test('bad input: invalid queue names, unknown jobs, a queue not consumed', () =>
    withServer(FAST, async (t) => {
      const c = await QueueClient.open(t);
      for (const queue of ['', 'has space', 'x'.repeat(129), 'slash/no']) {
        assert.equal(replyError(await c.request({ type: 'consume', queue }))?.code, 'invalid_queue');
        await assert.rejects(t.server.enqueue(queue, 1), InvalidQueueError);
      }
      assert.equal(
        replyError(await c.request({ type: 'consume', queue: 'q', prefetch: 0 }))?.code,
        'bad_request',
      );
      assert.equal(replyError(await c.ack('q', 'never'))?.code, 'not_found');
      await c.consume('q', 1);
      assert.equal(replyError(await c.ack('q', 'never'))?.code, 'not_found');
      assert.equal(replyError(await c.ack('other', 'never'))?.code, 'not_found');
      await assert.rejects(t.server.enqueue('q', 1, { maxAttempts: 0 }), { code: 'bad_request' });
      await assert.rejects(t.server.enqueue('q', 1, { ttlMs: -1 }), { code: 'bad_request' });
      await assert.rejects(t.server.enqueue('q', undefined), { code: 'bad_request' });
      assert.throws(() => t.server.consume('bad name', () => {}), InvalidQueueError);
      const text = await metrics(t);
      assert.equal(metricSample(text, 'switchboard_queue_refused_total{reason="invalid_queue"}'), 4);
      assert.equal(metricSample(text, 'switchboard_queue_refused_total{reason="not_found"}'), 3);
    }));

  test('consume is authorized as the operation consume on the channel queue:<name>', () =>
    withServer(
      {
        ...FAST,
        channels: [{ pattern: 'queue:private-*', permissions: { consume: 'none' } }],
        authorize: ({ operation, channel, allowed }) =>
          allowed && !(operation === 'consume' && channel === 'queue:hooked'),
      },
      async (t) => {
        const c = await QueueClient.open(t);
        assert.equal(
          replyError(await c.request({ type: 'consume', queue: 'private-1' }))?.code,
          'permission_denied',
        );
        assert.equal(
          replyError(await c.request({ type: 'consume', queue: 'hooked' }))?.code,
          'permission_denied',
        );
        await c.consume('open', 1);
      },
    ));
});

describe('work queues over HTTP', () => {
  test('enqueue: 201, an idempotent retry, 400, 413 and 507', () =>
    withServer({ ...FAST, maxMessageBytes: 1024, queues: { limits: { maxJobs: 2 } } }, async (t) => {
      const created = await post(t, '/api/queues/mail/enqueue', { data: { to: 'a' }, idempotencyKey: 'k1' });
      assert.equal(created.status, 201);
      assert.equal(created.json['duplicate'], false);
      const retried = await post(t, '/api/queues/mail/enqueue', { data: { to: 'a' }, idempotencyKey: 'k1' });
      assert.deepEqual([retried.status, retried.json], [201, { id: created.json['id'], duplicate: true }]);
      const bad = await post(t, '/api/queues/bad%20name/enqueue', { data: 1 });
      assert.deepEqual([bad.status, (bad.json['error'] as { code: string }).code], [400, 'invalid_queue']);
      const badField = await post(t, '/api/queues/mail/enqueue', { data: 1, maxAttempts: 'three' });
      assert.deepEqual(
        [badField.status, (badField.json['error'] as { code: string }).code],
        [400, 'bad_request'],
      );
      const noData = await post(t, '/api/queues/mail/enqueue', { maxAttempts: 2 });
      assert.equal(noData.status, 400);
      const big = await post(t, '/api/queues/mail/enqueue', { data: 'x'.repeat(2000) });
      assert.deepEqual(
        [big.status, (big.json['error'] as { code: string }).code],
        [413, 'message_too_large'],
      );
      assert.equal((await post(t, '/api/queues/mail/enqueue', { data: 2 })).status, 201);
      const full = await post(t, '/api/queues/mail/enqueue', { data: 3 });
      assert.deepEqual([full.status, (full.json['error'] as { code: string }).code], [507, 'queue_full']);
      await assert.rejects(t.server.enqueue('mail', 4), QueueFullError);
      await assert.rejects(t.server.enqueue('mail', 'x'.repeat(2000)), { code: 'message_too_large' });
      const depth = await call(t, 'GET', '/api/queues/mail');
      assert.deepEqual(
        [depth.status, depth.json],
        [200, { queue: 'mail', waiting: 2, claimed: 0, consumers: 0 }],
      );
      const text = await metrics(t);
      assert.equal(metricSample(text, 'switchboard_queue_refused_total{reason="queue_full"}'), 2);
      assert.equal(metricSample(text, 'switchboard_queue_enqueued_total'), 2);
    }));
});

describe('server-side workers', () => {
  test('a handler that resolves acks; one that throws nacks; stop() waits for running handlers', () =>
    withServer({ ...FAST, logger: silentLogger }, async (t) => {
      const seen: [unknown, number][] = [];
      let release: () => void = () => {};
      const blocked = new Promise<void>((resolve) => (release = resolve));
      const worker = t.server.consume(
        'work',
        async (job) => {
          seen.push([job.data, job.attempt]);
          if (job.data === 'flaky' && job.attempt === 1) throw new Error('not this time');
          if (job.data === 'slow') await blocked;
        },
        { prefetch: 2 },
      );
      await t.server.enqueue('work', 'flaky');
      await t.server.enqueue('work', 'fine');
      await until(
        () => seen.some(([d, a]) => d === 'flaky' && a === 2) && seen.some(([d]) => d === 'fine'),
        3000,
      );
      await t.server.enqueue('work', 'slow');
      await until(() => seen.some(([d]) => d === 'slow'), 3000);
      let stopped = false;
      const stopping = worker.stop().then(() => (stopped = true));
      await new Promise((r) => setImmediate(r));
      assert.equal(stopped, false, 'stop waits for the running handler');
      release();
      await stopping;
      assert.deepEqual(await depthOf(t, 'work'), {
        queue: 'work',
        waiting: 0,
        claimed: 0,
        consumers: 0,
      });
      const text = await metrics(t);
      assert.equal(metricSample(text, 'switchboard_queue_acks_total'), 3);
      assert.equal(metricSample(text, 'switchboard_queue_nacks_total{reason="nack"}'), 1);
    }));

  test('workers and connections compete for the same queue', () =>
    withServer(FAST, async (t) => {
      let handled = 0;
      const worker = t.server.consume('mixed', () => {
        handled++;
      });
      const c = await QueueClient.open(t);
      await c.consume('mixed', 1);
      // Every ack is awaited before the server stops: one still in flight would reject after the test.
      const acks: Promise<unknown>[] = [];
      c.onJob((job) => acks.push(c.ack('mixed', job.id)));
      await enqueueMany(t, 'mixed', 30);
      await until(() => handled + c.jobs.length === 30, 5000, '30 jobs');
      await Promise.all(acks);
      assert.ok(handled > 0 && c.jobs.length > 0, `worker ${handled}, connection ${c.jobs.length}`);
      await worker.stop();
    }));
});

describe('the SDK as a consumer', () => {
  test('client.consume: two SDK clients share a queue; a handler that throws gets the job again', () =>
    withServer(FAST, async (t) => {
      const handled: [string, number][] = [];
      const clients = [0, 1].map(() => new SwitchboardClient(`${t.wsUrl}/ws`, { WebSocket }));
      try {
        for (const client of clients) {
          await client.connect();
          client.consume<{ n: number }>(
            'sdk',
            (job) => {
              if (job.data.n === 3 && job.attempt === 1) throw new Error('first try fails');
              handled.push([job.id, job.attempt]);
            },
            { prefetch: 2 },
          );
        }
        await until(() => t.server.stats().connections === 2, 3000);
        const ids = await enqueueMany(t, 'sdk', 20);
        await until(() => handled.length === 20, 5000, '20 jobs handled');
        assert.deepEqual(handled.map(([id]) => id).sort(), [...ids].sort());
        assert.deepEqual(
          handled.filter(([, attempt]) => attempt > 1).map(([id]) => id),
          [ids[3]],
        );
        await depthWhen(t, 'sdk', (d) => d.waiting === 0 && d.claimed === 0);
      } finally {
        for (const client of clients) client.close();
      }
    }));
});
