// Every way to present a JWT (Authorization header, bearer subprotocol, `?token=`, first message) on both
// endpoints: each bad token is refused with its exact status or close code, good tokens open the
// connection for their user, and clients already connected keep their service throughout.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { APP_SUBPROTOCOL, BEARER_SUBPROTOCOL_PREFIX } from '../src/index.js';
import type { Logger } from '../src/index.js';
import { TestClient, connect, connectV1, startServer, waitMembers } from './helpers.js';
import type { TestServer } from './helpers.js';
import {
  AUDIENCE,
  ISSUER,
  errorCodeOf,
  handshake,
  hsToken,
  keyPair,
  noneToken,
  secretKey,
  sign,
  SECRET,
  within,
} from './auth-fixtures.js';
import type { HandshakeResult } from './auth-fixtures.js';

const auth = { secret: SECRET, audience: AUDIENCE, issuer: ISSUER };

/** A bad token and the error code that must refuse it. */
interface BadToken {
  readonly name: string;
  readonly code: 'unauthorized' | 'token_expired';
  readonly make: () => Promise<string>;
}

const BAD_TOKENS: readonly BadToken[] = [
  { name: 'malformed', code: 'unauthorized', make: () => Promise.resolve('not-a-jwt') },
  { name: 'expired', code: 'token_expired', make: () => hsToken({ expIn: -60 }) },
  { name: 'not yet valid', code: 'unauthorized', make: () => hsToken({ nbfIn: 60 }) },
  {
    name: 'wrong signature',
    code: 'unauthorized',
    make: () => sign(secretKey('another-secret-of-at-least-32-bytes-0123456789'), {}),
  },
  { name: 'wrong audience', code: 'unauthorized', make: () => hsToken({ aud: 'another-service' }) },
  { name: 'wrong issuer', code: 'unauthorized', make: () => hsToken({ iss: 'https://elsewhere.test' }) },
  {
    name: 'wrong algorithm (RS256 on an HS256 server)',
    code: 'unauthorized',
    make: async () => sign((await keyPair('RS256')).privateKey, { alg: 'RS256' }),
  },
  { name: 'alg none', code: 'unauthorized', make: () => Promise.resolve(noneToken()) },
  { name: 'no subject', code: 'unauthorized', make: () => hsToken({ sub: null }) },
  { name: 'no expiry', code: 'unauthorized', make: () => hsToken({ expIn: null }) },
];

type Presenter = (url: string, token: string) => Promise<HandshakeResult>;

const PRESENTERS: Readonly<Record<'header' | 'subprotocol' | 'query', Presenter>> = {
  header: (url, token) => handshake(url, undefined, { headers: { authorization: `Bearer ${token}` } }),
  subprotocol: (url, token) => handshake(url, [APP_SUBPROTOCOL, `${BEARER_SUBPROTOCOL_PREFIX}${token}`]),
  query: (url, token) => handshake(`${url}?token=${encodeURIComponent(token)}`, undefined),
};

/** Captures every log line, to prove none of them carries a credential. */
function capturingLogger(lines: string[]): Logger {
  const log = (obj: object, msg?: string): void => {
    lines.push(`${msg ?? ''} ${JSON.stringify(obj, (_k, v: unknown) => (v instanceof Error ? v.stack : v))}`);
  };
  return { debug: log, info: log, warn: log, error: log };
}

async function opened(result: HandshakeResult): Promise<TestClient> {
  assert.equal(result.kind, 'open', JSON.stringify(result));
  if (result.kind !== 'open') throw new Error('unreachable');
  return result.client;
}

