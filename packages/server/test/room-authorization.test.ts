// The room dialect's authorization: when the handshake names the user, whether it may join the room in
// the URL is decided before the upgrade (an HTTP status, like every other handshake refusal); after a
// first-message `auth`, only then (close 4505). The seeds' protected-room tests, with real JWTs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, metricSample, upgradeStatus, waitMembers, withServer } from './helpers.js';
import { AUDIENCE, ISSUER, SECRET, errorCodeOf, hsToken } from './auth-fixtures.js';
import { silentLogger } from '../src/index.js';
import type { Authenticator, AuthorizationRequest, ServerOptions } from '../src/index.js';

/** JWT auth (the token in `?token=`, as the seeds send it) and a protected room family. */
const PROTECTED: ServerOptions = {
  auth: { secret: SECRET, audience: AUDIENCE, issuer: ISSUER },
  channels: [{ pattern: 'protected/*', permissions: { subscribe: { scope: 'members' } } }],
};

const member = (): Promise<string> => hsToken({ sub: 'alice', claims: { scope: 'members' } });
const outsider = (): Promise<string> => hsToken({ sub: 'mallory' });

test('seeds: a valid token that may not join protected/general is refused with 403 before the upgrade', async () => {
  await withServer(PROTECTED, async (t) => {
    const refused = await upgradeStatus(`${t.wsUrl}/ws/protected/general?token=${await outsider()}`);
    assert.equal(refused.status, 403);
    assert.equal(errorCodeOf(refused.body), 'permission_denied');
    assert.match(refused.body, /not allowed to join protected\/general/);
    const metrics = await (await fetch(`${t.httpUrl}/metrics`)).text();
    assert.equal(
      metricSample(metrics, 'switchboard_handshakes_rejected_total{status="403",reason="permission_denied"}'),
      1,
    );
    assert.equal(t.server.stats().connections, 0, 'no connection was ever opened');
  });
});

test('seeds: a token that may join gets in, and its message comes back', async () => {
  await withServer(PROTECTED, async (t) => {
    const ws = await connect(`${t.wsUrl}/ws/protected/general?token=${await member()}`);
    await waitMembers(t, 'protected/general', 1);
    ws.send({ type: 'message', text: 'authenticated hello' });
    assert.equal((await ws.nextOfType('message'))['text'], 'authenticated hello');
    ws.close();
  });
});

test('an anonymous client a room refuses gets 401 (credentials could help), before the upgrade', async () => {
  const options: ServerOptions = { ...PROTECTED, auth: { ...PROTECTED.auth, allowAnonymous: true } };
  await withServer(options, async (t) => {
    const refused = await upgradeStatus(`${t.wsUrl}/ws/protected/general`);
    assert.equal(refused.status, 401);
    assert.equal(errorCodeOf(refused.body), 'unauthorized');
    // The same anonymous client may still join a room nobody protects.
    const open = await connect(`${t.wsUrl}/ws/lobby`);
    await waitMembers(t, 'lobby', 1);
    open.close();
  });
});

test('after a first-message auth the identity is known only after the upgrade: a forbidden room closes with 4505', async () => {
  await withServer(PROTECTED, async (t) => {
    const ws = await connect(`${t.wsUrl}/ws/protected/general`); // no credentials: firstMessageAuth
    ws.send({ id: 1, type: 'auth', token: await outsider() });
    assert.equal((await ws.closed).code, 4505);
    const allowed = await connect(`${t.wsUrl}/ws/protected/general`);
    allowed.send({ id: 1, type: 'auth', token: await member() });
    await waitMembers(t, 'protected/general', 1);
    allowed.close();
  });
});

test('the authorize hook decides once, before the upgrade, and sees the id the connection then opens under', async () => {
  const seen: AuthorizationRequest[] = [];
  const opened: string[] = [];
  const users: Authenticator = {
    authenticate: (request) =>
      Promise.resolve({ ok: true, principal: { userId: request.url.searchParams.get('user') } }),
  };
  const options: ServerOptions = {
    authenticator: users,
    authorize: (request) => {
      seen.push(request);
      return request.operation !== 'subscribe' || request.connection.userId === 'alice';
    },
    onConnect: (connection) => {
      opened.push(connection.id);
    },
  };
  await withServer(options, async (t) => {
    const refused = await upgradeStatus(`${t.wsUrl}/ws/team?user=bob`);
    assert.equal(refused.status, 403);
    assert.equal(opened.length, 0, 'a refused join never opens a connection');
    const alice = await connect(`${t.wsUrl}/ws/team?user=alice`);
    await waitMembers(t, 'team', 1);
    const subscribes = seen.filter((r) => r.operation === 'subscribe');
    assert.equal(subscribes.length, 2, 'one decision per join: none again after the upgrade');
    assert.equal(subscribes[1]?.connection.id, opened[0]);
    assert.ok(t.server.getConnection(opened[0] ?? '') !== undefined);
    assert.equal(subscribes[1]?.channel, 'team');
    alice.close();
  });
});

test('an authorize hook that throws before the upgrade is a 503 with Retry-After, not a crash', async () => {
  const options: ServerOptions = {
    authorize: () => {
      throw new Error('the permission service is down');
    },
    logger: silentLogger,
  };
  await withServer(options, async (t) => {
    const response = await new Promise<{ status: number; retryAfter: string | undefined; body: string }>(
      (resolve, reject) => {
        void import('ws').then(({ default: WebSocket }) => {
          const ws = new WebSocket(`${t.wsUrl}/ws/anything`);
          ws.on('unexpected-response', (_req, res) => {
            let body = '';
            res.on('data', (chunk: Buffer) => (body += chunk.toString()));
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'], body }),
            );
          });
          ws.on('open', () => reject(new Error('upgrade unexpectedly succeeded')));
          ws.on('error', () => {});
        });
      },
    );
    assert.equal(response.status, 503);
    assert.equal(response.retryAfter, '1');
    assert.equal(errorCodeOf(response.body), 'unavailable');
  });
});

test('after a first-message auth, an authorize hook that throws is an error frame and 1013 (try again later)', async () => {
  const options: ServerOptions = {
    ...PROTECTED,
    authorize: () => {
      throw new Error('the permission service is down');
    },
    logger: silentLogger,
  };
  await withServer(options, async (t) => {
    const ws = await connect(`${t.wsUrl}/ws/protected/general`);
    ws.send({ id: 1, type: 'auth', token: await member() });
    assert.equal((await ws.nextOfType('error'))['code'], 'internal');
    assert.equal((await ws.closed).code, 1013);
  });
});
