/**
 * Reconnection against a real server, the path broken for real by a TCP proxy: terminal close codes,
 * a dead path found by the heartbeat, the backoff schedule, `online` events, the connect timeout, and
 * never more than one socket at a time. Backoff timers run on a ManualClock where their timing matters.
 */
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import WebSocket from 'ws';
import { SwitchboardClient } from '../src/index.js';
import type { ClientOptions, ReconnectingEvent, StateChange } from '../src/index.js';
import { nextEvent, record, startServer } from './helpers.js';
import type { TestServer } from './helpers.js';
import { ManualClock } from './manual-clock.js';
import { spy } from './socket-spy.js';
import { TcpProxy } from './tcp-proxy.js';

let cleanups: (() => Promise<void> | void)[] = [];

beforeEach(() => {
  cleanups = [];
});

afterEach(async () => {
  // Clients first, then proxies, then servers.
  for (const fn of cleanups.reverse()) await fn();
});

async function server(options: Parameters<typeof startServer>[0] = {}): Promise<TestServer> {
  const t = await startServer({ shutdownTimeoutMs: 200, ...options });
  cleanups.push(() => t.stop());
  return t;
}

async function proxyTo(t: TestServer): Promise<TcpProxy> {
  const proxy = await TcpProxy.start(t.url);
  cleanups.push(() => proxy.close());
  return proxy;
}

function client(url: string | readonly string[], options: ClientOptions = {}): SwitchboardClient {
  const c = new SwitchboardClient(url, { WebSocket, ...options });
  cleanups.push(() => c.close());
  return c;
}

describe('several server URLs', () => {
  it('an attempt that fails moves on to the next URL; a lost connection tries its own first, then moves on', async () => {
    const a = await server();
    const b = await server();
    const toA = await proxyTo(a);
    const toB = await proxyTo(b);
    const [urlA, urlB] = [toA.url(a.url), toB.url(b.url)];
    const c = client([urlA, urlB], { backoff: { minDelayMs: 10, maxDelayMs: 20 } });
    toA.refuse();
    const first = await c.connect();
    assert.equal(c.url, urlB);
    assert.ok(b.server.getConnection(first.connectionId) !== undefined, 'connected to the second node');
    // Both nodes up, the connection is cut: its own node first, where its session waits.
    toA.admit();
    let reconnected = nextEvent(c, 'connected', () => true, 5000);
    toB.cut();
    const again = await reconnected;
    assert.equal(c.url, urlB);
    assert.equal(again.resumed, true, 'the session resumed on its own node');
    // Its node turns everyone away: tried again, refused, then the next URL.
    toB.refuse();
    reconnected = nextEvent(c, 'connected', () => true, 5000);
    toB.cut();
    const moved = await reconnected;
    assert.equal(c.url, urlA);
    assert.ok(a.server.getConnection(moved.connectionId) !== undefined, 'moved on to the first node');
  });
});

