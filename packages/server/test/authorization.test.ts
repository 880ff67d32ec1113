// Authorization per channel and operation: rules by pattern, scopes, the token's channels, and the hook.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, connectV1, startServer, upgradeStatus, waitMembers } from './helpers.js';
import type { TestClient, TestServer } from './helpers.js';
import type { Authenticator } from '../src/index.js';

/** Test credentials in the query: `?user=alice&scopes=admin,ops&channels=room:1,team:*`. */
const queryCredentials: Authenticator = {
  authenticate: (request) => {
    const p = request.url.searchParams;
    const user = p.get('user');
    const list = (name: string): string[] => (p.get(name) ?? '').split(',').filter((s) => s !== '');
    return Promise.resolve({
      ok: true,
      principal: { userId: user, channels: list('channels'), scopes: list('scopes') },
    });
  },
};

function code(reply: Record<string, unknown>): string | undefined {
  return (reply['error'] as { code?: string } | undefined)?.code;
}

describe('channel rules', () => {
  let t: TestServer;
  const clients: TestClient[] = [];
  async function as(query: string): Promise<TestClient> {
    const { client } = await connectV1(t, {}, query);
    clients.push(client);
    return client;
  }
  before(async () => {
    t = await startServer({
      authenticator: queryCredentials,
      defaultPermission: 'claims',
      channels: [
        {
          pattern: 'public:*',
          permissions: { subscribe: 'anyone', publish: 'authenticated', history: 'anyone' },
        },
        { pattern: 'user:*', permissions: { subscribe: 'owner', publish: 'none', history: 'owner' } },
        { pattern: 'announce:*', permissions: { subscribe: 'authenticated', publish: { scope: 'admin' } } },
        {
          pattern: 'lobby',
          presence: true,
          permissions: { subscribe: 'authenticated', presence: 'authenticated' },
        },
      ],
    });
  });
  after(async () => {
    for (const c of clients) c.close();
    await t.stop();
  });

  test('public:* — anyone subscribes, only identified users publish', async () => {
    const anonymous = await as('');
    assert.equal(
      code(await anonymous.request({ id: 1, type: 'subscribe', channel: 'public:news' })),
      undefined,
    );
    assert.equal(
      code(await anonymous.request({ id: 2, type: 'publish', channel: 'public:news', data: 1 })),
      'permission_denied',
    );
    const alice = await as('?user=alice');
    assert.deepEqual(
      (await alice.request({ id: 1, type: 'publish', channel: 'public:news', data: 'hi' }))['result'],
      { id: 1 },
    );
    assert.equal(
      (await anonymous.nextOfType('message'))['data'],
      'hi',
      'the refused publish never reached anyone',
    );
  });

  test('user:* — only that user subscribes to their channel; nobody publishes to it from a client', async () => {
    const alice = await as('?user=alice');
    const mallory = await as('?user=mallory');
    assert.equal(code(await alice.request({ id: 1, type: 'subscribe', channel: 'user:alice' })), undefined);
    const denied = await mallory.request({ id: 1, type: 'subscribe', channel: 'user:alice' });
    assert.deepEqual(denied['error'], {
      code: 'permission_denied',
      message: 'not allowed to subscribe on user:alice',
      temporary: false,
    });
    assert.equal(
      code(await mallory.request({ id: 2, type: 'history', channel: 'user:alice' })),
      'permission_denied',
    );
    assert.equal(
      code(await alice.request({ id: 2, type: 'publish', channel: 'user:alice', data: 1 })),
      'permission_denied',
    );
    await t.server.publish('user:alice', 'from the backend');
    assert.equal(
      (await alice.nextOfType('message'))['data'],
      'from the backend',
      'server-side publishing is not restricted',
    );
  });

  test('announce:* — publishing needs the admin scope', async () => {
    const admin = await as('?user=root&scopes=admin');
    const user = await as('?user=bob&scopes=ops');
    await user.request({ id: 1, type: 'subscribe', channel: 'announce:all' });
    assert.equal(
      code(await user.request({ id: 2, type: 'publish', channel: 'announce:all', data: 'x' })),
      'permission_denied',
    );
    assert.deepEqual(
      (await admin.request({ id: 1, type: 'publish', channel: 'announce:all', data: 'maintenance' }))[
        'result'
      ],
      { id: 1 },
    );
    assert.equal((await user.nextOfType('message'))['data'], 'maintenance');
  });

  test('other channels only when the credentials’ channels claim grants them', async () => {
    const member = await as('?user=carol&channels=team:*,room:1');
    const outsider = await as('?user=dave&channels=room:2');
    assert.equal(code(await member.request({ id: 1, type: 'subscribe', channel: 'team:red' })), undefined);
    assert.equal(code(await member.request({ id: 2, type: 'subscribe', channel: 'room:1' })), undefined);
    assert.equal(
      code(await outsider.request({ id: 1, type: 'subscribe', channel: 'team:red' })),
      'permission_denied',
    );
    assert.equal(
      code(await outsider.request({ id: 2, type: 'publish', channel: 'room:1', data: 1 })),
      'permission_denied',
    );
    assert.equal(
      code(await outsider.request({ id: 3, type: 'history', channel: 'room:1' })),
      'permission_denied',
    );
  });

  test('presence queries follow their own permission; refusals never close the connection', async () => {
    const anonymous = await as('');
    const erin = await as('?user=erin');
    assert.equal(
      code(await anonymous.request({ id: 1, type: 'presence', channel: 'lobby' })),
      'permission_denied',
    );
    assert.equal(code(await erin.request({ id: 1, type: 'subscribe', channel: 'lobby' })), undefined);
    assert.equal(
      (await erin.request({ id: 2, type: 'presence_stats', channel: 'lobby' }))['result'] !== undefined,
      true,
    );
    for (let i = 0; i < 30; i++)
      await anonymous.request({ id: 10 + i, type: 'subscribe', channel: 'user:erin' });
    assert.deepEqual(
      (await anonymous.request({ id: 99, type: 'ping' }))['result'],
      {},
      'refusals are not bad input',
    );
  });

  test('the room dialect: a forbidden room is a 403 before the upgrade; a forbidden publish is an error frame', async () => {
    // The handshake names the user, so the join is decided before the upgrade (room-authorization.test.ts).
    const forbidden = await upgradeStatus(`${t.wsUrl}/ws/${encodeURIComponent('user:alice')}?user=mallory`);
    assert.equal(forbidden.status, 403);
    const reader = await connect(`${t.wsUrl}/ws/public:room?`);
    await waitMembers(t, 'public:room', 1);
    reader.send({ text: 'anonymous may not publish here' });
    assert.equal((await reader.nextOfType('error'))['code'], 'permission_denied');
    reader.close();
  });
});

