/**
 * Recovery across reconnects, with the path cut for real by a TCP proxy: session resume, messages
 * published while away replayed exactly once, the resumed session that ran ahead of what the client
 * received, a second instance replacing the first (4500, no reconnect), and honest state loss.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { SwitchboardClient } from '../src/index.js';
import type { ClientOptions, StateLostEvent, SubscribedEvent, Subscription } from '../src/index.js';
import { nextEvent, record, testScope, ids } from './helpers.js';
import type { TestServer } from './helpers.js';
import { ManualClock } from './manual-clock.js';
import { spy } from './socket-spy.js';
import { TcpProxy } from './tcp-proxy.js';

const scope = testScope({ shutdownTimeoutMs: 200 });
const server = scope.server;

async function proxied(t: TestServer, options: ClientOptions = {}) {
  const proxy = await TcpProxy.start(t.url);
  scope.defer(() => proxy.close());
  const c = new SwitchboardClient(proxy.url(t.url), {
    WebSocket,
    backoff: { minDelayMs: 5, maxDelayMs: 20 },
    ...options,
  });
  scope.defer(() => c.close());
  return { proxy, c };
}

function nextSubscribed(sub: Subscription): Promise<SubscribedEvent> {
  return new Promise((resolve) => sub.once('subscribed', resolve));
}

async function publish(t: TestServer, channel: string, from: number, to: number): Promise<void> {
  for (let i = from; i <= to; i++) await t.server.publish(channel, i);
}

/** Cut the client off and keep it off until `admit()`; resolves once it noticed. */
async function outage(proxy: TcpProxy, c: SwitchboardClient): Promise<void> {
  proxy.refuse();
  const disconnected = nextEvent(c, 'disconnected');
  proxy.cut();
  await disconnected;
}

