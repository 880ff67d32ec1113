/**
 * The admin dashboard's HTTP side (docs/admin.md), over real sockets: off by default (404 on every
 * /admin path); sign-in with its own password, never the API key; the session cookie's attributes; every
 * refusal (no, tampered, expired or foreign cookie, missing or wrong CSRF token, cross-origin POST,
 * throttled sign-in); the page's CSP; the JSON API and its actions, with hostile names kept as data.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createServer } from '../src/index.js';
import { connectV1, queryUserAuthenticator, startServer, withServer } from './helpers.js';
import type { TestServer } from './helpers.js';
import { manualClock, recordingLogger } from './limits-helpers.js';
import { ADMIN_PASSWORD, answer, login, originOf, signIn } from './admin-helpers.js';
import type { ErrorBody } from './admin-helpers.js';

const ADMIN = { admin: { password: ADMIN_PASSWORD } } as const;
const T = { timeout: 20_000 };

async function refusal(res: Response): Promise<[number, string, string]> {
  const { status, body } = await answer<ErrorBody>(res);
  return [status, body.error.code, body.error.message];
}

describe('admin dashboard: off', () => {
  it(
    'without the admin option every /admin path answers 404 not_available, sign-in included',
    T,
    async () => {
      await withServer({}, async (t) => {
        for (const path of [
          '/admin',
          '/admin/',
          '/admin/admin.js',
          '/admin/api/session',
          '/admin/api/users/u',
        ]) {
          const [status, code, message] = await refusal(await fetch(`${t.httpUrl}${path}`));
          assert.deepEqual([status, code], [404, 'not_available'], path);
          assert.match(message, /SWITCHBOARD_ADMIN_PASSWORD/);
        }
        const [status, code] = await refusal(await login(t.httpUrl, ADMIN_PASSWORD));
        assert.deepEqual([status, code], [404, 'not_available']);
      });
    },
  );

  it('a password shorter than 12 characters is refused at start', () => {
    assert.throws(() => createServer({ admin: { password: 'short' } }), { name: 'InvalidOptionError' });
    assert.throws(() => createServer({ admin: { password: ADMIN_PASSWORD, intervalMs: 5 } }), {
      name: 'InvalidOptionError',
    });
  });
});

describe('admin dashboard: sign-in and refusals', () => {
  it(
    'sign-in sets an HttpOnly, SameSite=Strict cookie scoped to <base>/admin; the session says who and until when',
    T,
    async () => {
      await withServer({ ...ADMIN, basePath: '/rt' }, async (t) => {
        const admin = await signIn(t.httpUrl);
        const attributes = admin.setCookie.split(';').map((a) => a.trim());
        assert.match(attributes[0] ?? '', /^switchboard_admin=v1\.[\w-]+\.[\w-]+$/);
        assert.deepEqual(attributes.slice(1).sort(), [
          'HttpOnly',
          'Max-Age=28800',
          'Path=/rt/admin',
          'SameSite=Strict',
        ]);
        assert.equal(admin.info.user, 'admin');
        assert.equal(admin.info.channel, '$admin:nodes');
        assert.equal(admin.info.nodeId, t.server.nodeId);
        assert.equal(admin.info.intervalMs, 2000);
        assert.ok(admin.info.expiresAt > Date.now() + 28_000_000);
        assert.match(admin.csrfToken, /^[\w-]{43}$/);
      });
    },
  );

  it(
    'behind a trusted proxy that terminated TLS (X-Forwarded-Proto: https) the cookie is Secure; from anyone else not',
    T,
    async () => {
      await withServer({ ...ADMIN, trustedProxies: ['127.0.0.1'] }, async (t) => {
        const https = await login(t.httpUrl, ADMIN_PASSWORD, { 'x-forwarded-proto': 'https' });
        assert.match(https.headers.get('set-cookie') ?? '', /; Secure/);
        const plain = await login(t.httpUrl, ADMIN_PASSWORD);
        assert.doesNotMatch(plain.headers.get('set-cookie') ?? '', /Secure/);
      });
      await withServer(ADMIN, async (t) => {
        const untrusted = await login(t.httpUrl, ADMIN_PASSWORD, { 'x-forwarded-proto': 'https' });
        assert.doesNotMatch(untrusted.headers.get('set-cookie') ?? '', /Secure/);
      });
    },
  );

  it(
    'the API is 401 without a valid session: none, tampered, expired (injected clock), or made with another password',
    T,
    async () => {
      const clock = manualClock();
      await withServer({ clock, admin: { password: ADMIN_PASSWORD, sessionTtlMs: 60_000 } }, async (t) => {
        const admin = await signIn(t.httpUrl);
        const get = (cookie?: string): Promise<Response> =>
          fetch(`${t.httpUrl}/admin/api/overview`, cookie === undefined ? {} : { headers: { cookie } });
        assert.equal((await get(admin.cookie)).status, 200);
        assert.deepEqual((await refusal(await get())).slice(0, 2), [401, 'unauthorized']);
        const value = admin.cookie.slice(admin.cookie.indexOf('=') + 1);
        const [, payload, mac] = value.split('.');
        const forged = Buffer.from(JSON.stringify({ exp: Date.now() + 1e9, nonce: 'x' })).toString(
          'base64url',
        );
        for (const bad of [
          `v1.${forged}.${mac}`,
          `v1.${payload}.${mac?.slice(1)}A`,
          'v1.x.y',
          `v2.${payload}.${mac}`,
        ])
          assert.equal((await get(`switchboard_admin=${bad}`)).status, 401, bad);
        await withServer({ admin: { password: 'a different password' } }, async (other) => {
          const res = await fetch(`${other.httpUrl}/admin/api/overview`, {
            headers: { cookie: admin.cookie },
          });
          assert.equal(res.status, 401, 'a password change revokes every session');
          await res.arrayBuffer();
        });
        clock.advance(60_000);
        assert.equal((await get(admin.cookie)).status, 401, 'expired');
      });
    },
  );

  it(
    'a session from one node opens the API of every node with the same password (stateless)',
    T,
    async () => {
      await withServer(ADMIN, async (a) => {
        await withServer(ADMIN, async (b) => {
          const admin = await signIn(a.httpUrl);
          const res = await fetch(`${b.httpUrl}/admin/api/session`, { headers: { cookie: admin.cookie } });
          const session = await answer<{ csrfToken: string; nodeId: string }>(res);
          assert.equal(session.status, 200);
          assert.equal(session.body.csrfToken, admin.csrfToken);
          assert.equal(session.body.nodeId, b.server.nodeId);
        });
      });
    },
  );

  it(
    'POSTs need the CSRF token and a same-origin request: 403 forbidden otherwise, saying which',
    T,
    async () => {
      await withServer(ADMIN, async (t) => {
        const admin = await signIn(t.httpUrl);
        const post = (headers: Record<string, string>): Promise<Response> =>
          fetch(`${t.httpUrl}/admin/api/connect`, {
            method: 'POST',
            headers: { cookie: admin.cookie, ...headers },
          });
        const origin = originOf(t.httpUrl);
        assert.deepEqual(await refusal(await post({ origin })), [
          403,
          'forbidden',
          'missing or wrong CSRF token',
        ]);
        assert.deepEqual(await refusal(await post({ origin, 'x-csrf-token': 'wrong' })), [
          403,
          'forbidden',
          'missing or wrong CSRF token',
        ]);
        const token = { 'x-csrf-token': admin.csrfToken };
        const cross = [403, 'forbidden', 'cross-origin request refused'];
        assert.deepEqual(await refusal(await post({ ...token, origin: 'https://evil.example' })), cross);
        assert.deepEqual(await refusal(await post(token)), cross, 'neither Origin nor Sec-Fetch-Site');
        assert.deepEqual(await refusal(await post({ ...token, 'sec-fetch-site': 'cross-site' })), cross);
        const ok = await post({ ...token, 'sec-fetch-site': 'same-origin' });
        assert.equal(ok.status, 200);
        const connect = (await ok.json()) as { token: string; expiresIn: number };
        assert.match(connect.token, /^sbadm1\.[\w-]+\.[\w-]+$/);
        assert.equal(connect.expiresIn, 60);
        // Without a session, a POST is 401 before anything else is looked at.
        const anonymous = await fetch(`${t.httpUrl}/admin/api/connect`, {
          method: 'POST',
          headers: { origin },
        });
        assert.equal(anonymous.status, 401);
        await anonymous.arrayBuffer();
        // Sign-in itself is refused cross-origin.
        const [status, code] = await refusal(
          await login(t.httpUrl, ADMIN_PASSWORD, { origin: 'https://evil.example' }),
        );
        assert.deepEqual([status, code], [403, 'forbidden']);
      });
    },
  );

  it(
    'wrong passwords: 401, then 429 with Retry-After after 5 from one address, even for the right one; every sign-in is an audit line',
    T,
    async () => {
      const logger = recordingLogger();
      const { entries } = logger;
      await withServer({ ...ADMIN, logger, trustedProxies: ['127.0.0.1'] }, async (t) => {
        const from = (address: string, password: string): Promise<Response> =>
          login(t.httpUrl, password, { 'x-forwarded-for': address });
        for (let i = 0; i < 5; i++)
          assert.deepEqual((await refusal(await from('203.0.113.7', 'guess number one'))).slice(0, 2), [
            401,
            'unauthorized',
          ]);
        const throttled = await from('203.0.113.7', ADMIN_PASSWORD);
        assert.equal(throttled.headers.get('retry-after'), '10');
        assert.deepEqual((await refusal(throttled)).slice(0, 2), [429, 'rate_limited']);
        const elsewhere = await from('198.51.100.1', ADMIN_PASSWORD);
        assert.equal(elsewhere.status, 204, 'another address signs in');
        const lines = entries.filter((e) => e.fields['audit'] === 'admin' && e.fields['event'] === 'login');
        assert.deepEqual(
          lines.map((e) => [e.level, e.fields['outcome'], e.fields['address']]),
          [
            ...Array.from({ length: 5 }, () => ['info', 'failure', '203.0.113.7']),
            ['info', 'throttled', '203.0.113.7'],
            ['info', 'success', '198.51.100.1'],
          ],
        );
        assert.ok(
          lines.every((e) => !JSON.stringify(e.fields).includes('guess')),
          'no password in a log line',
        );
      });
    },
  );

  it(
    'the API key does not open the dashboard, and the admin session does not open the HTTP API',
    T,
    async () => {
      const apiKey = 'the-api-key-0123456789abcdef';
      await withServer({ ...ADMIN, apiKey }, async (t) => {
        const res = await fetch(`${t.httpUrl}/admin/api/session`, {
          headers: { authorization: `Bearer ${apiKey}` },
        });
        assert.equal(res.status, 401);
        await res.arrayBuffer();
        const asLogin = await login(t.httpUrl, apiKey);
        assert.equal(asLogin.status, 401);
        await asLogin.arrayBuffer();
        const admin = await signIn(t.httpUrl);
        const api = await fetch(`${t.httpUrl}/api/stats`, { headers: { cookie: admin.cookie } });
        assert.equal(api.status, 401);
        await api.arrayBuffer();
      });
    },
  );

  it('sign-out answers 204 with a clearing cookie (CSRF needed)', T, async () => {
    await withServer(ADMIN, async (t) => {
      const admin = await signIn(t.httpUrl);
      const res = await fetch(`${t.httpUrl}/admin/logout`, {
        method: 'POST',
        headers: { cookie: admin.cookie, origin: originOf(t.httpUrl), 'x-csrf-token': admin.csrfToken },
      });
      assert.equal(res.status, 204);
      assert.match(res.headers.get('set-cookie') ?? '', /^switchboard_admin=; .*Max-Age=0/);
      const noCsrf = await fetch(`${t.httpUrl}/admin/logout`, {
        method: 'POST',
        headers: { cookie: admin.cookie, origin: originOf(t.httpUrl) },
      });
      assert.equal(noCsrf.status, 403);
      await noCsrf.arrayBuffer();
    });
  });
});

describe('admin dashboard: the page', () => {
  const page = fileURLToPath(new URL('../public/admin/index.html', import.meta.url));

  it(
    'GET /admin is served without a session, with a hash-pinned CSP (or 404 while the page is not in the tree)',
    T,
    async () => {
      await withServer(ADMIN, async (t) => {
        for (const path of ['/admin', '/admin/']) {
          const res = await fetch(`${t.httpUrl}${path}`);
          if (!existsSync(page)) {
            assert.deepEqual((await refusal(res)).slice(0, 2), [404, 'not_available']);
            continue;
          }
          assert.equal(res.status, 200);
          const csp = res.headers.get('content-security-policy') ?? '';
          for (const directive of [
            "default-src 'none'",
            "connect-src 'self'",
            "img-src 'self' data:",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
          ])
            assert.ok(csp.includes(directive), `${directive} in ${csp}`);
          assert.match(csp, /script-src 'self'/);
          assert.match(csp, /style-src 'self'/);
          assert.doesNotMatch(csp, /unsafe/);
          assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
          assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
          assert.equal(res.headers.get('cache-control'), 'no-store');
          assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
          await res.arrayBuffer();
        }
        const missing = await fetch(`${t.httpUrl}/admin/nope.exe`);
        assert.deepEqual((await refusal(missing)).slice(0, 2), [404, 'not_found']);
      });
    },
  );
});

/** A server with the dashboard, users from `?user=`, and an inbox swept every 20 ms. */
function actionsServer(): Promise<TestServer> {
  return startServer({ ...ADMIN, authenticator: queryUserAuthenticator, inbox: { sweepMs: 20 } });
}

