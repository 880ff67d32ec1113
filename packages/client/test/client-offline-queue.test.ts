/**
 * The offline queue: publish, send and notify made while the client is not connected wait, then go out in
 * order once it is connected and its subscriptions are back; what overflows (or is cleared) is reported.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { MessageDroppedError, SwitchboardClient } from '../src/index.js';
import type { ClientOptions, DroppedEvent } from '../src/index.js';
import { nextEvent, record, testScope } from './helpers.js';
import type { TestServer } from './helpers.js';
import { TcpProxy } from './tcp-proxy.js';

const scope = testScope({ shutdownTimeoutMs: 200 });
const server = scope.server;

function client(url: string, options: ClientOptions = {}): SwitchboardClient {
  const c = new SwitchboardClient(url, { WebSocket, backoff: { minDelayMs: 5, maxDelayMs: 20 }, ...options });
  scope.defer(() => c.close());
  return c;
}

/** Messages of `channel` as another client sees them, and a wait for the `count`-th. */
async function watcher(t: TestServer, channel: string) {
  const c = client(t.url);
  await c.connect();
  const sub = c.subscribe(channel);
  await sub.ready({ timeoutMs: 3000 });
  const seen: unknown[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  sub.on('message', (m) => {
    seen.push(m.data);
    for (const w of waiters) if (seen.length >= w.count) w.resolve();
  });
  return {
    seen,
    until: (count: number): Promise<void> =>
      new Promise((resolve, reject) => {
        if (seen.length >= count) return resolve();
        const timer = setTimeout(() => reject(new Error(`saw ${JSON.stringify(seen)}`)), 3000);
        waiters.push({
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      }),
  };
}

describe('offline queue', () => {
  it('holds calls made before connect() and flushes them in order after the subscriptions are back', async () => {
    const t = await server({ onMessage: (_c, data) => ({ echo: data }) });
    const other = await watcher(t, 'q');
    const c = client(t.url);
    const sub = c.subscribe('q');
    const own: unknown[] = [];
    sub.on('message', (m) => own.push(m.data));
    const published = [c.publish('q', 'one'), c.publish('q', 'two')];
    assert.equal(c.notify({ type: 'publish', channel: 'q', data: 'three' }), 'queued');
    const sent = c.send('hello');
    published.push(c.publish('q', 'four'));
    await c.connect();
    assert.deepEqual(await Promise.all(published), [{ id: 1 }, { id: 2 }, { id: 4 }]);
    assert.deepEqual(await sent, { echo: 'hello' });
    await other.until(4);
    assert.deepEqual(other.seen, ['one', 'two', 'three', 'four']);
    // The subscription was back before the flush, so the client saw its own messages too.
    await c.ping();
    assert.deepEqual(own, ['one', 'two', 'three', 'four']);
    assert.equal(c.notify({ type: 'publish', channel: 'q', data: 'five' }), 'sent');
  });

  it('queues while reconnecting after a cut, and later calls wait behind the queued ones', async () => {
    const t = await server();
    const proxy = await TcpProxy.start(t.url);
    scope.defer(() => proxy.close());
    const other = await watcher(t, 'q');
    const c = client(proxy.url(t.url));
    await c.connect();
    proxy.refuse();
    const disconnected = nextEvent(c, 'disconnected');
    proxy.cut();
    await disconnected;
    assert.equal(c.state, 'connecting');
    const before = [c.publish('q', 1), c.publish('q', 2)];
    const reconnected = nextEvent(c, 'connected');
    proxy.admit();
    await reconnected;
    // Connected, but the queue may not be flushed yet: this call must not overtake it.
    const after = c.publish('q', 3);
    assert.deepEqual(await Promise.all([...before, after]), [{ id: 1 }, { id: 2 }, { id: 3 }]);
    await other.until(3);
    assert.deepEqual(other.seen, [1, 2, 3]);
  });

  it('reports what overflows (oldest first), rejects its promises, and sends the rest', async () => {
    const t = await server();
    const other = await watcher(t, 'q');
    const c = client(t.url, { offlineQueue: { maxItems: 3 } });
    const dropped = record(c, 'dropped');
    const calls = [1, 2, 3, 4, 5].map((n) => c.publish('q', n));
    assert.equal(c.notify({ type: 'publish', channel: 'q', data: 6 }), 'queued');
    const outcomes = Promise.allSettled(calls);
    await c.connect();
    const settled = await outcomes;
    for (const [i, outcome] of settled.slice(0, 3).entries()) {
      assert.equal(outcome.status, 'rejected');
      const error = (outcome as PromiseRejectedResult).reason as unknown;
      assert.ok(error instanceof MessageDroppedError, `call ${i + 1}`);
      assert.equal(error.code, 'message_dropped');
      assert.equal(error.reason, 'overflow');
      assert.equal(error.command, 'publish');
    }
    assert.deepEqual(
      settled.slice(3).map((o) => o.status === 'fulfilled' && o.value),
      [{ id: 1 }, { id: 2 }],
    );
    const summary = (e: DroppedEvent) => e.commands.map((d) => [d.command.type, d.reason]);
    assert.deepEqual(dropped.map(summary), [
      [['publish', 'overflow']],
      [['publish', 'overflow']],
      [['publish', 'overflow']],
    ]);
    assert.deepEqual(
      dropped.map((e) => (e.commands[0]?.command as { data: unknown }).data),
      [1, 2, 3],
    );
    await other.until(3);
    assert.deepEqual(other.seen, [4, 5, 6]);
  });

  it('close() drops what is queued, as cleared; a closed client queues nothing', async () => {
    const c = new SwitchboardClient('ws://127.0.0.1:9/ws', { WebSocket });
    const dropped = nextEvent(c, 'dropped');
    const pending = c.publish('q', 'never');
    c.notify({ type: 'publish', channel: 'q', data: 'never either' });
    c.close();
    await assert.rejects(pending, { name: 'MessageDroppedError', reason: 'cleared' });
    assert.deepEqual(
      (await dropped).commands.map((d) => d.reason),
      ['cleared', 'cleared'],
    );
    await assert.rejects(c.publish('q', 'closed'), { name: 'NotConnectedError', state: 'closed' });
    assert.equal(c.notify({ type: 'ping' }), 'dropped');
  });
});
