/** Subscriptions against a real server: states and events, gaps, server resubscribes, `since`, history, presence, typing. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { SwitchboardClient } from '../src/index.js';
import type { ChannelMessage, SubscribedEvent, Subscription, SubscriptionStateChange } from '../src/index.js';
import { queryUserAuthenticator } from '../../server/test/helpers.js';
import { newClient, nextEvent, testScope } from './helpers.js';
import { spy } from './socket-spy.js';

const scope = testScope();
const server = scope.server;
const cleanup = scope.defer;

/** Every message of `sub`, and a wait for the one with id `id`. */
function collect<D>(sub: Subscription<D>) {
  const seen: ChannelMessage<D>[] = [];
  const waiters: { id: number; resolve: () => void }[] = [];
  sub.on('message', (m) => {
    seen.push(m);
    for (const w of waiters.filter((w) => w.id === m.id)) w.resolve();
  });
  return {
    seen,
    ids: () => seen.map((m) => m.id),
    until: (id: number, timeoutMs = 3000): Promise<void> =>
      seen.some((m) => m.id === id)
        ? Promise.resolve()
        : new Promise((resolve, reject) => {
            const timer = setTimeout(
              () =>
                reject(
                  new Error(
                    `no message ${id} within ${timeoutMs} ms; saw ${JSON.stringify(seen.map((m) => m.id))}`,
                  ),
                ),
              timeoutMs,
            );
            waiters.push({
              id,
              resolve: () => {
                clearTimeout(timer);
                resolve();
              },
            });
          }),
  };
}

const summary = (s: SubscriptionStateChange): string => `${s.from}>${s.to}:${s.code}`;

