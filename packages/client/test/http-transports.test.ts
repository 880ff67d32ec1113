/**
 * The SDK over the HTTP transports (issue 14): protocol v1 over SSE + POST and over long polling + POST,
 * with the same Subscription API, recovery across a cut, and the fallback from a WebSocket that a proxy
 * refuses to upgrade (to SSE, and to polling when SSE is refused too).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { SwitchboardClient } from '../src/index.js';
import type { ClientOptions, SubscribedEvent, Subscription, TransportName } from '../src/index.js';
import { ids, nextEvent, testScope } from './helpers.js';
import type { TestServer } from './helpers.js';
import { TcpProxy } from './tcp-proxy.js';
import { HttpProxy } from './http-proxy.js';

const scope = testScope({ shutdownTimeoutMs: 200 });

function client(url: string, options: ClientOptions): SwitchboardClient {
  const c = new SwitchboardClient(url, { WebSocket, backoff: { minDelayMs: 5, maxDelayMs: 20 }, ...options });
  scope.defer(() => c.close());
  return c;
}

/** Resolves once `predicate` holds (checked every 10 ms); rejects after 5 s. */
async function until(predicate: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function nextSubscribed(sub: Subscription): Promise<SubscribedEvent> {
  return new Promise((resolve) => sub.once('subscribed', resolve));
}

async function publish(t: TestServer, channel: string, from: number, to: number): Promise<void> {
  for (let i = from; i <= to; i++) await t.server.publish(channel, i);
}

for (const transport of ['sse', 'polling'] as const) {
  describe(`protocol v1 over ${transport}`, () => {
    it('subscribes, publishes, answers requests and recovers across a cut, exactly once', async () => {
      const t = await scope.server();
      const proxy = await TcpProxy.start(t.url);
      scope.defer(() => proxy.close());
      const c = client(proxy.url(t.url), { transports: [transport] });
      const first = await c.connect();
      assert.equal(c.transport, transport);
      const chat = c.subscribe('chat');
      await chat.ready({ timeoutMs: 3000 });
      const got = ids(chat);
      await publish(t, 'chat', 1, 3);
      await got.until(3);
      // Upstream by POST: a publish from this client reaches a WebSocket subscriber and itself.
      const other = client(t.url, { transports: ['websocket'] });
      await other.connect();
      const echo = other.subscribe('chat');
      await echo.ready({ timeoutMs: 3000 });
      const seenByOther = ids(echo);
      await c.publish('chat', 'from http');
      await seenByOther.until(4);
      await got.until(4);
      // Through the cut: the stream (or the poll) drops, messages published meanwhile are recovered.
      proxy.refuse();
      const disconnected = nextEvent(c, 'disconnected');
      proxy.cut();
      await disconnected;
      await publish(t, 'chat', 5, 8);
      const reconnected = nextEvent(c, 'connected');
      const recovered = nextSubscribed(chat);
      proxy.admit();
      const second = await reconnected;
      assert.equal(second.sessionId, first.sessionId);
      assert.equal(second.resumed, true);
      assert.equal((await recovered).recovered, true);
      await publish(t, 'chat', 9, 9);
      await got.until(9);
      assert.deepEqual(got.seen, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
      // Request/reply over POST: history.
      const page = await chat.history({ limit: 2 });
      assert.deepEqual(
        page.messages.map((m) => m.id),
        [1, 2],
      );
    });

    it('keeps the heartbeat: the client answers pings by POST and the connection outlives the timeout', async () => {
      const t = await scope.server({ heartbeatIntervalMs: 100, heartbeatTimeoutMs: 300 });
      const c = client(t.url, { transports: [transport] });
      const info = await c.connect();
      let dropped = false;
      c.on('disconnected', () => (dropped = true));
      await new Promise((resolve) => setTimeout(resolve, 900));
      assert.equal(dropped, false);
      assert.equal(c.connection?.connectionId, info.connectionId);
    });
  });
}

describe('fallback', () => {
  async function through(refuse: { upgrade: boolean; paths?: RegExp }, transports?: TransportName[]) {
    const t = await scope.server();
    const proxy = await HttpProxy.start(t.url, refuse);
    scope.defer(() => proxy.close());
    const c = client(proxy.wsUrl, transports === undefined ? {} : { transports });
    return { t, proxy, c };
  }

  it('falls back to SSE when a proxy refuses the WebSocket upgrade, and recovers there', async () => {
    const { t, proxy, c } = await through({ upgrade: true });
    await c.connect();
    assert.equal(c.transport, 'sse');
    assert.ok(proxy.refusedUpgrades >= 2, `refused ${proxy.refusedUpgrades}`);
    const feed = c.subscribe('feed');
    await feed.ready({ timeoutMs: 3000 });
    const got = ids(feed);
    await publish(t, 'feed', 1, 2);
    await got.until(2);
    const disconnected = nextEvent(c, 'disconnected');
    proxy.cut();
    await disconnected;
    await publish(t, 'feed', 3, 4);
    await got.until(4);
    assert.equal(c.transport, 'sse');
    assert.deepEqual(got.seen, [1, 2, 3, 4]);
  });

  it('falls back to polling when SSE is refused too', async () => {
    const { t, c } = await through({ upgrade: true, paths: /\/v1\/sse/ });
    await c.connect();
    assert.equal(c.transport, 'polling');
    const feed = c.subscribe('feed');
    await feed.ready({ timeoutMs: 3000 });
    const got = ids(feed);
    await publish(t, 'feed', 1, 3);
    await got.until(3);
  });

  it('probes the WebSocket after transportRetryMs and moves back to it once it gets through', async () => {
    const t = await scope.server();
    const proxy = await HttpProxy.start(t.url, { upgrade: true });
    scope.defer(() => proxy.close());
    const c = client(proxy.wsUrl, { transportRetryMs: 50 });
    const first = await c.connect();
    assert.equal(c.transport, 'sse');
    const feed = c.subscribe('feed');
    await feed.ready({ timeoutMs: 3000 });
    const got = ids(feed);
    await publish(t, 'feed', 1, 1);
    await got.until(1);
    // Still refused: the probes fail and the connection stays where it is.
    const refusedBefore = proxy.refusedUpgrades;
    await until(() => proxy.refusedUpgrades >= refusedBefore + 2, 'two probes');
    assert.equal(c.connection?.connectionId, first.connectionId);
    // Let upgrades through: the next probe opens, and the client reconnects over WebSocket, resuming.
    const upgraded = nextEvent(c, 'connected', () => c.transport === 'websocket');
    proxy.allowUpgrades();
    const info = await upgraded;
    assert.equal(info.resumed, true);
    await publish(t, 'feed', 2, 2);
    await got.until(2);
    assert.deepEqual(got.seen, [1, 2]);
  });

  it('a server that was down does not leave the client on a fallback', async () => {
    const t = await scope.server();
    const proxy = await TcpProxy.start(t.url);
    scope.defer(() => proxy.close());
    const c = client(proxy.url(t.url), { transportRetryMs: 100 });
    await c.connect();
    assert.equal(c.transport, 'websocket');
    proxy.refuse();
    let failures = 0;
    c.on('reconnecting', () => failures++);
    proxy.cut();
    // Long enough for the client to try every transport: none gets an answer.
    await until(() => failures >= 6, 'six failed attempts');
    proxy.admit();
    await until(() => c.state === 'connected' && c.transport === 'websocket', 'back on the WebSocket');
  });
});

describe('the transports option', () => {
  it('takes distinct known names, and needs no WebSocket without `websocket`', () => {
    assert.throws(
      () => new SwitchboardClient('ws://localhost/ws', { WebSocket, transports: [] }),
      /transports/,
    );
    assert.throws(
      () => new SwitchboardClient('ws://localhost/ws', { WebSocket, transports: ['sse', 'sse'] }),
      /transports/,
    );
    assert.throws(
      () =>
        new SwitchboardClient('ws://localhost/ws', {
          WebSocket,
          transports: ['carrier-pigeon' as TransportName],
        }),
      /transports/,
    );
    const c = new SwitchboardClient('ws://localhost/ws', { transports: ['sse', 'polling'] });
    assert.equal(c.transport, 'sse');
    c.close();
  });
});