test('the authorize hook has the last word, with the rules’ verdict and the payload', async () => {
  const seen: string[] = [];
  const t = await startServer({
    defaultPermission: 'none',
    authorize: async ({ operation, channel, allowed, data }) => {
      seen.push(`${operation}:${channel}:${String(allowed)}`);
      if (operation === 'publish') return (data as { clean?: boolean }).clean === true;
      return channel.startsWith('open:');
    },
  });
  try {
    const { client } = await connectV1(t);
    assert.equal(code(await client.request({ id: 1, type: 'subscribe', channel: 'open:1' })), undefined);
    assert.equal(
      code(await client.request({ id: 2, type: 'subscribe', channel: 'closed:1' })),
      'permission_denied',
    );
    assert.equal(
      code(await client.request({ id: 3, type: 'publish', channel: 'open:1', data: { clean: false } })),
      'permission_denied',
    );
    assert.deepEqual(
      (await client.request({ id: 4, type: 'publish', channel: 'open:1', data: { clean: true } }))['result'],
      { id: 1 },
    );
    assert.ok(seen.includes('subscribe:open:1:false'), 'the hook saw the rules refuse, and granted anyway');
    client.close();
  } finally {
    await t.stop();
  }
});

test('an authorize hook that throws is answered, never left unhandled: internal to a command, 503 to a room join, a channel left out of a resume', async () => {
  let throwOn: string | null = null;
  const t = await startServer({
    authorize: ({ channel }) => {
      if (throwOn !== null && channel.startsWith(throwOn)) throw new Error('the hook exploded');
      return true;
    },
  });
  try {
    const first = await connectV1(t);
    await first.client.request({ id: 1, type: 'subscribe', channel: 'keep:1' });
    await first.client.request({ id: 2, type: 'subscribe', channel: 'boom:1' });
    throwOn = 'boom:';
    first.client.close();
    await first.client.closed;
    const { client, connected } = await connectV1(t, {}, `?session=${String(first.connected['sessionId'])}`);
    const restored = connected['subscriptions'] as { channel: string }[];
    assert.deepEqual(
      restored.map((s) => s.channel),
      ['keep:1'],
      'the channel whose check threw is not restored',
    );
    assert.equal(code(await client.request({ id: 3, type: 'subscribe', channel: 'boom:2' })), 'internal');
    // A room join is decided before the upgrade: try again later is a 503 there (1013 after a first-message auth).
    const room = await upgradeStatus(`${t.wsUrl}/ws/boom:room`);
    assert.equal(room.status, 503, 'try again later');
    assert.equal((JSON.parse(room.body) as { error: { code: string } }).error.code, 'unavailable');
    // The server still serves everyone else.
    assert.deepEqual(
      (await client.request({ id: 4, type: 'publish', channel: 'keep:1', data: { still: 'here' } }))[
        'result'
      ],
      { id: 1 },
    );
    client.close();
  } finally {
    await t.stop();
  }
});