describe('Subscription', () => {
  it('subscribes once connected, emits every state change with a code and reason, and starts fresh after unsubscribe', async () => {
    const t = await server();
    const client = newClient(t, cleanup);
    const news = client.subscription<{ text: string }>('news');
    const states: SubscriptionStateChange[] = [];
    news.on('state', (s) => states.push(s));
    assert.equal(news.state, 'unsubscribed');
    assert.equal(client.subscribe('news'), news);
    assert.equal(news.state, 'subscribing');
    assert.deepEqual(client.subscriptions(), [news]);
    await client.connect();
    const subscribed = await news.ready({ timeoutMs: 3000 });
    assert.equal(subscribed.position.offset, 0);
    assert.equal(subscribed.recovered, undefined);
    const got = collect(news);
    const all: unknown[] = [];
    client.on('message', (m) => all.push(m.id));
    for (const text of ['a', 'b', 'c']) await t.server.publish('news', { text });
    await got.until(3);
    assert.deepEqual(
      got.seen.map((m) => [m.id, m.data.text]),
      [
        [1, 'a'],
        [2, 'b'],
        [3, 'c'],
      ],
    );
    assert.deepEqual(all, [1, 2, 3]);
    assert.deepEqual(news.position, { offset: 3, epoch: subscribed.position.epoch });
    await news.unsubscribe();
    assert.equal(news.position, null);
    await t.server.publish('news', { text: 'missed on purpose' });
    news.subscribe();
    const again = await news.ready({ timeoutMs: 3000 });
    assert.equal(again.position.offset, 4);
    assert.equal(again.replayed, 0);
    assert.deepEqual(states.map(summary), [
      'unsubscribed>subscribing:0',
      'subscribing>subscribed:1',
      'subscribed>unsubscribed:2',
      'unsubscribed>subscribing:0',
      'subscribing>subscribed:1',
    ]);
    assert.deepEqual(
      states.map((s) => s.reason),
      ['subscribe() called', 'subscribed', 'unsubscribe() called', 'subscribe() called', 'subscribed'],
    );
    await assert.rejects(
      (async () => {
        await client.removeSubscription('news');
        return news.ready();
      })(),
      { name: 'UnsubscribedError', code: 'unsubscribed' },
    );
    assert.deepEqual(client.subscriptions(), []);
  });

  it('re-syncs when a message goes missing in transit: every id once, in order', async () => {
    const t = await server();
    const wire = spy();
    const client = new SwitchboardClient(t.url, { WebSocket: wire.WebSocket });
    cleanup(() => client.close());
    await client.connect();
    const sub = client.subscribe('feed');
    await sub.ready({ timeoutMs: 3000 });
    const states: SubscriptionStateChange[] = [];
    sub.on('state', (s) => states.push(s));
    const resynced = nextSubscribed(sub);
    const got = collect(sub);
    wire.sockets[0]?.dropIncoming((f) => f['type'] === 'message' && f['id'] === 3);
    for (let i = 1; i <= 6; i++) await t.server.publish('feed', i);
    await got.until(6);
    assert.deepEqual(got.ids(), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(states.map(summary), ['subscribed>subscribing:4', 'subscribing>subscribed:1']);
    assert.equal(states[0]?.reason, 'message 4 arrived after 2; re-syncing from 2');
    const event = await resynced;
    assert.equal(event.recovered, true);
    assert.ok(event.replayed >= 1);
    assert.equal(sub.recovered, true);
    assert.equal(wire.sockets.length, 1);
  });

  it('an unsubscribed push with resubscribe: true re-syncs from the position; with false it ends', async () => {
    const t = await server();
    const wire = spy();
    const client = new SwitchboardClient(t.url, { WebSocket: wire.WebSocket });
    cleanup(() => client.close());
    await client.connect();
    const sub = client.subscribe('feed');
    await sub.ready({ timeoutMs: 3000 });
    const got = collect(sub);
    await t.server.publish('feed', 1);
    await got.until(1);
    const states: SubscriptionStateChange[] = [];
    sub.on('state', (s) => states.push(s));
    const resynced = nextSubscribed(sub);
    const reason = 'messages were lost in transit; resubscribe from your position';
    wire.sockets[0]?.inject({ type: 'unsubscribed', channel: 'feed', resubscribe: true, reason });
    assert.equal(sub.state, 'subscribing');
    await t.server.publish('feed', 2);
    assert.deepEqual((await resynced).position.offset >= 1, true);
    await t.server.publish('feed', 3);
    await got.until(3);
    assert.deepEqual(got.ids(), [1, 2, 3]);
    assert.deepEqual(states.map(summary), ['subscribed>subscribing:5', 'subscribing>subscribed:1']);
    assert.equal(states[0]?.reason, reason);
    wire.sockets[0]?.inject({ type: 'unsubscribed', channel: 'feed', resubscribe: false, reason: 'removed' });
    assert.equal(sub.state, 'unsubscribed');
    assert.deepEqual(states.map(summary).at(-1), 'subscribed>unsubscribed:6');
  });

  it('takes over a subscription the server already held without it (a raw subscribe) and delivers once', async () => {
    const t = await server();
    const client = newClient(t, cleanup, { backoff: { minDelayMs: 10, maxDelayMs: 10 } });
    await client.connect();
    await client.request({ type: 'subscribe', channel: 'taken' });
    const sub = client.subscription('taken');
    const refused = new Promise<Error>((resolve) => sub.once('error', (e) => resolve(e.error)));
    sub.subscribe();
    assert.equal((await refused).message, 'already subscribed to taken');
    await sub.ready({ timeoutMs: 3000 });
    const got = collect(sub);
    await t.server.publish('taken', 'once');
    await got.until(1);
    await client.ping();
    assert.deepEqual(got.ids(), [1]);
  });

  it('since: starts after a saved position, replays what came after it, and reports a stale position as lost', async () => {
    const t = await server();
    for (let i = 1; i <= 5; i++) await t.server.publish('log', i);
    const { epoch } = await t.server.channelInfo('log');
    const client = newClient(t, cleanup);
    await client.connect();
    const sub = client.subscribe('log', { since: { offset: 2, epoch } });
    const got = collect(sub);
    const event = await sub.ready({ timeoutMs: 3000 });
    assert.deepEqual(event, { channel: 'log', position: { offset: 5, epoch }, replayed: 3, recovered: true });
    assert.deepEqual(got.ids(), [3, 4, 5]);

    const other = newClient(t, cleanup);
    await other.connect();
    const stale = other.subscribe('log', { since: { offset: 2, epoch: 'an-old-epoch' } });
    const lost = new Promise((resolve) => stale.once('stateLost', resolve));
    const clientLost = nextEvent(other, 'stateLost');
    const outcome = await stale.ready({ timeoutMs: 3000 });
    assert.equal(outcome.recovered, false);
    assert.equal(stale.recovered, false);
    const expected = {
      channel: 'log',
      since: { offset: 2, epoch: 'an-old-epoch' },
      position: { offset: 5, epoch },
      reason: 'the channel stream was reset (new epoch)',
    };
    assert.deepEqual(await lost, expected);
    assert.deepEqual(await clientLost, expected);
  });

  it('history, presence and presence stats, from the client and from a subscription', async () => {
    const t = await server({
      authenticator: queryUserAuthenticator,
      presenceGraceMs: 0,
      channels: [{ pattern: 'room:*', presence: true }],
    });
    const client = new SwitchboardClient(`${t.url}?user=alice`, { WebSocket });
    cleanup(() => client.close());
    await client.connect();
    const room = client.subscribe('room:1');
    await room.ready({ timeoutMs: 3000 });
    for (let i = 1; i <= 3; i++) await room.publish({ n: i });
    const page = await client.history('room:1', { since: 1, limit: 1 });
    assert.deepEqual(
      { ...page, messages: page.messages.map((m) => [m.id, m.data]) },
      {
        channel: 'room:1',
        offset: 3,
        epoch: room.position?.epoch,
        messages: [[2, { n: 2 }]],
        complete: true,
      },
    );
    assert.equal((await room.history()).messages.length, 3);
    assert.deepEqual(await room.presence(), {
      channel: 'room:1',
      users: [{ userId: 'alice', connections: 1 }],
    });
    assert.deepEqual(await client.presenceStats('room:1'), { channel: 'room:1', users: 1, connections: 1 });
    await assert.rejects(client.presence('news'), { name: 'ServerError', code: 'not_available' });
  });

  it('typing(): ephemeral start and stop reach the others, never the typist', async () => {
    const t = await server();
    const alice = newClient(t, cleanup);
    const bob = newClient(t, cleanup);
    await Promise.all([alice.connect(), bob.connect()]);
    const aliceRoom = alice.subscribe('room');
    const bobRoom = bob.subscribe('room');
    await Promise.all([aliceRoom.ready({ timeoutMs: 3000 }), bobRoom.ready({ timeoutMs: 3000 })]);
    const aliceSaw: unknown[] = [];
    aliceRoom.on('message', (m) => aliceSaw.push(m.data));
    const typing = alice.typing('room', { idleMs: 20 });
    const start = nextEvent(bob, 'message');
    typing.keystroke();
    typing.keystroke();
    const started = await start;
    assert.deepEqual(started.data, { typing: true });
    assert.equal(started.id, undefined);
    const stop = await nextEvent(bob, 'message');
    assert.deepEqual(stop.data, { typing: false });
    assert.equal(typing.typing, false);
    await alice.ping();
    assert.deepEqual(aliceSaw, []);
  });
});

/** The next `subscribed` event of `sub`. */
function nextSubscribed(sub: Subscription): Promise<SubscribedEvent> {
  return new Promise((resolve) => sub.once('subscribed', resolve));
}