describe('recovery', () => {
  it('resumes the session within the grace period and replays what was missed, exactly once', async () => {
    const t = await server();
    const { proxy, c } = await proxied(t);
    const first = await c.connect();
    const chat = c.subscribe('chat');
    await chat.ready({ timeoutMs: 3000 });
    const got = ids(chat);
    await publish(t, 'chat', 1, 3);
    await got.until(3);
    await outage(proxy, c);
    assert.equal(chat.state, 'subscribing');
    await publish(t, 'chat', 4, 8);
    const reconnected = nextEvent(c, 'connected');
    const recovered = nextSubscribed(chat);
    proxy.admit();
    const second = await reconnected;
    assert.equal(second.sessionId, first.sessionId);
    assert.equal(second.resumed, true);
    const event = await recovered;
    assert.equal(event.recovered, true);
    await publish(t, 'chat', 9, 9);
    await got.until(9);
    assert.deepEqual(got.seen, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('recovers a channel that had no message yet when the connection dropped', async () => {
    const t = await server();
    const { proxy, c } = await proxied(t);
    await c.connect();
    const quiet = c.subscribe('quiet');
    await quiet.ready({ timeoutMs: 3000 });
    const got = ids(quiet);
    await outage(proxy, c);
    await publish(t, 'quiet', 1, 3);
    const recovered = nextSubscribed(quiet);
    proxy.admit();
    assert.equal((await recovered).recovered, true);
    await got.until(3);
    assert.deepEqual(got.seen, [1, 2, 3]);
  });

  it('re-syncs a resumed subscription from its own position when the server wrote into the dead socket', async () => {
    const t = await server();
    const { proxy, c } = await proxied(t);
    await c.connect();
    const feed = c.subscribe('feed');
    await feed.ready({ timeoutMs: 3000 });
    const got = ids(feed);
    await publish(t, 'feed', 1, 2);
    await got.until(2);
    // The client's side drops; the server's side stays up for a while and takes 3..6 as delivered.
    proxy.refuse();
    const disconnected = nextEvent(c, 'disconnected');
    proxy.cut({ orphanMs: 400 });
    await disconnected;
    await publish(t, 'feed', 3, 6);
    const reconnected = nextEvent(c, 'connected');
    proxy.admit();
    // The server still holds the old connection: the resume replaces it and restores from 6.
    assert.equal((await reconnected).resumed, true);
    await got.until(6);
    assert.deepEqual(got.seen, [1, 2, 3, 4, 5, 6]);
    assert.equal(feed.recovered, true);
  });

  it('a second instance presenting the same session replaces the first, which gets 4500 and stays down', async () => {
    const t = await server();
    const clock = new ManualClock();
    const wire = spy();
    const a = new SwitchboardClient(t.url, { WebSocket: wire.WebSocket, clock });
    scope.defer(() => a.close());
    const info = await a.connect();
    await a.subscribe('shared').ready({ timeoutMs: 3000 });
    const reconnecting = record(a, 'reconnecting');
    const replaced = nextEvent(a, 'disconnected');
    const b = new SwitchboardClient(t.url, { WebSocket, sessionId: info.sessionId });
    scope.defer(() => b.close());
    const taken = await b.connect();
    assert.equal(taken.sessionId, info.sessionId);
    assert.equal(taken.resumed, true);
    assert.deepEqual(await replaced, {
      code: 4500,
      reason: 'replaced by a newer connection',
      reconnect: false,
    });
    assert.equal(a.state, 'disconnected');
    assert.equal(clock.pending, 0);
    clock.advance(3_600_000);
    assert.equal(wire.sockets.length, 1);
    assert.deepEqual(reconnecting, []);
    // b never subscribed to the channel the session held: it dropped it.
    await b.ping();
    assert.deepEqual(t.server.getConnection(taken.connectionId)?.channels(), []);
    // Connecting a again does not take the session back from b.
    const fresh = await a.connect();
    assert.notEqual(fresh.sessionId, info.sessionId);
    assert.equal(fresh.resumed, false);
    assert.equal(b.state, 'connected');
  });

  it('reports a cut longer than the history window as state lost, then continues from the new position', async () => {
    const t = await server({ historySize: 5 });
    const { proxy, c } = await proxied(t);
    await c.connect();
    const room = c.subscribe('room');
    const first = await room.ready({ timeoutMs: 3000 });
    const got = ids(room);
    await publish(t, 'room', 1, 2);
    await got.until(2);
    await outage(proxy, c);
    await publish(t, 'room', 3, 20);
    const lost = new Promise<StateLostEvent>((resolve) => room.once('stateLost', resolve));
    const clientLost = nextEvent(c, 'stateLost');
    const resubscribed = nextSubscribed(room);
    proxy.admit();
    const epoch = first.position.epoch;
    const expected = {
      channel: 'room',
      since: { offset: 2, epoch },
      position: { offset: 20, epoch },
      reason: "messages after 2 are no longer in the channel's history",
    };
    assert.deepEqual(await lost, expected);
    assert.deepEqual(await clientLost, expected);
    assert.deepEqual(await resubscribed, {
      channel: 'room',
      position: { offset: 20, epoch },
      replayed: 0,
      recovered: false,
    });
    assert.equal(room.recovered, false);
    await publish(t, 'room', 21, 22);
    await got.until(22);
    assert.deepEqual(got.seen, [1, 2, 21, 22]);
  });

  it('without resume, gets a new session and still recovers from its own position', async () => {
    const t = await server();
    const { proxy, c } = await proxied(t, { resume: false });
    const first = await c.connect();
    const chat = c.subscribe('chat');
    await chat.ready({ timeoutMs: 3000 });
    const got = ids(chat);
    await publish(t, 'chat', 1, 1);
    await got.until(1);
    await outage(proxy, c);
    await publish(t, 'chat', 2, 4);
    const reconnected = nextEvent(c, 'connected');
    proxy.admit();
    const second = await reconnected;
    assert.notEqual(second.sessionId, first.sessionId);
    assert.equal(second.resumed, false);
    await got.until(4);
    assert.deepEqual(got.seen, [1, 2, 3, 4]);
    assert.equal(chat.recovered, true);
  });

  it('drops what a resumed session still held for channels unsubscribed or removed while offline', async () => {
    const t = await server();
    const { proxy, c } = await proxied(t);
    await c.connect();
    const keep = c.subscribe('keep');
    const gone = c.subscribe('gone');
    c.subscribe('removed');
    await Promise.all([keep, gone, c.subscription('removed')].map((s) => s.ready({ timeoutMs: 3000 })));
    const all: string[] = [];
    c.on('message', (m) => all.push(`${m.channel}:${String(m.id)}`));
    const goneSeen = ids(gone);
    const keepSeen = ids(keep);
    await outage(proxy, c);
    await gone.unsubscribe();
    await c.removeSubscription('removed');
    await publish(t, 'gone', 1, 2);
    await publish(t, 'removed', 1, 2);
    await publish(t, 'keep', 1, 1);
    const reconnected = nextEvent(c, 'connected');
    proxy.admit();
    const info = await reconnected;
    assert.equal(info.resumed, true);
    await keepSeen.until(1);
    await c.ping();
    assert.deepEqual(goneSeen.seen, []);
    assert.deepEqual(all, ['keep:1']);
    assert.deepEqual(t.server.getConnection(info.connectionId)?.channels(), ['keep']);
  });
});
