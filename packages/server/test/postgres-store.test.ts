/**
 * What the PostgreSQL stores add to their contracts (inbox-contract.test.ts, queue-contract.test.ts):
 * migrations (a second start is a no-op, concurrent starts do not fail, a newer schema is refused), two
 * nodes (two pools) claiming and sweeping the same tables concurrently, and outages as typed errors.
 * Against a database of its own in the machine's PostgreSQL; skips loudly without one.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { createPostgresStores } from '../src/inbox/postgres-stores.js';
import type { PostgresStores } from '../src/inbox/postgres-stores.js';
import { LATEST_VERSION } from '../src/inbox/postgres-migrations.js';
import { BackendUnavailableError, InvalidOptionError, StoreMigrationError } from '../src/errors.js';
import { postgresPerSuite, postgresRequirement } from './postgres-harness.js';

const TEST = { skip: postgresRequirement.skip, timeout: 30_000 };

function freshSchema(): string {
  return `t_${randomBytes(5).toString('hex')}`;
}

/** Run one statement on its own connection. */
async function sql<R extends pg.QueryResultRow>(
  url: string,
  text: string,
  values: unknown[] = [],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('PostgreSQL stores', () => {
  const database = postgresPerSuite();

  describe('migrations', () => {
    test(
      'the first start applies every migration; a second start against the migrated schema is a no-op',
      TEST,
      async () => {
        const schema = freshSchema();
        const first = await createPostgresStores({ url: database().url, schema });
        await first.close();
        assert.deepEqual(
          first.migrated,
          Array.from({ length: LATEST_VERSION }, (_, i) => i + 1),
        );
        const second = await createPostgresStores({ url: database().url, schema });
        await second.close();
        assert.deepEqual(second.migrated, []);
        const rows = await sql<{ version: number }>(
          database().url,
          `SELECT version FROM "${schema}".switchboard_migrations ORDER BY version`,
        );
        assert.deepEqual(
          rows.map((row) => row.version),
          first.migrated,
        );
      },
    );

    test(
      'concurrent starts (nodes migrating at once) all succeed and apply each migration once',
      TEST,
      async () => {
        const schema = freshSchema();
        const started = await Promise.all(
          Array.from({ length: 4 }, () => createPostgresStores({ url: database().url, schema, max: 2 })),
        );
        await Promise.all(started.map((stores) => stores.close()));
        const applied = started.flatMap((stores) => stores.migrated);
        assert.deepEqual(
          applied.sort((a, b) => a - b),
          Array.from({ length: LATEST_VERSION }, (_, i) => i + 1),
        );
      },
    );

    test('the default schema is public', TEST, async () => {
      const stores = await createPostgresStores({ url: database().url });
      await stores.close();
      const rows = await sql<{ n: string }>(
        database().url,
        `SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'public' AND table_name = 'switchboard_migrations'`,
      );
      assert.equal(rows[0]?.n, '1');
    });

    test('a schema migrated by a newer version is refused with StoreMigrationError', TEST, async () => {
      const schema = freshSchema();
      const stores = await createPostgresStores({ url: database().url, schema });
      await stores.close();
      await sql(
        database().url,
        `INSERT INTO "${schema}".switchboard_migrations (version, name) VALUES ($1, 'future')`,
        [LATEST_VERSION + 1],
      );
      await assert.rejects(createPostgresStores({ url: database().url, schema }), (error: unknown) => {
        assert.ok(error instanceof StoreMigrationError);
        assert.equal(error.code, 'migration_failed');
        assert.match(error.message, new RegExp(`version ${LATEST_VERSION + 1}, newer than`));
        return true;
      });
    });

    test('an invalid schema name or pool size is an InvalidOptionError', TEST, async () => {
      for (const schema of ['Public', 'a-b', 'x"; DROP TABLE y; --', '']) {
        await assert.rejects(createPostgresStores({ url: database().url, schema }), (error: unknown) => {
          assert.ok(error instanceof InvalidOptionError);
          assert.equal(error.option, 'postgres.schema');
          return true;
        });
      }
      await assert.rejects(createPostgresStores({ url: database().url, max: 0 }), InvalidOptionError);
    });
  });

  describe('outages', () => {
    test('no server at the URL: start-up rejects with BackendUnavailableError', TEST, async () => {
      const port = await closedPort();
      await assert.rejects(
        createPostgresStores({
          url: `postgres://postgres@127.0.0.1:${port}/postgres`,
          connectTimeoutMs: 1000,
        }),
        (error: unknown) => {
          assert.ok(error instanceof BackendUnavailableError, String(error));
          assert.equal(error.code, 'unavailable');
          return true;
        },
      );
    });

    test(
      'connections killed by the server: the next operations reconnect; a closed store is unavailable',
      TEST,
      async () => {
        const stores = await createPostgresStores({ url: database().url, schema: freshSchema(), max: 2 });
        const userId = `u-${randomBytes(4).toString('hex')}`;
        const now = Date.now();
        assert.ok((await stores.inbox.deliver({ userId, json: '1', ttlMs: 60_000, maxAttempts: 3, now })).ok);
        await sql(
          database().url,
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND application_name = 'switchboard'`,
        );
        // The pool may hand out a dead connection once: that operation fails as unavailable, the next works.
        let outcome;
        for (let tries = 0; tries < 3 && outcome === undefined; tries++) {
          try {
            outcome = await stores.inbox.deliver({ userId, json: '2', ttlMs: 60_000, maxAttempts: 3, now });
          } catch (error) {
            assert.ok(error instanceof BackendUnavailableError, String(error));
          }
        }
        assert.ok(outcome?.ok);
        assert.deepEqual(
          (await stores.inbox.pending(userId, 'd', 0, 10, now)).map((m) => m.json),
          ['1', '2'],
        );
        await stores.close();
        await assert.rejects(stores.inbox.pending(userId, 'd', 0, 10, now), BackendUnavailableError);
        await assert.rejects(stores.queues.depth('q'), BackendUnavailableError);
      },
    );
  });

  describe('two nodes (two pools) on the same tables', () => {
    async function twoNodes(): Promise<[PostgresStores, PostgresStores]> {
      const schema = freshSchema();
      const a = await createPostgresStores({ url: database().url, schema, max: 4 });
      const b = await createPostgresStores({ url: database().url, schema, max: 4 });
      return [a, b];
    }

    test(
      'concurrent claims from both nodes never get the same job while its lock is valid',
      TEST,
      async () => {
        const [a, b] = await twoNodes();
        try {
          const queue = `q-${randomBytes(4).toString('hex')}`;
          const now = Date.now();
          const ids = new Set<string>();
          for (let i = 0; i < 150; i++) {
            const outcome = await (i % 2 === 0 ? a : b).queues.enqueue({
              queue,
              json: String(i),
              maxAttempts: 3,
              now,
            });
            assert.ok(outcome.ok);
            ids.add(outcome.id);
          }
          // Three consumers per node, each claiming small batches until the queue is empty.
          const claimed: string[] = [];
          const consumer = async (node: PostgresStores, name: string): Promise<void> => {
            for (;;) {
              const { jobs } = await node.queues.claim(queue, name, 4, 60_000, now);
              if (jobs.length === 0) return;
              for (const job of jobs) claimed.push(job.id);
            }
          };
          await Promise.all(
            [a, b].flatMap((node, n) => [0, 1, 2].map((c) => consumer(node, `node${n}.${c}`))),
          );
          assert.equal(claimed.length, ids.size, 'no job claimed twice');
          assert.deepEqual(new Set(claimed), ids);
          assert.deepEqual(await a.queues.depth(queue), { waiting: 0, claimed: 150 });
        } finally {
          await Promise.all([a.close(), b.close()]);
        }
      },
    );

    test(
      'expired locks re-claimed from both nodes at once: each job goes to one claimer, attempt 2',
      TEST,
      async () => {
        const [a, b] = await twoNodes();
        try {
          const queue = `q-${randomBytes(4).toString('hex')}`;
          const now = Date.now();
          for (let i = 0; i < 40; i++)
            assert.ok((await a.queues.enqueue({ queue, json: String(i), maxAttempts: 3, now })).ok);
          assert.equal((await a.queues.claim(queue, 'gone', 40, 1000, now)).jobs.length, 40);
          const claims = await Promise.all(
            Array.from({ length: 10 }, (_, i) =>
              (i % 2 === 0 ? a : b).queues.claim(queue, `c${i}`, 5, 1000, now + 1000),
            ),
          );
          const jobs = claims.flatMap((claim) => claim.jobs);
          assert.equal(jobs.length, 40);
          assert.equal(new Set(jobs.map((job) => job.id)).size, 40);
          assert.ok(jobs.every((job) => job.attempt === 2));
        } finally {
          await Promise.all([a.close(), b.close()]);
        }
      },
    );

    test(
      'undelivered and expire sweeps from both nodes at once report and dead-letter each message once',
      TEST,
      async () => {
        const [a, b] = await twoNodes();
        try {
          const now = Date.now();
          const ids = new Set<string>();
          for (let i = 0; i < 60; i++) {
            const outcome = await a.inbox.deliver({
              userId: `u${i % 6}`,
              json: String(i),
              ttlMs: 100,
              maxAttempts: 3,
              now,
            });
            assert.ok(outcome.ok);
            ids.add(outcome.message.id);
          }
          const reports = await Promise.all(
            [0, 1, 2, 3].map((i) => (i % 2 === 0 ? a : b).inbox.undelivered(now, 25)),
          );
          const more = await Promise.all([a.inbox.undelivered(now, 100), b.inbox.undelivered(now, 100)]);
          const reported = [...reports, ...more].flat().map((m) => m.id);
          assert.equal(reported.length, 60, 'each reported once');
          assert.deepEqual(new Set(reported), ids);
          const sweeps = await Promise.all(
            [0, 1, 2, 3].map((i) => (i % 2 === 0 ? a : b).inbox.expire(now + 100, 20)),
          );
          const rest = await Promise.all([a.inbox.expire(now + 100, 100), b.inbox.expire(now + 100, 100)]);
          const dead = [...sweeps, ...rest].flatMap((sweep) => sweep.letters.map((l) => l.id));
          assert.equal(dead.length, 60, 'each dead-lettered once');
          assert.deepEqual(new Set(dead), ids);
        } finally {
          await Promise.all([a.close(), b.close()]);
        }
      },
    );

    test(
      'two devices acking the same messages at once on two nodes: every message leaves',
      TEST,
      async () => {
        const [a, b] = await twoNodes();
        try {
          const now = Date.now();
          const userId = `u-${randomBytes(4).toString('hex')}`;
          await a.inbox.touchDevice(userId, 'laptop', now);
          await b.inbox.touchDevice(userId, 'phone', now);
          const ids: string[] = [];
          for (let i = 0; i < 30; i++) {
            const outcome = await a.inbox.deliver({
              userId,
              json: String(i),
              ttlMs: 60_000,
              maxAttempts: 3,
              now,
            });
            assert.ok(outcome.ok);
            ids.push(outcome.message.id);
          }
          const acks = await Promise.all(
            ids.flatMap((id) => [
              a.inbox.ack(userId, 'laptop', id, now),
              b.inbox.ack(userId, 'phone', id, now),
            ]),
          );
          assert.ok(acks.every((answer) => answer === 'acked'));
          // Acked by both known devices: none is left for a third one.
          await a.inbox.touchDevice(userId, 'tablet', now);
          assert.deepEqual(await a.inbox.pending(userId, 'tablet', 0, 100, now), []);
        } finally {
          await Promise.all([a.close(), b.close()]);
        }
      },
    );

    test(
      'concurrent delivers to one user from both nodes keep seqs unique and the bound exact',
      TEST,
      async () => {
        const schema = freshSchema();
        const limits = { maxMessages: 25 };
        const a = await createPostgresStores({ url: database().url, schema, max: 4, inboxLimits: limits });
        const b = await createPostgresStores({ url: database().url, schema, max: 4, inboxLimits: limits });
        try {
          const now = Date.now();
          const outcomes = await Promise.all(
            Array.from({ length: 40 }, (_, i) =>
              (i % 2 === 0 ? a : b).inbox.deliver({
                userId: 'crowded',
                json: String(i),
                ttlMs: 60_000,
                maxAttempts: 3,
                now,
              }),
            ),
          );
          const stored = outcomes.flatMap((o) => (o.ok ? [o.message] : []));
          assert.equal(stored.length, 25, 'exactly maxMessages stored');
          assert.equal(new Set(stored.map((m) => m.seq)).size, 25);
          const pending = await b.inbox.pending('crowded', 'd', 0, 100, now);
          assert.deepEqual(
            pending.map((m) => m.id),
            [...stored].sort((x, y) => x.seq - y.seq).map((m) => m.id),
          );
        } finally {
          await Promise.all([a.close(), b.close()]);
        }
      },
    );
  });
});