describe('token presentation with JWT auth configured', () => {
  let t: TestServer;
  const logLines: string[] = [];
  let bystander: TestClient;
  let roomBystander: TestClient;

  before(async () => {
    t = await startServer({ auth, authTimeoutMs: 2000, logger: capturingLogger(logLines) });
    // Connected before every refusal below; the last test checks they were served throughout.
    bystander = (
      await connectV1(t, { headers: { authorization: `Bearer ${await hsToken({ sub: 'zoe' })}` } })
    ).client;
    await bystander.request({ id: 1, type: 'subscribe', channel: 'news' });
    roomBystander = await connect(`${t.wsUrl}/ws/lobby`, {
      headers: { authorization: `Bearer ${await hsToken({ sub: 'yan' })}` },
    });
    await waitMembers(t, 'lobby', 1);
  });
  after(async () => {
    await t.stop();
  });

  for (const [path, present] of Object.entries(PRESENTERS)) {
    test(`${path}: every bad token is refused with 401 and its code before the upgrade, on /ws and /ws/:room`, async () => {
      for (const bad of BAD_TOKENS) {
        const token = await bad.make();
        for (const endpoint of ['/ws', '/ws/lobby']) {
          const result = await present(`${t.wsUrl}${endpoint}`, token);
          assert.equal(result.kind, 'refused', `${bad.name} on ${endpoint}: ${JSON.stringify(result)}`);
          if (result.kind !== 'refused') continue;
          assert.equal(result.status, 401, `${bad.name} on ${endpoint}`);
          assert.equal(errorCodeOf(result.body), bad.code, `${bad.name} on ${endpoint}: ${result.body}`);
        }
      }
    });

    test(`${path}: a valid token opens /ws and /ws/:room for its user`, async () => {
      const token = await hsToken({ sub: `user-${path}` });
      const v1 = await opened(await present(`${t.wsUrl}/ws`, token));
      assert.equal((await v1.nextOfType('connected'))['userId'], `user-${path}`);
      const room = await opened(await present(`${t.wsUrl}/ws/room-${path}`, token));
      await waitMembers(t, `room-${path}`, 1);
      assert.equal(t.server.getUserConnections(`user-${path}`).length, 2);
      v1.close();
      room.close();
      await Promise.all([v1.closed, room.closed]);
    });
  }

  test('first message: every bad token gets its error, then close 4504, on /ws and /ws/:room', async () => {
    for (const bad of BAD_TOKENS) {
      const token = await bad.make();
      const v1 = await connect(`${t.wsUrl}/ws`);
      v1.send({ id: 1, type: 'auth', token });
      assert.equal(((await v1.reply(1))['error'] as { code: string }).code, bad.code, bad.name);
      assert.equal((await v1.closed).code, 4504, bad.name);
      const room = await connect(`${t.wsUrl}/ws/lobby`);
      room.send({ type: 'auth', token });
      assert.equal((await room.nextOfType('error'))['code'], bad.code, `${bad.name} (room)`);
      assert.equal((await room.closed).code, 4504, `${bad.name} (room)`);
    }
  });

  test('first message: a valid token opens /ws and /ws/:room; anything else first closes 4504', async () => {
    const token = await hsToken({ sub: 'frida', claims: { scope: 'read write' } });
    const v1 = await connect(`${t.wsUrl}/ws`);
    v1.send({ id: 1, type: 'auth', token });
    const result = (await v1.reply(1))['result'] as { userId: string; expiresAt: number };
    assert.equal(result.userId, 'frida');
    assert.equal(result.expiresAt % 1000, 0, 'expiresAt is exp in ms');
    assert.equal((await v1.nextOfType('connected'))['userId'], 'frida');
    const room = await connect(`${t.wsUrl}/ws/first-room`);
    room.send({ type: 'auth', token });
    await waitMembers(t, 'first-room', 1);
    const eager = await connect(`${t.wsUrl}/ws`);
    eager.send({ id: 1, type: 'subscribe', channel: 'news' });
    assert.equal(((await eager.reply(1))['error'] as { code: string }).code, 'unauthorized');
    assert.equal((await eager.closed).code, 4504);
    v1.close();
    room.close();
  });

  test('subprotocol: only switchboard.v1 is echoed, never the token, whatever the order offered', async () => {
    const token = await hsToken({ sub: 'gus' });
    for (const protocols of [
      [APP_SUBPROTOCOL, `${BEARER_SUBPROTOCOL_PREFIX}${token}`],
      [`${BEARER_SUBPROTOCOL_PREFIX}${token}`, APP_SUBPROTOCOL],
    ]) {
      const result = await handshake(`${t.wsUrl}/ws`, protocols);
      const client = await opened(result);
      assert.equal(result.kind === 'open' && result.header, APP_SUBPROTOCOL);
      assert.equal(client.ws.protocol, APP_SUBPROTOCOL);
      assert.equal((await client.nextOfType('connected'))['userId'], 'gus');
      client.close();
    }
  });

  test('subprotocol: a bearer without switchboard.v1 beside it is refused with 401, not left to fail in the client', async () => {
    const token = await hsToken({ sub: 'gus' });
    for (const protocols of [
      [`${BEARER_SUBPROTOCOL_PREFIX}${token}`],
      ['chat', `${BEARER_SUBPROTOCOL_PREFIX}${token}`],
    ]) {
      const result = await handshake(`${t.wsUrl}/ws`, protocols);
      assert.equal(result.kind, 'refused');
      if (result.kind !== 'refused') continue;
      assert.equal(result.status, 401);
      assert.match(result.body, /offer the subprotocol switchboard\.v1/);
      assert.ok(!result.body.includes(token), 'the refusal does not echo the token');
    }
    const two = await handshake(`${t.wsUrl}/ws`, [
      APP_SUBPROTOCOL,
      `${BEARER_SUBPROTOCOL_PREFIX}${token}`,
      `${BEARER_SUBPROTOCOL_PREFIX}${await hsToken({ sub: 'hal' })}`,
    ]);
    assert.equal(two.kind === 'refused' && two.status, 401, 'two bearer subprotocols');
  });

  test('switchboard.v1 alone with a header token is echoed; no protocol offered, none selected', async () => {
    const headers = { authorization: `Bearer ${await hsToken({ sub: 'ida' })}` };
    const withApp = await handshake(`${t.wsUrl}/ws`, [APP_SUBPROTOCOL], { headers });
    assert.equal(withApp.kind === 'open' && withApp.protocol, APP_SUBPROTOCOL);
    const without = await handshake(`${t.wsUrl}/ws`, undefined, { headers });
    assert.equal(without.kind === 'open' && without.protocol, '');
    assert.equal(without.kind === 'open' && without.header, undefined);
    for (const r of [withApp, without]) if (r.kind === 'open') r.ws.close();
  });

  test('more than one credential is refused: two layers must not disagree about the user', async () => {
    const alice = await hsToken({ sub: 'alice' });
    const mallory = await hsToken({ sub: 'mallory' });
    const result = await handshake(`${t.wsUrl}/ws?token=${mallory}`, undefined, {
      headers: { authorization: `Bearer ${alice}` },
    });
    assert.equal(result.kind === 'refused' && result.status, 401);
    assert.equal(result.kind === 'refused' && errorCodeOf(result.body), 'unauthorized');
    const repeated = await handshake(`${t.wsUrl}/ws?token=${alice}&token=${alice}`, undefined);
    assert.equal(repeated.kind === 'refused' && repeated.status, 401, 'a repeated token parameter');
  });

  test('the Authorization header must be Bearer; other schemes and an empty bearer are 401', async () => {
    for (const authorization of ['Basic YWxpY2U6cHc=', 'Bearer', 'Bearer ', 'Token abc.def.ghi']) {
      const result = await handshake(`${t.wsUrl}/ws`, undefined, { headers: { authorization } });
      assert.equal(result.kind === 'refused' && result.status, 401, authorization);
    }
  });

  test('clients connected before all those refusals kept their service', async () => {
    await t.server.publish('news', 'still here');
    assert.equal((await bystander.nextOfType('message'))['data'], 'still here');
    roomBystander.send({ text: 'still served' });
    assert.equal((await roomBystander.next())['text'], 'still served');
    assert.equal(t.server.getUserConnections('zoe').length, 1);
    assert.equal(t.server.getUserConnections('yan').length, 1);
  });

  test('no log line carries a token', async () => {
    const token = await hsToken({ sub: 'leak-check' });
    const client = await opened(await PRESENTERS.query(`${t.wsUrl}/ws`, token));
    await client.nextOfType('connected');
    client.close();
    await client.closed;
    const bad = await handshake(`${t.wsUrl}/ws?token=${token}x`, undefined);
    assert.equal(bad.kind, 'refused');
    const signature = token.split('.')[2] ?? token;
    for (const line of logLines) assert.ok(!line.includes(signature), line);
  });
});

