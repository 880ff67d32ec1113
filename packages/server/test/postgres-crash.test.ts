/**
 * The PostgreSQL store when its server crashes: a private server (postgres-process.ts) SIGKILLed while
 * delivers and enqueues are in flight, then restarted. Nothing `deliver` or `enqueue` confirmed is lost;
 * what failed during the outage failed as BackendUnavailableError (never a hang, never another error);
 * the same stores work again once the server is back.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPostgresStores } from '../src/inbox/postgres-stores.js';
import type { PostgresStores } from '../src/inbox/postgres-stores.js';
import { BackendUnavailableError } from '../src/errors.js';
import { privatePostgresSkip, startPostgres } from './postgres-process.js';
import type { PostgresProcess } from './postgres-process.js';

describe(
  'PostgreSQL store: the server SIGKILLed and restarted',
  { skip: privatePostgresSkip, timeout: 90_000 },
  () => {
    let server: PostgresProcess | undefined;
    let stores: PostgresStores | undefined;
    before(async () => {
      server = await startPostgres();
      stores = await createPostgresStores({ url: server.url, max: 4, connectTimeoutMs: 1000 });
    });
    after(async () => {
      await stores?.close();
      await server?.stop();
    });

    test('every confirmed deliver and enqueue survives; failures are unavailable', async () => {
      assert.ok(server !== undefined && stores !== undefined, 'started by before');
      const pgServer = server;
      const { inbox, queues } = stores;
      const now = Date.now();
      const confirmedMessages: string[] = [];
      const confirmedJobs: string[] = [];
      const failures: unknown[] = [];
      let killed = false;
      let stop = false;

      // Four writers deliver and enqueue in a loop until told to stop; the server dies under them.
      let enough: () => void = () => {};
      const fortyConfirmed = new Promise<void>((resolve) => {
        enough = resolve;
      });
      const writer = async (n: number): Promise<void> => {
        for (let i = 0; !stop; i++) {
          try {
            const delivered = await inbox.deliver({
              userId: 'survivor',
              json: `"${n}.${i}"`,
              ttlMs: 3_600_000,
              maxAttempts: 5,
              now,
            });
            if (delivered.ok) confirmedMessages.push(delivered.message.id);
            if (confirmedMessages.length >= 40) enough();
            const job = await queues.enqueue({ queue: 'work', json: `"${n}.${i}"`, maxAttempts: 3, now });
            if (job.ok) confirmedJobs.push(job.id);
          } catch (error) {
            failures.push(error);
            if (!killed) throw error;
            // Down: give the loop a turn before trying again.
            await new Promise((resolve) => setTimeout(resolve, 10));
          }
        }
      };
      const writers = [0, 1, 2, 3].map(writer);
      await Promise.race([fortyConfirmed, Promise.all(writers)]);
      assert.ok(confirmedMessages.length >= 40, 'the writers stopped early');
      killed = true;
      await pgServer.kill();
      // Writes fail while the server is down (the pool cannot connect).
      const down = await inbox
        .deliver({ userId: 'survivor', json: '"down"', ttlMs: 1000, maxAttempts: 1, now })
        .then(
          () => 'stored',
          (error: unknown) => error,
        );
      assert.ok(down instanceof BackendUnavailableError, `a deliver while down: ${String(down)}`);
      stop = true;
      await Promise.all(writers);
      for (const error of failures) assert.ok(error instanceof BackendUnavailableError, String(error));

      await pgServer.restart();
      // The same stores reconnect; every confirmed write is there.
      let pending: readonly { id: string }[] = [];
      for (let tries = 0; tries < 5; tries++) {
        try {
          pending = await inbox.pending('survivor', 'phone', 0, 100_000, now);
          break;
        } catch (error) {
          assert.ok(error instanceof BackendUnavailableError, String(error)); // a pooled connection from before
        }
      }
      const stored = new Set(pending.map((m) => m.id));
      for (const id of confirmedMessages) assert.ok(stored.has(id), `confirmed message ${id} lost`);
      const claimed = await queues.claim('work', 'c', 100_000, 60_000, now);
      const jobs = new Set(claimed.jobs.map((job) => job.id));
      for (const id of confirmedJobs) assert.ok(jobs.has(id), `confirmed job ${id} lost`);
      // And it keeps working.
      assert.ok(
        (await inbox.deliver({ userId: 'survivor', json: '"after"', ttlMs: 1000, maxAttempts: 1, now })).ok,
      );
    });
  },
);
