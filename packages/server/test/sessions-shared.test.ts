// Sessions in a shared store (the Redis engine's seam, here its in-memory implementation shared by two
// servers): a client resumes on another node with the same session, its subscriptions and its data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectV1, queryUserAuthenticator, startServer } from './helpers.js';
import type { TestServer } from './helpers.js';
import { createMemoryEngine } from '../src/index.js';
import type { ServerOptions } from '../src/index.js';
import { MemorySessionStore } from '../src/sessions/memory-session-store.js';

async function twoNodes(options: ServerOptions = {}): Promise<[TestServer, TestServer]> {
  const sessions = new MemorySessionStore();
  const node = (): Promise<TestServer> =>
    startServer({
      sessionGraceMs: 5000,
      engine: { ...createMemoryEngine(), sessions },
      onConnect: (c) => {
        c.data.set('visits', ((c.data.get('visits') as number | undefined) ?? 0) + 1);
      },
      ...options,
    });
  return [await node(), await node()];
}

test('a session released on node A resumes on node B: same id, subscriptions and data', async () => {
  const [a, b] = await twoNodes();
  try {
    const first = await connectV1(a);
    await first.client.request({ id: 1, type: 'subscribe', channel: 'news' });
    first.client.close();
    await first.client.closed;
    const sessionId = first.connected['sessionId'] as string;
    const back = await connectV1(b, {}, `?session=${encodeURIComponent(sessionId)}`);
    assert.equal(back.connected['resumed'], true);
    assert.equal(back.connected['sessionId'], sessionId);
    const restored = back.connected['subscriptions'] as { channel: string }[];
    assert.deepEqual(
      restored.map((s) => s.channel),
      ['news'],
    );
    const connection = b.server.getConnection(back.connected['connectionId'] as string);
    assert.equal(connection?.data.get('visits'), 2, 'onConnect saw the resumed data');
    assert.deepEqual(connection?.channels(), ['news']);
    await b.server.publish('news', 'live');
    assert.equal((await back.client.nextOfType('message'))['data'], 'live');
    assert.equal(b.server.stats().sessions.resumed, 1);
    back.client.close();
  } finally {
    await a.stop();
    await b.stop();
  }
});

test('a shared session is taken once, and never by another user', async () => {
  const [a, b] = await twoNodes({ authenticator: queryUserAuthenticator });
  try {
    const alice = await connectV1(a, {}, '?user=alice');
    alice.client.close();
    await alice.client.closed;
    const sessionId = encodeURIComponent(alice.connected['sessionId'] as string);
    const mallory = await connectV1(b, {}, `?user=mallory&session=${sessionId}`);
    assert.equal(mallory.connected['resumed'], undefined);
    assert.notEqual(mallory.connected['sessionId'], alice.connected['sessionId']);
    // The wrong user's attempt consumed nothing it could use, and the session is gone from the store:
    // a session id is a bearer secret, so a failed claim by someone else ends it rather than leaving it
    // open to guessing.
    const again = await connectV1(b, {}, `?user=alice&session=${sessionId}`);
    assert.equal(again.connected['resumed'], undefined);
    mallory.client.close();
    again.client.close();
  } finally {
    await a.stop();
    await b.stop();
  }
});

test('with a shared store a resume on the same node works too, and frames stay behind connected', async () => {
  const [a, b] = await twoNodes();
  try {
    const first = await connectV1(a);
    await first.client.request({ id: 1, type: 'subscribe', channel: 'c' });
    first.client.close();
    await first.client.closed;
    await a.server.publish('c', 'missed');
    const back = await connectV1(
      a,
      {},
      `?session=${encodeURIComponent(first.connected['sessionId'] as string)}`,
    );
    assert.equal(back.connected['resumed'], true);
    const [restored] = back.connected['subscriptions'] as { recovered: boolean }[];
    assert.equal(restored?.recovered, true);
    assert.equal((await back.client.nextOfType('message'))['data'], 'missed');
    back.client.close();
  } finally {
    await a.stop();
    await b.stop();
  }
});
