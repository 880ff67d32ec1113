// First-message authentication, in-band refresh and expiry, over the Authenticator seam (the JWT
// authenticator has its own tests; here the tokens are `user:<id>:<expiresAtMs>`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, startServer, waitMembers } from './helpers.js';
import type { Authenticator, AuthRefusal, Principal } from '../src/index.js';

function verify(token: string): Promise<{ ok: true; principal: Principal } | AuthRefusal> {
  const [kind, user, exp] = token.split(':');
  if (kind !== 'user' || user === undefined || exp === undefined) {
    return Promise.resolve({ ok: false, status: 401, code: 'unauthorized', message: 'bad token' });
  }
  if (Number(exp) <= Date.now())
    return Promise.resolve({ ok: false, status: 401, code: 'token_expired', message: 'token expired' });
  return Promise.resolve({ ok: true, principal: { userId: user, expiresAt: Number(exp) } });
}

const tokens: Authenticator = {
  authenticate: (request) => {
    const token = request.url.searchParams.get('token');
    return token === null ? Promise.resolve({ ok: 'deferred' }) : verify(token);
  },
  verifyToken: verify,
};

const inAnHour = (): number => Date.now() + 3_600_000;

test('the first frame authenticates; the connected push follows with the user', async () => {
  const t = await startServer({ authenticator: tokens });
  try {
    const client = await connect(`${t.wsUrl}/ws`);
    client.send({ id: 1, type: 'auth', token: `user:alice:${inAnHour()}` });
    const reply = await client.reply(1);
    assert.equal((reply['result'] as { userId: string }).userId, 'alice');
    const connected = await client.nextOfType('connected');
    assert.equal(connected['userId'], 'alice');
    assert.equal(t.server.getUserConnections('alice').length, 1);
    client.close();
  } finally {
    await t.stop();
  }
});

test('anything else first closes with 4504; a bad token closes with 4504; silence closes with 4506', async () => {
  const t = await startServer({ authenticator: tokens, authTimeoutMs: 100 });
  try {
    const bystander = await connect(`${t.wsUrl}/ws/room?token=user:bob:${inAnHour()}`);
    await waitMembers(t, 'room', 1);
    const eager = await connect(`${t.wsUrl}/ws`);
    eager.send({ id: 1, type: 'subscribe', channel: 'room' });
    assert.equal((await eager.reply(1))['error'] !== undefined, true);
    assert.equal((await eager.closed).code, 4504);
    const forger = await connect(`${t.wsUrl}/ws`);
    forger.send({ id: 1, type: 'auth', token: 'forged' });
    assert.equal(((await forger.reply(1))['error'] as { code: string }).code, 'unauthorized');
    assert.equal((await forger.closed).code, 4504);
    const stale = await connect(`${t.wsUrl}/ws`);
    stale.send({ id: 1, type: 'auth', token: `user:carl:${Date.now() - 1000}` });
    assert.equal(((await stale.reply(1))['error'] as { code: string }).code, 'token_expired');
    assert.equal((await stale.closed).code, 4504);
    const silent = await connect(`${t.wsUrl}/ws`);
    assert.deepEqual(await silent.closed, { code: 4506, reason: 'no auth message in time' });
    // the room dialect follows the same rule
    const roomSilent = await connect(`${t.wsUrl}/ws/room`);
    assert.equal((await roomSilent.closed).code, 4506);
    bystander.send({ text: 'still served' });
    assert.equal((await bystander.next())['text'], 'still served');
    bystander.close();
  } finally {
    await t.stop();
  }
});

test('refresh extends the expiry for the same user; another user is refused; expiry closes with 4004', async () => {
  const t = await startServer({ authenticator: tokens, tokenExpiryGraceMs: 0 });
  try {
    const soon = Date.now() + 1500;
    const client = await connect(`${t.wsUrl}/ws?token=user:dana:${soon}`);
    await client.nextOfType('connected');
    const other = await client.request({ id: 1, type: 'refresh', token: `user:eve:${inAnHour()}` });
    assert.equal((other['error'] as { code: string }).code, 'permission_denied');
    const later = inAnHour();
    const refreshed = await client.request({ id: 2, type: 'refresh', token: `user:dana:${later}` });
    assert.deepEqual(refreshed['result'], { userId: 'dana', expiresAt: later });
    const again = await client.request({ id: 3, type: 'auth', token: `user:dana:${later}` });
    assert.equal(
      (again['error'] as { code: string }).code,
      'bad_request',
      'auth is for the first frame only',
    );
    // A second connection that does not refresh is closed once its token expires.
    const lapsing = await connect(`${t.wsUrl}/ws?token=user:fay:${Date.now() + 600}`);
    await lapsing.nextOfType('connected');
    assert.deepEqual(await lapsing.closed, { code: 4004, reason: 'token expired' });
    assert.deepEqual(
      (await client.request({ id: 4, type: 'ping' }))['result'],
      {},
      'the refreshed one stays',
    );
    client.close();
  } finally {
    await t.stop();
  }
});

test('room clients refresh in-band too; an authentication backend outage closes a pending client with 1011', async () => {
  let outage = false;
  const flaky: Authenticator = {
    authenticate: tokens.authenticate,
    verifyToken: (token) => (outage ? Promise.reject(new Error('identity provider down')) : verify(token)),
  };
  const t = await startServer({ authenticator: flaky, tokenExpiryGraceMs: 0 });
  try {
    const room = await connect(`${t.wsUrl}/ws/lobby?token=user:gus:${Date.now() + 800}`);
    room.send({ type: 'refresh', token: `user:gus:${inAnHour()}` });
    room.send({ type: 'refresh' });
    assert.equal(
      (await room.nextOfType('error'))['code'],
      'bad_request',
      'the malformed refresh is answered',
    );
    outage = true;
    const pending = await connect(`${t.wsUrl}/ws`);
    pending.send({ id: 1, type: 'auth', token: `user:hal:${inAnHour()}` });
    assert.equal(((await pending.reply(1))['error'] as { code: string }).code, 'internal');
    assert.equal((await pending.closed).code, 1011);
    // the refreshed room client outlives its first token's expiry: a ping round trip after it
    await new Promise((r) => setTimeout(r, 1200)); // past the first token's exp; nothing to await but time
    room.send({ type: 'ping' });
    assert.deepEqual(await room.nextOfType('pong'), { type: 'pong' });
    room.close();
  } finally {
    await t.stop();
  }
});

test('a pong while a slow auth is being verified does not count as a non-auth first frame', async () => {
  const slow: Authenticator = {
    authenticate: () => Promise.resolve({ ok: 'deferred' }),
    verifyToken: (token) => new Promise((resolve) => setTimeout(() => void verify(token).then(resolve), 300)),
  };
  const t = await startServer({ authenticator: slow, heartbeatIntervalMs: 50, heartbeatTimeoutMs: 1000 });
  try {
    const client = await connect(`${t.wsUrl}/ws`, { autoPong: false });
    client.ws.on('message', (data) => {
      if (data.toString() === '{"type":"ping"}') client.send({ type: 'pong' });
    });
    client.send({ id: 1, type: 'auth', token: `user:ivy:${inAnHour()}` });
    assert.equal(((await client.reply(1, 3000))['result'] as { userId: string }).userId, 'ivy');
    assert.equal((await client.nextOfType('connected'))['userId'], 'ivy');
    client.close();
  } finally {
    await t.stop();
  }
});