describe('a resumed session is authorized again, channel by channel', () => {
  /** The channels a resume restored, and proof that nothing arrives from the others. */
  async function restoredAfterResume(
    t: TestServer,
    first: { query: string; channels: string[] },
    resume: { query: string; meanwhile?: () => void },
  ): Promise<{ restored: string[]; client: TestClient }> {
    const away = await connectV1(t, {}, first.query);
    for (const [i, channel] of first.channels.entries())
      assert.equal(code(await away.client.request({ id: i + 1, type: 'subscribe', channel })), undefined);
    away.client.close();
    await away.client.closed;
    resume.meanwhile?.();
    const session = String(away.connected['sessionId']);
    const { client, connected } = await connectV1(t, {}, `${resume.query}&session=${session}`);
    assert.equal(connected['resumed'], true);
    const restored = (connected['subscriptions'] as { channel: string }[]).map((s) => s.channel);
    // Publications on every channel it had, then a marker on one it kept: only kept channels deliver.
    for (const channel of first.channels) await t.server.publish(channel, { on: channel });
    await t.server.publish(restored[0] ?? 'none', 'marker');
    const seen: unknown[] = [];
    for (;;) {
      const m = await client.nextOfType('message');
      if (m['data'] === 'marker') break;
      seen.push(m['channel']);
    }
    assert.deepEqual(seen, restored, 'messages arrive only on the restored channels');
    return { restored, client };
  }

  test('credentials that no longer grant a channel: it is not restored', async () => {
    const t = await startServer({ authenticator: queryCredentials, defaultPermission: 'claims' });
    try {
      const { restored, client } = await restoredAfterResume(
        t,
        { query: '?user=carol&channels=team:*,room:1', channels: ['team:red', 'room:1'] },
        { query: '?user=carol&channels=room:1' },
      );
      assert.deepEqual(restored, ['room:1']);
      client.close();
    } finally {
      await t.stop();
    }
  });

  test('an authorize hook that now says no: the channel is not restored', async () => {
    const revoked = new Set<string>();
    const t = await startServer({ authorize: ({ channel }) => !revoked.has(channel) });
    try {
      const { restored, client } = await restoredAfterResume(
        t,
        { query: '?', channels: ['keep:1', 'revoked:1'] },
        { query: '?', meanwhile: () => revoked.add('revoked:1') },
      );
      assert.deepEqual(restored, ['keep:1']);
      client.close();
    } finally {
      await t.stop();
    }
  });
});

test('bad permission configuration is refused at creation with the option named', async () => {
  const { createServer } = await import('../src/index.js');
  assert.throws(() => createServer({ defaultPermission: 'everyone' as never }), /defaultPermission/);
  assert.throws(
    () => createServer({ channels: [{ pattern: 'a:*:b:*', permissions: { subscribe: 'owner' } }] }),
    /channels\[a:\*:b:\*\]\.permissions\.subscribe/,
  );
});
