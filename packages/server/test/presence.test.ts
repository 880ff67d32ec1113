// Presence per channel with a grace period: reloads and tunnels cause no leave/join flapping.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectV1, startServer } from './helpers.js';
import type { TestClient } from './helpers.js';
import type { Authenticator } from '../src/index.js';

const withInfo: Authenticator = {
  authenticate: (request) => {
    const user = request.url.searchParams.get('user');
    return Promise.resolve({
      ok: true,
      principal: user === null ? { userId: null } : { userId: user, info: { name: user.toUpperCase() } },
    });
  },
};

async function join(
  t: Parameters<typeof connectV1>[0],
  user: string,
  channel = 'room:1',
): Promise<TestClient> {
  const { client } = await connectV1(t, {}, `?user=${user}`);
  await client.request({ id: 1, type: 'subscribe', channel });
  return client;
}

/** Presence state has no client-visible event once a join settled; the marker orders it. */
async function settle(
  observer: TestClient,
  t: { server: { publish: (c: string, d: unknown) => Promise<unknown> } },
): Promise<void> {
  await t.server.publish('room:1', 'marker');
  await observer.next((m) => m['type'] === 'message' && m['data'] === 'marker');
}

test('presence lists users with connection counts and info; stats count them', async () => {
  const t = await startServer({ authenticator: withInfo, channels: [{ pattern: 'room:*', presence: true }] });
  try {
    const ann1 = await join(t, 'ann');
    const ann2 = await join(t, 'ann');
    const bob = await join(t, 'bob');
    await settle(bob, t);
    const presence = (await bob.request({ id: 2, type: 'presence', channel: 'room:1' }))['result'] as {
      users: { userId: string; connections: number; info: unknown }[];
    };
    assert.deepEqual(
      presence.users.sort((a, b) => a.userId.localeCompare(b.userId)),
      [
        { userId: 'ann', connections: 2, info: { name: 'ANN' } },
        { userId: 'bob', connections: 1, info: { name: 'BOB' } },
      ],
    );
    assert.deepEqual((await bob.request({ id: 3, type: 'presence_stats', channel: 'room:1' }))['result'], {
      channel: 'room:1',
      users: 2,
      connections: 3,
    });
    assert.deepEqual(await t.server.presenceStats('room:1'), { users: 2, connections: 3 });
    const off = await bob.request({ id: 4, type: 'presence', channel: 'elsewhere' });
    assert.equal((off['error'] as { code: string }).code, 'not_available');
    for (const c of [ann1, ann2, bob]) c.close();
  } finally {
    await t.stop();
  }
});

test('a reconnect inside the grace gives no leave and no join; one tab of two leaving gives nothing either', async () => {
  const t = await startServer({
    authenticator: withInfo,
    presenceGraceMs: 300,
    channels: [{ pattern: 'room:*', presence: true }],
  });
  try {
    const observer = await join(t, 'olga');
    const tab1 = await join(t, 'pete');
    assert.equal((await observer.nextOfType('join'))['userId'], 'pete');
    const tab2 = await join(t, 'pete');
    tab1.close(); // pete still has tab2
    await tab1.closed;
    tab2.close(); // pete's last connection: the grace starts
    await tab2.closed;
    const reload = await join(t, 'pete'); // back within 300 ms
    await settle(observer, t);
    // wait past the original grace, ordered by a second marker after it
    await new Promise((r) => setTimeout(r, 400)); // the grace is wall-clock time on the server
    await settle(observer, t);
    assert.deepEqual(
      observer.pending().filter((m) => ['join', 'leave'].includes((m as { type: string }).type)),
      [],
      'no leave/join flapping',
    );
    reload.close();
    observer.close();
  } finally {
    await t.stop();
  }
});

test('outside the grace, exactly one leave', async () => {
  const t = await startServer({
    authenticator: withInfo,
    presenceGraceMs: 50,
    channels: [{ pattern: 'room:*', presence: true }],
  });
  try {
    const observer = await join(t, 'olga');
    const gone = await join(t, 'quinn');
    assert.equal((await observer.nextOfType('join'))['userId'], 'quinn');
    gone.close();
    const leave = await observer.nextOfType('leave', 3000);
    assert.deepEqual(
      { ...leave, time: 0 },
      { type: 'leave', channel: 'room:1', userId: 'quinn', info: { name: 'QUINN' }, time: 0 },
    );
    await new Promise((r) => setTimeout(r, 150)); // three more grace periods: no second leave
    await settle(observer, t);
    assert.equal(observer.pending().filter((m) => (m as { type: string }).type === 'leave').length, 0);
    const presence = await t.server.presence('room:1');
    assert.deepEqual(
      presence.map((p) => p.userId),
      ['olga'],
    );
    observer.close();
  } finally {
    await t.stop();
  }
});

test('anonymous connections are present one by one', async () => {
  const t = await startServer({ presenceGraceMs: 0, channels: [{ pattern: 'room:*', presence: true }] });
  try {
    const a = await connectV1(t);
    await a.client.request({ id: 1, type: 'subscribe', channel: 'room:1' });
    const b = await connectV1(t);
    await b.client.request({ id: 1, type: 'subscribe', channel: 'room:1' });
    const joinEvent = await a.client.nextOfType('join');
    assert.deepEqual([joinEvent['userId'], joinEvent['connectionId']], [null, b.connected['connectionId']]);
    b.client.close();
    assert.equal((await a.client.nextOfType('leave'))['connectionId'], b.connected['connectionId']);
    a.client.close();
  } finally {
    await t.stop();
  }
});
