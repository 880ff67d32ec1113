/**
 * The dashboard's live data over the product's own transports (docs/admin.md): the real SDK, given an
 * async token provider that POSTs /admin/api/connect as the page does, connects over WebSocket, SSE and
 * long polling, on a server without `auth` and on one with JWT auth, and receives the node's snapshots on
 * `$admin:nodes`. Everyone else is refused `$admin:*`: subscribe and publish from any client (v1, rooms,
 * raw SSE), publish through the HTTP API, and a reused connection token.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { SwitchboardClient } from '@switchboard/client';
import type { ClientOptions } from '@switchboard/client';
import type { ServerOptions } from '../src/index.js';
import { connectV1, upgradeStatus, withServer } from './helpers.js';
import { ADMIN_PASSWORD, signIn } from './admin-helpers.js';
import type { AdminSession } from './admin-helpers.js';
import { AUDIENCE, ISSUER, SECRET, hsToken } from './auth-fixtures.js';

const T = { timeout: 30_000 };
const FAST = { password: ADMIN_PASSWORD, intervalMs: 100 } as const;
const JWT_AUTH = { auth: { secret: SECRET, audience: AUDIENCE, issuer: ISSUER } } as const;

/** The status a WebSocket handshake offering `protocols` got: 101 when it opened (then closed at once). */
function openStatus(url: string, protocols: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols);
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    ws.once('error', reject);
  });
}

/** A token provider like the page's: a fresh admin connection token for every attempt. */
function provider(admin: AdminSession): () => Promise<string> {
  return async () => {
    const { status, body } = await admin.post<{ token: string }>('/connect');
    if (status !== 200) throw new Error(`connect answered ${status}`);
    return body.token;
  };
}

/** The first snapshot a dashboard client receives over `transport`. */
async function firstSnapshot(
  wsUrl: string,
  admin: AdminSession,
  transport: 'websocket' | 'sse' | 'polling',
  tokenTransport: ClientOptions['tokenTransport'] = 'subprotocol',
): Promise<{ nodeId: string; time: number; connections: number; transports: Record<string, number> }> {
  const client = new SwitchboardClient(`${wsUrl}/ws`, {
    WebSocket,
    transports: [transport],
    token: provider(admin),
    tokenTransport,
    reconnect: false,
  });
  try {
    await client.connect();
    const nodes = client.subscribe('$admin:nodes');
    const got = new Promise<unknown>((resolve) => nodes.on('message', (m) => resolve(m.data)));
    await nodes.ready({ timeoutMs: 10_000 });
    return (await got) as Awaited<ReturnType<typeof firstSnapshot>>;
  } finally {
    client.close();
  }
}

describe('admin dashboard: live snapshots over the SDK', () => {
  const setups: {
    name: string;
    options: ServerOptions;
    tokenTransports: ClientOptions['tokenTransport'][];
  }[] = [
    { name: 'without auth', options: { admin: FAST }, tokenTransports: ['subprotocol'] },
    // With JWT auth the handshake waits for `auth`: the first message carries the token too.
    {
      name: 'with JWT auth',
      options: { admin: FAST, ...JWT_AUTH },
      tokenTransports: ['subprotocol', 'first-message'],
    },
  ];
  for (const { name, options, tokenTransports } of setups) {
    for (const transport of ['websocket', 'sse', 'polling'] as const) {
      for (const tokenTransport of tokenTransports) {
        it(
          `${name}, over ${transport} (token: ${tokenTransport}): the snapshots of this node arrive`,
          T,
          async () => {
            await withServer(options, async (t) => {
              const admin = await signIn(t.httpUrl);
              const snapshot = await firstSnapshot(t.wsUrl, admin, transport, tokenTransport);
              assert.equal(snapshot.nodeId, t.server.nodeId);
              assert.ok(snapshot.connections >= 1, 'the dashboard connection itself is counted');
              assert.ok((snapshot.transports[transport] ?? 0) >= 1, JSON.stringify(snapshot.transports));
            });
          },
        );
      }
    }
  }

  it('a connection token is single use on a node, and useless without a session', T, async () => {
    await withServer({ admin: FAST }, async (t) => {
      const admin = await signIn(t.httpUrl);
      const { body } = await admin.post<{ token: string }>('/connect');
      const protocols = ['switchboard.v1', `switchboard.bearer.${body.token}`];
      assert.equal(await openStatus(`${t.wsUrl}/ws`, protocols), 101);
      assert.equal(await openStatus(`${t.wsUrl}/ws`, protocols), 401, 'used');
      // Signed out (no cookie), the page gets no token at all.
      const res = await fetch(`${t.httpUrl}/admin/api/connect`, { method: 'POST' });
      assert.equal(res.status, 401);
      await res.arrayBuffer();
    });
  });
});

