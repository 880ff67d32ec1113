// The proof for work queues: three consumers, one of them a child process SIGKILLed while it
// holds a job. Its job goes to another consumer, no job is lost, and no job is held by two consumers at
// once while its lock is valid (each holding tracked with timestamps).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { until, withServer } from './helpers.js';
import { QueueClient, depthOf } from './queue-helpers.js';
import { killOnExit } from './node-process.js';

/** A consumer in its own process: it consumes with prefetch 1, reports each job, and never acks. */
const CHILD = `
import WebSocket from 'ws';
const [url, queue] = process.argv.slice(1);
const ws = new WebSocket(url);
ws.on('open', () => ws.send(JSON.stringify({ type: 'consume', id: 1, queue, prefetch: 1 })));
ws.on('message', (data) => {
  const frame = JSON.parse(data.toString());
  if (frame.type === 'reply' && frame.id === 1) console.log(JSON.stringify({ consuming: true }));
  if (frame.type === 'job') console.log(JSON.stringify({ job: frame.id, attempt: frame.attempt }));
});
`;

/** One consumer's holding of a job: from its push to its ack's reply (or the consumer's death). */
interface Holding {
  readonly consumer: string;
  readonly job: string;
  readonly attempt: number;
  readonly from: number;
  to: number;
}

test('three consumers, one killed mid-job: its job goes to another, none lost, none held twice', () =>
  withServer({ queues: { pollMs: 50, ackTimeoutMs: 30_000 } }, async (t) => {
    const queue = 'proof';
    const holdings: Holding[] = [];
    const acked = new Map<string, number>();

    const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD, `${t.wsUrl}/ws`, queue], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    killOnExit(child);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const lines = createInterface({ input: child.stdout });
    const childJob = new Promise<Holding>((resolve) => {
      lines.on('line', (line) => {
        const report = JSON.parse(line) as { consuming?: boolean; job?: string; attempt?: number };
        if (report.job === undefined) return;
        const holding = {
          consumer: 'child',
          job: report.job,
          attempt: report.attempt ?? 0,
          from: Date.now(),
          to: Infinity,
        };
        holdings.push(holding);
        resolve(holding);
      });
    });
    const consuming = new Promise<void>((resolve) =>
      lines.on('line', (line) => {
        if ((JSON.parse(line) as { consuming?: boolean }).consuming === true) resolve();
      }),
    );
    await consuming;

    // Two consumers in this process, each working a job for a few milliseconds before acking it.
    for (const name of ['b', 'c']) {
      const c = await QueueClient.open(t);
      await c.consume(queue, 1);
      c.onJob((job) => {
        const holding: Holding = {
          consumer: name,
          job: job.id,
          attempt: job.attempt,
          from: Date.now(),
          to: Infinity,
        };
        holdings.push(holding);
        setTimeout(
          () => {
            void c.ack(queue, job.id).then((reply) => {
              assert.deepEqual(reply['result'], {}, `${name}'s ack of ${job.id}: ${JSON.stringify(reply)}`);
              holding.to = Date.now();
              acked.set(job.id, (acked.get(job.id) ?? 0) + 1);
            });
          },
          2 + (holdings.length % 5),
        );
      });
    }

    const ids: string[] = [];
    for (let i = 0; i < 30; i++) ids.push((await t.server.enqueue(queue, { n: i })).id);

    // The child got a job (it consumed first, so the round robin starts with it): kill it mid-job.
    const taken = await childJob;
    child.kill('SIGKILL');
    taken.to = Date.now();
    await exited;

    await until(() => acked.size === ids.length, 10_000, 'every job acked');
    assert.deepEqual([...acked.keys()].sort(), [...ids].sort(), 'no job lost');
    assert.ok(
      [...acked.values()].every((n) => n === 1),
      'each job acked once',
    );

    // The killed consumer's job went to another consumer, as its second attempt, after the kill.
    const after = holdings.filter((h) => h.job === taken.job && h.consumer !== 'child');
    assert.equal(after.length, 1, JSON.stringify(holdings.filter((h) => h.job === taken.job)));
    assert.equal(after[0]?.attempt, 2);
    assert.equal(taken.attempt, 1);

    // No job was held by two consumers at once (every lock here was valid: 30 s, never reached).
    for (const id of ids) {
      const held = holdings.filter((h) => h.job === id).sort((a, b) => a.from - b.from);
      for (let i = 1; i < held.length; i++) {
        const previous = held[i - 1] as Holding;
        const current = held[i] as Holding;
        assert.ok(
          previous.to <= current.from,
          `job ${id} held by ${previous.consumer} and ${current.consumer} at once`,
        );
      }
    }
    const depth = await depthOf(t, queue);
    assert.deepEqual([depth.waiting, depth.claimed, depth.consumers], [0, 0, 2]);
  }));
