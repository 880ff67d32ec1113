// switchboard_connections_closed_total{code,by}: the server's own close code when the server closed (whatever
// the peer answered, or 1006 when it never did), the client's when the client closed.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connectV1, stalledClient, startServer } from './helpers.js';
import type { TestServer } from './helpers.js';
import { metric } from './limits-helpers.js';

describe('connections closed, by code and by who closed', () => {
  let t: TestServer;
  before(async () => {
    t = await startServer({
      heartbeatIntervalMs: 40,
      heartbeatTimeoutMs: 120,
      maxMessageBytes: 1024,
      errorBurst: 3,
      errorRefillPerSecond: 1,
    });
  });
  after(() => t.stop());

  const closed = (code: number, by: 'server' | 'client'): Promise<number> =>
    metric(t, 'switchboard_connections_closed_total', { transport: 'websocket', code: String(code), by });

  /** Wait until the sample reaches `count` (a close is counted once the transport reports the end). */
  async function counted(code: number, by: 'server' | 'client', count = 1): Promise<void> {
    const deadline = Date.now() + 5000;
    while ((await closed(code, by)) < count) {
      assert.ok(Date.now() < deadline, `close ${code} by ${by} never counted`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  test('a heartbeat eviction of a peer that never answers is 4000 by the server, not 1006', async () => {
    // A client that stopped reading: it never answers the close frame, so the transport can only report
    // 1006 once the server drops it after its linger.
    const socket = await stalledClient(`${t.wsUrl}/ws`);
    await counted(4000, 'server');
    socket.destroy();
    assert.equal(await closed(1006, 'client'), 0);
    assert.equal(await closed(1006, 'server'), 0);
  });

  test('a message over the size limit is 1009 by the server', async () => {
    const { client } = await connectV1(t);
    client.send({ type: 'publish', channel: 'c', data: 'x'.repeat(2000) });
    assert.equal((await client.closed).code, 1009);
    await counted(1009, 'server');
  });

  test('a binary frame is 1003 by the server, not the 1000 or 1003 the client echoes', async () => {
    const { client } = await connectV1(t);
    client.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    assert.equal((await client.closed).code, 1003);
    await counted(1003, 'server');
    assert.equal(await closed(1003, 'client'), 0);
  });

  test('too many invalid frames is 4501 by the server', async () => {
    const { client } = await connectV1(t);
    for (let i = 0; i < 10; i++) client.send('not json');
    assert.equal((await client.closed).code, 4501);
    await counted(4501, 'server');
    assert.equal(await closed(4501, 'client'), 0);
  });

  test('a client that closes with 1000 is 1000 by the client', async () => {
    const before = await closed(1000, 'client');
    const { client } = await connectV1(t);
    client.ws.close(1000, 'bye');
    await client.closed;
    await counted(1000, 'client', before + 1);
    assert.equal(await closed(1000, 'server'), 0);
  });
});