describe('handshakes without credentials', () => {
  test('first message: silence past authTimeoutMs closes with 4506 on /ws and /ws/:room', async () => {
    const t = await startServer({ auth, authTimeoutMs: 100 });
    try {
      const v1 = await connect(`${t.wsUrl}/ws`);
      const room = await connect(`${t.wsUrl}/ws/lobby`);
      assert.equal((await within(v1.closed, 3000, 'silent /ws client')).code, 4506);
      assert.equal((await within(room.closed, 3000, 'silent room client')).code, 4506);
    } finally {
      await t.stop();
    }
  });

  test('firstMessageAuth false: no credentials is 401 before the upgrade', async () => {
    const t = await startServer({ auth: { ...auth, firstMessageAuth: false } });
    try {
      for (const endpoint of ['/ws', '/ws/lobby']) {
        const result = await handshake(`${t.wsUrl}${endpoint}`, undefined);
        assert.equal(result.kind === 'refused' && result.status, 401, endpoint);
        assert.equal(result.kind === 'refused' && errorCodeOf(result.body), 'unauthorized');
      }
      const token = await hsToken();
      const ok = await handshake(`${t.wsUrl}/ws`, undefined, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(ok.kind, 'open');
      if (ok.kind === 'open') ok.ws.close();
    } finally {
      await t.stop();
    }
  });

  test('the 401 for no credentials lists every way this server accepts one, ?token= only when enabled', async () => {
    for (const queryToken of [true, false]) {
      const t = await startServer({ auth: { ...auth, firstMessageAuth: false, queryToken } });
      try {
        const result = await handshake(`${t.wsUrl}/ws`, undefined);
        const body = result.kind === 'refused' ? result.body : '';
        assert.match(body, /Authorization: Bearer/);
        assert.match(body, /switchboard\.bearer\.<token> subprotocol/);
        assert.match(body, /\?ticket=/);
        assert.equal(/\?token=/.test(body), queryToken, body);
      } finally {
        await t.stop();
      }
    }
  });

  test('allowAnonymous: no credentials is anonymous, an invalid credential is still 401', async () => {
    const t = await startServer({ auth: { ...auth, allowAnonymous: true } });
    try {
      const { client, connected } = await connectV1(t);
      assert.equal(connected['userId'], null);
      const room = await connect(`${t.wsUrl}/ws/lobby`);
      await waitMembers(t, 'lobby', 1);
      for (const bad of BAD_TOKENS) {
        const result = await PRESENTERS.header(`${t.wsUrl}/ws`, await bad.make());
        assert.equal(result.kind === 'refused' && result.status, 401, bad.name);
      }
      const named = await connectV1(t, {
        headers: { authorization: `Bearer ${await hsToken({ sub: 'jo' })}` },
      });
      assert.equal(named.connected['userId'], 'jo');
      client.close();
      room.close();
      named.client.close();
    } finally {
      await t.stop();
    }
  });

  test('queryToken false: ?token= is 401 and the other ways still work', async () => {
    const t = await startServer({ auth: { ...auth, queryToken: false } });
    try {
      const token = await hsToken();
      const refused = await PRESENTERS.query(`${t.wsUrl}/ws`, token);
      assert.equal(refused.kind === 'refused' && refused.status, 401);
      assert.match(refused.kind === 'refused' ? refused.body : '', /token parameter is disabled/);
      const ok = await PRESENTERS.subprotocol(`${t.wsUrl}/ws`, token);
      assert.equal(ok.kind, 'open');
      if (ok.kind === 'open') ok.ws.close();
    } finally {
      await t.stop();
    }
  });
});
