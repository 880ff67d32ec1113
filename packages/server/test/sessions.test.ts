// Session resume within the grace period, replacement by a newer connection, and the step-7 race.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectV1, queryUserAuthenticator, startServer } from './helpers.js';
import type { TestClient, TestServer } from './helpers.js';
import type { ConnectionInfo } from '../src/index.js';

async function resume(
  t: TestServer,
  sessionId: string,
  user = '',
): Promise<{ client: TestClient; connected: Record<string, unknown> }> {
  const query = `?session=${encodeURIComponent(sessionId)}${user === '' ? '' : `&user=${user}`}`;
  return connectV1(t, {}, query);
}

test('a client reconnecting within the grace resumes: subscriptions restored, missed messages replayed, then live', async () => {
  const t = await startServer({ sessionGraceMs: 5000 });
  try {
    const first = await connectV1(t);
    await first.client.request({ id: 1, type: 'subscribe', channel: 'a' });
    await first.client.request({ id: 2, type: 'subscribe', channel: 'b' });
    await t.server.publish('a', 'a1');
    await first.client.nextOfType('message');
    first.client.close();
    await first.client.closed;
    await t.server.publish('a', 'a2');
    await t.server.publish('b', 'b1');
    const back = await resume(t, first.connected['sessionId'] as string);
    assert.equal(back.connected['resumed'], true);
    assert.equal(back.connected['sessionId'], first.connected['sessionId']);
    assert.notEqual(back.connected['connectionId'], first.connected['connectionId']);
    const restored = back.connected['subscriptions'] as {
      channel: string;
      recovered: boolean;
      offset: number;
    }[];
    assert.deepEqual(restored.map((s) => [s.channel, s.recovered, s.offset]).sort(), [
      ['a', true, 2],
      ['b', true, 1],
    ]);
    const replayed = [await back.client.nextOfType('message'), await back.client.nextOfType('message')];
    assert.deepEqual(replayed.map((m) => [m['channel'], m['id'], m['data']]).sort(), [
      ['a', 2, 'a2'],
      ['b', 1, 'b1'],
    ]);
    await t.server.publish('a', 'a3');
    assert.deepEqual((await back.client.nextOfType('message'))['data'], 'a3');
    assert.deepEqual(
      t.server
        .getConnection(back.connected['connectionId'] as string)
        ?.channels()
        .sort(),
      ['a', 'b'],
    );
    assert.equal(t.server.stats().sessions.resumed, 1);
    back.client.close();
  } finally {
    await t.stop();
  }
});

test('after the grace period the session is gone: a fresh session, nothing restored', async () => {
  const t = await startServer({ sessionGraceMs: 30 });
  try {
    const first = await connectV1(t);
    await first.client.request({ id: 1, type: 'subscribe', channel: 'a' });
    first.client.close();
    await first.client.closed;
    const deadline = Date.now() + 3000;
    while (t.server.stats().sessions.detached > 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    const back = await resume(t, first.connected['sessionId'] as string);
    assert.equal(back.connected['resumed'], undefined);
    assert.notEqual(back.connected['sessionId'], first.connected['sessionId']);
    assert.deepEqual(t.server.getConnection(back.connected['connectionId'] as string)?.channels(), []);
    back.client.close();
  } finally {
    await t.stop();
  }
});

test('a newer connection replaces the older (4500), and the old one’s cleanup never removes the new one’s state', async () => {
  const disconnects: ConnectionInfo[] = [];
  const t = await startServer({ onDisconnect: (c) => void disconnects.push(c) });
  try {
    const first = await connectV1(t);
    await first.client.request({ id: 1, type: 'subscribe', channel: 'shared' });
    const sessionId = first.connected['sessionId'] as string;
    const second = await resume(t, sessionId);
    assert.deepEqual(await first.client.closed, { code: 4500, reason: 'replaced by a newer connection' });
    assert.equal(second.connected['resumed'], true);
    // The old connection is fully gone now; the new one still holds the subscription and the session.
    assert.ok(disconnects.some((c) => c.id === first.connected['connectionId']));
    await t.server.publish('shared', 'after replace');
    assert.equal((await second.client.nextOfType('message'))['data'], 'after replace');
    // ... and the session is still resumable from the new connection.
    second.client.close();
    await second.client.closed;
    const third = await resume(t, sessionId);
    assert.equal(third.connected['resumed'], true);
    assert.deepEqual(t.server.getConnection(third.connected['connectionId'] as string)?.channels(), [
      'shared',
    ]);
    third.client.close();
  } finally {
    await t.stop();
  }
});

test('a session belongs to its user: another user cannot resume it', async () => {
  const t = await startServer({ authenticator: queryUserAuthenticator });
  try {
    const alice = await connectV1(t, {}, '?user=alice');
    const sessionId = alice.connected['sessionId'] as string;
    const mallory = await resume(t, sessionId, 'mallory');
    assert.equal(mallory.connected['resumed'], undefined);
    assert.notEqual(mallory.connected['sessionId'], sessionId);
    assert.equal(
      t.server.getConnection(alice.connected['connectionId'] as string)?.userId,
      'alice',
      'alice was not replaced',
    );
    alice.client.close();
    mallory.client.close();
  } finally {
    await t.stop();
  }
});

test('application data kept on the session survives a resume', async () => {
  const t = await startServer({
    onConnect: (c) => {
      c.data.set('visits', ((c.data.get('visits') as number | undefined) ?? 0) + 1);
    },
  });
  try {
    const first = await connectV1(t);
    first.client.close();
    await first.client.closed;
    const back = await resume(t, first.connected['sessionId'] as string);
    assert.equal(t.server.getConnection(back.connected['connectionId'] as string)?.data.get('visits'), 2);
    back.client.close();
  } finally {
    await t.stop();
  }
});

test('an oversized session id is refused before the upgrade', async () => {
  const t = await startServer();
  try {
    const { upgradeStatus } = await import('./helpers.js');
    assert.equal((await upgradeStatus(`${t.wsUrl}/ws?session=${'x'.repeat(65)}`)).status, 400);
  } finally {
    await t.stop();
  }
});
