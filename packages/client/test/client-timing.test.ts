/**
 * Time-driven behaviour: request timeouts, answering the server's pings, and detecting a silent server.
 * The client runs on a ManualClock, so its timers fire only when a test advances it; the server runs on
 * real time with short heartbeat settings where its side matters.
 */
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RequestTimeoutError, SwitchboardClient } from '../src/index.js';
import { nextEvent, record, startServer } from './helpers.js';
import type { TestServer } from './helpers.js';
import { ManualClock } from './manual-clock.js';
import { tap } from './tap-websocket.js';

let cleanups: (() => void)[] = [];
let servers: TestServer[] = [];

async function server(options: Parameters<typeof startServer>[0] = {}): Promise<TestServer> {
  const t = await startServer(options);
  servers.push(t);
  return t;
}

/** A client of `t` on a manual clock, its sockets tapped. */
function tappedClient(t: TestServer, options: { requestTimeoutMs?: number } = {}) {
  const clock = new ManualClock();
  // ws answers the server's protocol-level pings by itself; off, so the client's own pongs are tested.
  const wire = tap({ autoPong: false });
  const client = new SwitchboardClient(t.url, { WebSocket: wire.WebSocket, clock, ...options });
  cleanups.push(() => client.close());
  const socket = () => {
    const s = wire.sockets[wire.sockets.length - 1];
    assert.ok(s, 'no socket opened yet');
    return s;
  };
  const sockets = (): number => wire.sockets.length;
  return { client, clock, socket, sockets };
}

beforeEach(() => {
  cleanups = [];
  servers = [];
});

afterEach(async () => {
  for (const fn of cleanups) fn();
  await Promise.all(servers.map((t) => t.stop()));
});

describe('request timeout', () => {
  it('rejects with RequestTimeoutError when no reply arrives in time, and the client stays connected', async () => {
    const t = await server({ onMessage: () => new Promise(() => {}) });
    const { client, clock } = tappedClient(t, { requestTimeoutMs: 1000 });
    await client.connect();
    const first = client.send('never answered');
    clock.advance(500);
    const second = client.send('never answered', { timeoutMs: 200 });
    clock.advance(200);
    await assert.rejects(second, (error: unknown) => {
      assert.ok(error instanceof RequestTimeoutError);
      assert.equal(error.code, 'request_timeout');
      assert.equal(error.command, 'send');
      assert.equal(error.timeoutMs, 200);
      return true;
    });
    let firstSettled = false;
    void first.catch(() => {}).finally(() => (firstSettled = true));
    await Promise.resolve();
    assert.equal(firstSettled, false);
    clock.advance(300);
    await assert.rejects(first, { name: 'RequestTimeoutError', timeoutMs: 1000 });
    assert.equal(client.state, 'connected');
    assert.deepEqual(await client.request({ type: 'ping' }), {});
  });

  it('rejects an invalid per-request timeout', async () => {
    const t = await server();
    const { client } = tappedClient(t);
    await client.connect();
    await assert.rejects(client.ping({ timeoutMs: -5 }), { name: 'InvalidOptionError', option: 'timeoutMs' });
  });
});

