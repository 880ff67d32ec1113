// The inbox on the PostgreSQL store through the server's options (`inbox.store: 'postgres'`, `postgres:
// { url }`): opened and migrated by start(), a confirmed deliver survives the server, and a database
// that cannot be reached fails start() instead of the first deliver. Skips loudly without PostgreSQL.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectV1, queryUserAuthenticator, startServer } from './helpers.js';
import { postgresPerSuite, postgresRequirement } from './postgres-harness.js';
import { BackendUnavailableError, createServer } from '../src/index.js';
import type { ServerOptions } from '../src/index.js';

describe('the inbox on PostgreSQL', { skip: postgresRequirement.skip }, () => {
  const database = postgresPerSuite();
  const options = (): ServerOptions => ({
    authenticator: queryUserAuthenticator,
    shutdownTimeoutMs: 200,
    inbox: { store: 'postgres' },
    queues: { store: 'postgres' },
    postgres: { url: database().url, max: 4 },
  });

  test('a deliver confirmed before a stop is pushed by the next server; acked, it is gone', async () => {
    const first = await startServer(options());
    const { id } = await first.server.deliver('wes', { kept: true });
    await first.stop();

    const second = await startServer(options());
    try {
      const { client } = await connectV1(second, {}, '?user=wes');
      await client.request({ type: 'inbox', id: 1, device: 'laptop' });
      const push = await client.nextOfType('inbox', 5000);
      assert.deepEqual([push['id'], push['attempt'], push['data']], [id, 1, { kept: true }]);
      assert.deepEqual((await client.request({ type: 'ack', id: 2, message: id }))['result'], {});
      const next = await second.server.deliver('wes', 'next');
      assert.equal((await client.nextOfType('inbox', 5000))['id'], next.id);
      client.close();
    } finally {
      await second.stop();
    }
  });

  test('an unreachable database fails start() with BackendUnavailableError', async () => {
    const server = createServer({
      host: '127.0.0.1',
      port: 0,
      inbox: { store: 'postgres' },
      postgres: { url: 'postgres://nobody@127.0.0.1:1/none', connectTimeoutMs: 500 },
    });
    await assert.rejects(server.start(), BackendUnavailableError);
    assert.equal(server.state, 'stopped');
  });
});

describe('the postgres option', () => {
  test("inbox.store 'postgres' needs it, and a postgres:// URL", () => {
    assert.throws(() => createServer({ inbox: { store: 'postgres' } }), { option: 'postgres' });
    assert.throws(() => createServer({ postgres: { url: 'mysql://x' } }), { option: 'postgres.url' });
  });
});