describe('reconnect', () => {
  for (const code of [4500, 4502, 4504]) {
    it(`stops for good after the terminal close code ${code}`, async () => {
      const t = await server();
      const clock = new ManualClock();
      const wire = spy();
      const c = client(t.url, { WebSocket: wire.WebSocket, clock });
      const info = await c.connect();
      const reconnecting = record(c, 'reconnecting');
      const states = record(c, 'state');
      const disconnected = nextEvent(c, 'disconnected');
      await t.server.disconnectConnection(info.connectionId, { code, reason: 'go away' });
      assert.deepEqual(await disconnected, { code, reason: 'go away', reconnect: false });
      assert.deepEqual(states, [{ from: 'connected', to: 'disconnected', code, reason: 'go away' }]);
      assert.equal(clock.pending, 0, 'no retry armed');
      clock.advance(3_600_000);
      assert.equal(wire.sockets.length, 1);
      assert.deepEqual(reconnecting, []);
      assert.equal(c.state, 'disconnected');
    });
  }

  it('finds a dead path by the heartbeat and replaces it with one new socket, resuming the session', async () => {
    const t = await server({ heartbeatIntervalMs: 50, heartbeatTimeoutMs: 150 });
    const proxy = await proxyTo(t);
    const wire = spy();
    const c = client(proxy.url(t.url), {
      WebSocket: wire.WebSocket,
      backoff: { minDelayMs: 20, maxDelayMs: 20 },
    });
    const first = await c.connect();
    const disconnected = nextEvent(c, 'disconnected');
    const reconnected = nextEvent(c, 'connected');
    proxy.stall();
    assert.deepEqual(await disconnected, {
      code: 4000,
      reason: 'no frame from the server within the heartbeat timeout',
      reconnect: true,
    });
    const second = await reconnected;
    assert.equal(second.sessionId, first.sessionId);
    assert.equal(second.resumed, true);
    assert.notEqual(second.connectionId, first.connectionId);
    assert.equal(wire.sockets.length, 2);
    assert.equal(wire.maxLive, 1, 'never two sockets at once');
  });

  it('draws each delay from the full-jitter window and resets it only after minUptimeMs', async () => {
    const t = await server();
    const proxy = await proxyTo(t);
    const clock = new ManualClock();
    const wire = spy();
    const c = client(proxy.url(t.url), {
      WebSocket: wire.WebSocket,
      // The WebSocket's own backoff: no fallback to the HTTP transports once it failed twice.
      transports: ['websocket'],
      clock,
      backoff: { minDelayMs: 100, maxDelayMs: 800, minUptimeMs: 1000, random: () => 0.5 },
    });
    const retries: ReconnectingEvent[] = [];
    c.on('reconnecting', (e) => retries.push(e));
    proxy.refuse();
    const states = record(c, 'state');
    let next = nextEvent(c, 'reconnecting');
    const connected = c.connect();
    for (let attempt = 1; attempt <= 5; attempt++) {
      const retry = await next;
      // Half (random 0.5) of the cap, which doubles from 100 up to 800.
      assert.deepEqual(retry, { attempt, delayMs: 0.5 * Math.min(800, 100 * 2 ** (attempt - 1)) });
      next = nextEvent(c, 'reconnecting');
      if (attempt === 5) proxy.admit();
      clock.advance(retry.delayMs);
    }
    await connected;
    // Failed attempts are not state changes: the client stayed connecting throughout.
    assert.deepEqual(
      states.map((s: StateChange) => `${s.from}>${s.to}`),
      ['disconnected>connecting', 'connecting>connected'],
    );
    // Up for less than minUptimeMs: the next delay keeps growing.
    clock.advance(999);
    proxy.cut();
    assert.deepEqual(await next, { attempt: 6, delayMs: 400 });
    let reconnected = nextEvent(c, 'connected');
    clock.advance(400);
    await reconnected;
    clock.advance(1000);
    next = nextEvent(c, 'reconnecting');
    proxy.cut();
    assert.deepEqual(await next, { attempt: 1, delayMs: 50 });
    reconnected = nextEvent(c, 'connected');
    clock.advance(50);
    await reconnected;
    assert.equal(wire.maxLive, 1);
    assert.equal(retries.length, 7);
  });

  it('retries at once when the network comes back (online event), not after the delay', async () => {
    const t = await server();
    const proxy = await proxyTo(t);
    const clock = new ManualClock();
    const network = new EventTarget();
    const c = client(proxy.url(t.url), {
      clock,
      networkEvents: network,
      backoff: { minDelayMs: 60_000, maxDelayMs: 60_000, random: () => 1 },
    });
    const first = await c.connect();
    const retry = nextEvent(c, 'reconnecting');
    proxy.cut();
    assert.deepEqual(await retry, { attempt: 1, delayMs: 60_000 });
    const reconnected = nextEvent(c, 'connected');
    network.dispatchEvent(new Event('online'));
    const second = await reconnected;
    assert.equal(second.sessionId, first.sessionId);
    assert.equal(clock.now(), 0, 'the manual clock never moved');
    // close() during a delay cancels the retry.
    const again = nextEvent(c, 'reconnecting');
    proxy.cut();
    await again;
    c.close();
    assert.equal(clock.pending, 0);
    network.dispatchEvent(new Event('online'));
    assert.equal(c.state, 'closed');
  });

  it('abandons an attempt that gets no connected push within connectTimeoutMs, and tries again', async () => {
    const accepted: Socket[] = [];
    const silent = createServer((socket) => accepted.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          for (const s of accepted) s.destroy();
          silent.close(() => resolve());
        }),
    );
    const clock = new ManualClock();
    const c = client(`ws://127.0.0.1:${(silent.address() as AddressInfo).port}/ws`, {
      clock,
      connectTimeoutMs: 1000,
    });
    const disconnected = nextEvent(c, 'disconnected');
    const retry = nextEvent(c, 'reconnecting');
    void c.connect().catch(() => {});
    await new Promise<void>((resolve) => silent.once('connection', () => resolve()));
    clock.advance(999);
    assert.equal(c.state, 'connecting');
    clock.advance(1);
    assert.deepEqual(await disconnected, {
      code: 1006,
      reason: 'no connected push within 1000 ms',
      reconnect: true,
    });
    assert.equal((await retry).attempt, 1);
  });
});