describe('server pings', () => {
  it('are answered with pong, which keeps the connection alive past the heartbeat timeout', async () => {
    // Server: ping after 25 ms of silence, close after 150 ms. The client's own heartbeat is frozen
    // (its clock never moves) and ws does not answer protocol pings, so only the client's pongs speak.
    const t = await server({ heartbeatIntervalMs: 50, heartbeatTimeoutMs: 150 });
    const { client, socket } = tappedClient(t);
    const disconnected = record(client, 'disconnected');
    await client.connect();
    const pongs = (): number => socket().sent.filter((f) => f['type'] === 'pong').length;
    // Eight pongs span about eight intervals (400 ms), well past the 150 ms timeout.
    await socket().until(() => pongs() >= 8, 'eight pongs');
    assert.equal(socket().sent.filter((f) => f['type'] !== 'pong').length, 0);
    assert.ok(pongs() >= socket().received.filter((f) => f['type'] === 'ping').length - 1, 'a pong per ping');
    assert.equal(client.state, 'connected');
    assert.deepEqual(disconnected, []);
    assert.deepEqual(await client.request({ type: 'ping' }), {});
  });

  it('unanswered, get the connection closed by the server with 4000 (control for the test above)', async () => {
    const t = await server({ heartbeatIntervalMs: 50, heartbeatTimeoutMs: 150 });
    const { client, socket } = tappedClient(t);
    await client.connect();
    socket().blockIncoming();
    const disconnected = await nextEvent(client, 'disconnected');
    assert.deepEqual(disconnected, { code: 4000, reason: 'heartbeat timeout', reconnect: true });
    assert.equal(socket().sent.length, 0);
  });
});

describe('client heartbeat', () => {
  it('pings a server silent for 1.5 intervals; the reply resets the silence', async () => {
    const t = await server({ heartbeatIntervalMs: 10_000, heartbeatTimeoutMs: 30_000 });
    const { client, clock, socket } = tappedClient(t);
    await client.connect();
    clock.advance(14_999);
    assert.equal(socket().sent.length, 0);
    clock.advance(1);
    const ping = socket().sent[0];
    assert.equal(ping?.['type'], 'ping');
    assert.equal(typeof ping?.['id'], 'number');
    await socket().until(
      (s) => s.received.some((f) => f['type'] === 'reply' && f['id'] === ping?.['id']),
      'the ping reply',
    );
    // The reply (at 15 s) restarted the silence: a second ping 15 s later, and the timeout counts from the
    // reply too. Without it the server would have been dead at 30 s; now it is at 45 s.
    clock.advance(14_999);
    assert.equal(socket().sent.length, 1);
    clock.advance(1);
    assert.deepEqual(
      socket().sent.map((f) => f['type']),
      ['ping', 'ping'],
    );
    clock.advance(14_999);
    assert.equal(client.state, 'connected');
    clock.advance(1);
    // Given up as dead; the client reconnects on its own (its retry waits for the manual clock).
    assert.equal(client.state, 'connecting');
  });

  it('gives a server silent for the timeout up as dead: closes with 4000, then reconnects after a backoff delay', async () => {
    const t = await server({
      heartbeatIntervalMs: 10_000,
      heartbeatTimeoutMs: 30_000,
      onMessage: () => new Promise(() => {}),
    });
    const { client, clock, socket, sockets } = tappedClient(t);
    await client.connect();
    socket().blockIncoming();
    const pending = client.send('lost', { timeoutMs: 60_000 });
    const states = record(client, 'state');
    const disconnected = record(client, 'disconnected');
    clock.advance(15_000);
    assert.deepEqual(
      socket().sent.map((f) => f['type']),
      ['send', 'ping'],
    );
    clock.advance(14_999);
    assert.equal(client.state, 'connected');
    clock.advance(1);
    const reason = 'no frame from the server within the heartbeat timeout';
    assert.equal(client.state, 'connecting');
    assert.deepEqual(states, [{ from: 'connected', to: 'connecting', code: 4000, reason }]);
    assert.deepEqual(disconnected, [{ code: 4000, reason, reconnect: true }]);
    assert.deepEqual(socket().closeCalls, [{ code: 4000, reason }]);
    await assert.rejects(pending, { name: 'ConnectionClosedError', closeCode: 4000, reconnect: true });
    // Only the retry is armed; the old socket's timers are gone and no second socket is open yet.
    assert.equal(clock.pending, 1);
    assert.equal(sockets(), 1);
    const reconnected = nextEvent(client, 'connected');
    clock.advance(500);
    assert.equal(sockets(), 2);
    const info = await reconnected;
    assert.equal(info.resumed, true);
    assert.equal(client.state, 'connected');
  });
});