describe('admin dashboard: the reserved $admin: prefix', () => {
  it(
    'ordinary clients are refused subscribing and publishing on $admin:*, whatever the rules say',
    T,
    async () => {
      const options: ServerOptions = {
        admin: FAST,
        channels: [{ pattern: '*', permissions: { subscribe: 'anyone', publish: 'anyone' } }],
        authorize: () => true,
      };
      await withServer(options, async (t) => {
        const { client } = await connectV1(t);
        for (const [id, command] of [
          [1, { type: 'subscribe', channel: '$admin:nodes' }],
          [2, { type: 'publish', channel: '$admin:nodes', data: { nodeId: 'forged' } }],
          [3, { type: 'subscribe', channel: '$admin:calls' }],
          [4, { type: 'history', channel: '$admin:nodes' }],
        ] as const) {
          const reply = await client.request<{ error?: { code: string } }>({ id, ...command });
          assert.equal(reply.error?.code, 'permission_denied', JSON.stringify(command));
        }
        client.close();
        const room = await upgradeStatus(`${t.wsUrl}/ws/${encodeURIComponent('$admin:nodes')}`);
        assert.equal(room.status, 401);
        const sse = await fetch(`${t.httpUrl}/sse/${encodeURIComponent('$admin:nodes')}`);
        assert.ok(sse.status === 401 || sse.status === 403, String(sse.status));
        await sse.arrayBuffer();
      });
    },
  );

  it('even with JWT claims granting every channel, an app token is not an admin', T, async () => {
    await withServer({ admin: FAST, ...JWT_AUTH, defaultPermission: 'claims' }, async (t) => {
      const token = await hsToken({ sub: 'admin', claims: { channels: ['*', '$admin:*'], scope: 'admin' } });
      const client = new SwitchboardClient(`${t.wsUrl}/ws`, { WebSocket, token, reconnect: false });
      try {
        await client.connect();
        // The subscription ends (UnsubscribedError) because of the server's refusal.
        await assert.rejects(
          client.subscribe('$admin:nodes').ready({ timeoutMs: 5000 }),
          (error: Error) => (error.cause as { code?: string } | undefined)?.code === 'permission_denied',
        );
        await assert.rejects(client.publish('$admin:nodes', { nodeId: 'forged' }), {
          code: 'permission_denied',
        });
      } finally {
        client.close();
      }
    });
  });

  it(
    'the HTTP API refuses publishing to $admin:* (403 permission_denied); the library API is trusted',
    T,
    async () => {
      await withServer({ admin: FAST }, async (t) => {
        for (const path of ['/api/publish', `/api/channels/${encodeURIComponent('$admin:x')}/complete`]) {
          const res = await fetch(`${t.httpUrl}${path}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ channel: '$admin:x', data: 1 }),
          });
          const body = (await res.json()) as { error: { code: string } };
          assert.deepEqual([res.status, body.error.code], [403, 'permission_denied'], path);
        }
        const ok = await fetch(`${t.httpUrl}/api/publish`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ channel: 'admin:x', data: 1 }),
        });
        assert.equal(ok.status, 200, 'only the $admin: prefix is reserved');
        await ok.arrayBuffer();
      });
    },
  );
});