describe('admin dashboard: the API and its actions', () => {
  it("overview: this node's snapshots and the cluster counts", T, async () => {
    await withServer({ admin: { password: ADMIN_PASSWORD, intervalMs: 100 } }, async (t) => {
      const admin = await signIn(t.httpUrl);
      const { status, body } = await admin.get<{
        nodeId: string;
        intervalMs: number;
        cluster: { nodes: number } | null;
        nodes: { nodeId: string; state: string; ready: boolean }[];
        history: { time: number }[];
      }>('/overview');
      assert.equal(status, 200);
      assert.equal(body.nodeId, t.server.nodeId);
      assert.equal(body.intervalMs, 100);
      assert.equal(body.cluster?.nodes, 1);
      assert.deepEqual(
        body.nodes.map((n) => [n.nodeId, n.state, n.ready]),
        [[t.server.nodeId, 'running', true]],
      );
      assert.ok(body.history.length >= 1, 'the first snapshot is taken at start');
    });
  });

  it(
    'publish reaches a subscriber; disconnecting a user or one connection closes it with 4502; each is an audit line',
    T,
    async () => {
      const logger = recordingLogger();
      const { entries } = logger;
      const t = await startServer({ ...ADMIN, logger, authenticator: queryUserAuthenticator });
      try {
        const admin = await signIn(t.httpUrl);
        const { client: sub } = await connectV1(t, {}, '?user=sub');
        await sub.request({ id: 1, type: 'subscribe', channel: 'news' });
        const published = await admin.post<{ ok: boolean; offset: number }>('/channels/news/publish', {
          data: { hi: 1 },
        });
        assert.deepEqual(published, { status: 200, body: { ok: true, offset: 1 } });
        const message = await sub.next((m) => m['type'] === 'message');
        assert.deepEqual(message['data'], { hi: 1 });
        const { client: one } = await connectV1(t, {}, '?user=carol');
        const { client: two, connected } = await connectV1(t, {}, '?user=dave');
        assert.deepEqual(await admin.post('/users/carol/disconnect', { reason: 'bye' }), {
          status: 200,
          body: { ok: true },
        });
        assert.deepEqual(await one.closed, { code: 4502, reason: 'bye' });
        const id = encodeURIComponent(String(connected['connectionId']));
        assert.deepEqual((await admin.post(`/connections/${id}/disconnect`)).body, { ok: true });
        assert.deepEqual(await two.closed, { code: 4502, reason: 'disconnected by an administrator' });
        const audit = entries.filter((e) => e.fields['audit'] === 'admin' && e.fields['event'] !== 'login');
        assert.deepEqual(
          audit.map((e) => e.fields['event']),
          ['publish', 'disconnect_user', 'disconnect_connection'],
        );
        assert.ok(
          audit.every((e) => e.fields['address'] === '127.0.0.1' && typeof e.fields['session'] === 'string'),
        );
        sub.close();
      } finally {
        await t.stop();
      }
    },
  );

  it(
    'bad input: 400 invalid_channel, 400 for a bad search, 415/400/413 bodies, publish to $admin: refused',
    T,
    async () => {
      await withServer({ ...ADMIN, maxMessageBytes: 1024 }, async (t) => {
        const admin = await signIn(t.httpUrl);
        const codes = async (p: Promise<{ status: number; body: unknown }>): Promise<[number, string]> => {
          const { status, body } = await p;
          return [status, (body as ErrorBody).error.code];
        };
        assert.deepEqual(await codes(admin.get('/channels/%3Cscript%3E')), [400, 'invalid_channel']);
        assert.deepEqual(await codes(admin.get(`/channels/${'x'.repeat(300)}`)), [400, 'invalid_channel']);
        assert.deepEqual(await codes(admin.get('/search?q=')), [400, 'bad_request']);
        assert.deepEqual(await codes(admin.get('/search')), [400, 'bad_request']);
        assert.deepEqual(await codes(admin.get(`/search?q=${'a'.repeat(201)}`)), [400, 'bad_request']);
        assert.equal((await admin.get(`/search?q=${'a'.repeat(200)}`)).status, 200);
        assert.deepEqual(await codes(admin.post('/channels/news/publish', {})), [400, 'bad_request']);
        assert.deepEqual(await codes(admin.post('/channels/news/publish', { data: 'x'.repeat(2000) })), [
          413,
          'message_too_large',
        ]);
        assert.deepEqual(await codes(admin.post('/channels/$admin:nodes/publish', { data: 1 })), [
          403,
          'permission_denied',
        ]);
        const raw = (body: string, type = 'application/json'): Promise<Response> =>
          fetch(`${t.httpUrl}/admin/api/channels/news/publish`, {
            method: 'POST',
            headers: {
              cookie: admin.cookie,
              origin: originOf(t.httpUrl),
              'x-csrf-token': admin.csrfToken,
              'content-type': type,
            },
            body,
          });
        assert.deepEqual((await refusal(await raw('{not json'))).slice(0, 2), [400, 'invalid_json']);
        assert.equal((await raw('{"data":1}', 'text/plain')).status, 415);
        assert.deepEqual(await codes(admin.post('/users/u/dead-letters/nope/redeliver')), [404, 'not_found']);
        assert.deepEqual(await codes(admin.post('/users/u/disconnect', { reason: 'r'.repeat(200) })), [
          400,
          'bad_request',
        ]);
      });
    },
  );

  it(
    'user detail: connections with transport, address, start and channels; dead letters, redelivered on request',
    T,
    async () => {
      const t = await actionsServer();
      try {
        const admin = await signIn(t.httpUrl);
        const { client } = await connectV1(t, {}, '?user=erin');
        await client.request({ id: 1, type: 'subscribe', channel: 'room:1' });
        const first = await t.server.deliver('erin', { n: 1 }, { ttlMs: 10 });
        const deadline = Date.now() + 5000;
        while ((await t.server.deadLetters('erin')).length === 0) {
          assert.ok(Date.now() < deadline, 'the expiry sweep made no dead letter');
          await new Promise((r) => setTimeout(r, 20));
        }
        const { status, body } = await admin.get<{
          userId: string;
          partial: boolean;
          connections: {
            id: string;
            nodeId: string;
            transport: string;
            address: string;
            connectedAt: number;
            channels: string[];
          }[];
          deadLetters: { id: string; reason: string; attempts: number; time: number; data: unknown }[];
        }>('/users/erin');
        assert.equal(status, 200);
        assert.equal(body.userId, 'erin');
        assert.equal(body.partial, false);
        assert.equal(body.connections.length, 1);
        const [c] = body.connections;
        assert.deepEqual(
          [c?.nodeId, c?.transport, c?.address, c?.channels],
          [t.server.nodeId, 'websocket', '127.0.0.1', ['room:1']],
        );
        assert.ok(typeof c?.connectedAt === 'number' && c.connectedAt <= Date.now());
        assert.deepEqual(
          body.deadLetters.map((l) => [l.id, l.reason, l.data]),
          [[first.id, 'expired', { n: 1 }]],
        );
        assert.deepEqual((await admin.post(`/users/erin/dead-letters/${first.id}/redeliver`)).body, {
          ok: true,
        });
        assert.deepEqual(await t.server.deadLetters('erin'), []);
        client.close();
      } finally {
        await t.stop();
      }
    },
  );

  it('a channel without presence has presence null, one with presence its members', T, async () => {
    await withServer({ ...ADMIN, channels: [{ pattern: 'p:*', presence: true }] }, async (t) => {
      const admin = await signIn(t.httpUrl);
      await t.server.publish('plain', { a: 1 });
      const plain = await admin.get<{
        info: { offset: number };
        presence: unknown;
        history: { offset: number; data: unknown }[];
      }>('/channels/plain');
      assert.equal(plain.body.presence, null);
      assert.deepEqual(
        plain.body.history.map((m) => [m.offset, m.data]),
        [[1, { a: 1 }]],
      );
      const withPresence = await admin.get<{ presence: unknown[] }>('/channels/p:1');
      assert.deepEqual(withPresence.body.presence, []);
    });
  });

  it("a channel's detail lists its last 20 messages, oldest first", T, async () => {
    await withServer(ADMIN, async (t) => {
      const admin = await signIn(t.httpUrl);
      for (let i = 1; i <= 25; i++) await t.server.publish('log', i);
      const { body } = await admin.get<{
        channel: string;
        info: { members: number; offset: number };
        history: { offset: number; data: number; time: number }[];
      }>('/channels/log');
      assert.equal(body.channel, 'log');
      assert.deepEqual([body.info.members, body.info.offset], [0, 25]);
      assert.deepEqual(
        body.history.map((m) => m.data),
        Array.from({ length: 20 }, (_, i) => i + 6),
      );
    });
  });

  it(
    'hostile names round-trip as data: quotes, <script>, unicode, very long user ids; odd but valid channel names',
    T,
    async () => {
      const t = await startServer({ ...ADMIN, authenticator: queryUserAuthenticator, maxChannelLength: 255 });
      try {
        const admin = await signIn(t.httpUrl);
        const users = [
          `"quoted" 'and' \\back`,
          '<script>alert(1)</script>',
          'ünï €ødé 👀',
          `long-${'x'.repeat(2000)}`,
        ];
        const channels = ['$x:q', '#!~$=+,@:/..', `${'c'.repeat(254)}!`];
        const clients = [];
        for (const user of users) {
          const { client } = await connectV1(t, {}, `?user=${encodeURIComponent(user)}`);
          clients.push(client);
          for (const [i, channel] of channels.entries())
            await client.request({ id: i + 1, type: 'subscribe', channel });
        }
        for (const user of users) {
          const { status, body } = await admin.get<{ userId: string; connections: { channels: string[] }[] }>(
            `/users/${encodeURIComponent(user)}`,
          );
          assert.equal(status, 200);
          assert.equal(body.userId, user);
          assert.deepEqual(body.connections[0]?.channels.sort(), [...channels].sort());
        }
        const found = await admin.get<{
          users: { userId: string }[];
          channels: { name: string; members: number }[];
        }>(`/search?q=${encodeURIComponent('<script>')}`);
        assert.deepEqual(
          found.body.users.map((u) => u.userId),
          ['<script>alert(1)</script>'],
        );
        for (const channel of channels) {
          const detail = await admin.get<{ channel: string; info: { members: number } }>(
            `/channels/${encodeURIComponent(channel)}`,
          );
          assert.deepEqual(
            [detail.status, detail.body.channel, detail.body.info.members],
            [200, channel, users.length],
          );
          const published = await admin.post(`/channels/${encodeURIComponent(channel)}/publish`, {
            data: '<img src=x onerror=alert(1)>',
          });
          assert.equal(published.status, 200);
        }
        const searched = await admin.get<{ channels: { name: string; members: number }[] }>(
          `/search?q=${encodeURIComponent('#!~')}`,
        );
        assert.deepEqual(searched.body.channels, [{ name: channels[1], members: users.length }]);
        for (const client of clients) client.close();
      } finally {
        await t.stop();
      }
    },
  );
});
