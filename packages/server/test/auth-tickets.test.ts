// One-time tickets: `POST <base>/auth/ticket` with a bearer token, then `?ticket=` on /ws or /ws/:room.
// A ticket works once, for the user it was minted for, within its TTL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryTicketStore } from '../src/index.js';
import { connectV1, startServer, waitMembers } from './helpers.js';
import type { TestServer } from './helpers.js';
import { SECRET, ShiftedClock, errorCodeOf, handshake, hsToken } from './auth-fixtures.js';

interface TicketAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly headers: Headers;
}

async function mint(t: TestServer, authorization?: string, method = 'POST'): Promise<TicketAnswer> {
  const response = await fetch(`${t.httpUrl}/auth/ticket`, {
    method,
    headers: authorization === undefined ? {} : { authorization },
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
    headers: response.headers,
  };
}

async function ticketFor(t: TestServer, sub: string, expIn = 3600): Promise<string> {
  const answer = await mint(t, `Bearer ${await hsToken({ sub, expIn })}`);
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return answer.body['ticket'] as string;
}

/** The status of a handshake redeeming `ticket` (101 when it opened). */
async function redeem(t: TestServer, ticket: string, endpoint = '/ws'): Promise<number> {
  const result = await handshake(`${t.wsUrl}${endpoint}?ticket=${encodeURIComponent(ticket)}`, undefined);
  if (result.kind === 'open') {
    result.ws.close();
    return 101;
  }
  if (result.kind === 'refused') return result.status;
  throw new Error(result.message);
}

describe('tickets', () => {
  let t: TestServer;
  const clock = new ShiftedClock();
  before(async () => {
    // A token expiring within the skew is still accepted: zero skew keeps the expiry test exact.
    t = await startServer({ auth: { secret: SECRET, clockSkewMs: 0 }, clock });
  });
  after(() => t.stop());

  test('POST /auth/ticket answers a ticket and expires_in 30, never cached', async () => {
    const answer = await mint(t, `Bearer ${await hsToken()}`);
    assert.equal(answer.status, 200);
    assert.deepEqual(Object.keys(answer.body).sort(), ['expires_in', 'ticket']);
    assert.equal(answer.body['expires_in'], 30);
    assert.match(answer.body['ticket'] as string, /^[\w-]{43}$/);
    assert.equal(answer.headers.get('cache-control'), 'no-store');
  });

  test('a ticket opens one connection, for the user it was minted for; a replay is 401', async () => {
    const ticket = await ticketFor(t, 'alice');
    const { client, connected } = await connectV1(t, {}, `?ticket=${ticket}`);
    assert.equal(connected['userId'], 'alice');
    assert.deepEqual(
      t.server.getUserConnections('alice').map((c) => c.id),
      [connected['connectionId']],
    );
    const replay = await handshake(`${t.wsUrl}/ws?ticket=${ticket}`, undefined);
    assert.equal(replay.kind === 'refused' && replay.status, 401);
    assert.equal(replay.kind === 'refused' && errorCodeOf(replay.body), 'unauthorized');
    client.close();
  });

  test('two upgrades racing with one ticket: exactly one opens', async () => {
    const ticket = await ticketFor(t, 'racer');
    const statuses = await Promise.all([redeem(t, ticket), redeem(t, ticket), redeem(t, ticket)]);
    assert.deepEqual(statuses.sort(), [101, 401, 401]);
  });

  test('a ticket opens a room connection too', async () => {
    const ticket = await ticketFor(t, 'bob');
    const result = await handshake(`${t.wsUrl}/ws/ticket-room?ticket=${ticket}`, undefined);
    assert.equal(result.kind, 'open');
    await waitMembers(t, 'ticket-room', 1);
    assert.equal(t.server.getUserConnections('bob').length, 1);
    if (result.kind === 'open') result.ws.close();
  });

  test('an expired ticket is 401', async () => {
    const ticket = await ticketFor(t, 'carol');
    clock.advance(30_001);
    assert.equal(await redeem(t, ticket), 401);
  });

  test('a ticket whose token expired since minting is 401 token_expired', async () => {
    // Ten seconds from the server's (shifted) now.
    const ticket = await ticketFor(t, 'dave', Math.ceil(clock.offsetMs / 1000) + 10);
    clock.advance(11_000);
    const result = await handshake(`${t.wsUrl}/ws?ticket=${ticket}`, undefined);
    assert.equal(result.kind === 'refused' && result.status, 401);
    assert.equal(result.kind === 'refused' && errorCodeOf(result.body), 'token_expired');
  });

  test('forged, unknown, malformed and empty tickets are 401', async () => {
    const forged = Buffer.alloc(32, 7).toString('base64url');
    for (const ticket of [forged, 'abc', 'x'.repeat(500), '']) {
      assert.equal(await redeem(t, ticket), 401, JSON.stringify(ticket));
    }
    const twice = await handshake(`${t.wsUrl}/ws?ticket=${forged}&ticket=${forged}`, undefined);
    assert.equal(twice.kind === 'refused' && twice.status, 401);
  });

  test('POST /auth/ticket without a bearer, with a bad one or an expired one: 401 with a Bearer challenge', async () => {
    const missing = await mint(t);
    assert.equal(missing.status, 401);
    assert.equal((missing.body['error'] as { code: string }).code, 'unauthorized');
    assert.equal(missing.headers.get('www-authenticate'), 'Bearer realm="switchboard"');
    for (const authorization of ['Bearer nonsense', `Basic ${Buffer.from('a:b').toString('base64')}`]) {
      const bad = await mint(t, authorization);
      assert.equal(bad.status, 401, authorization);
      assert.equal(bad.headers.get('www-authenticate'), 'Bearer realm="switchboard", error="invalid_token"');
    }
    const expired = await mint(t, `Bearer ${await hsToken({ expIn: -60 })}`);
    assert.equal(expired.status, 401);
    assert.equal((expired.body['error'] as { code: string }).code, 'token_expired');
    // The ticket route takes the token from the header only, never from the URL.
    const fromQuery = await fetch(`${t.httpUrl}/auth/ticket?token=${await hsToken()}`, { method: 'POST' });
    assert.equal(fromQuery.status, 401);
  });

  test('GET /auth/ticket is 405; the route exists only with auth configured', async () => {
    const get = await mint(t, `Bearer ${await hsToken()}`, 'GET');
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST');
    const open = await startServer();
    try {
      assert.equal((await mint(open, `Bearer ${await hsToken()}`)).status, 404);
    } finally {
      await open.stop();
    }
  });
});

describe('tickets: base path, TTL and a full store', () => {
  test('under basePath, with ticketTtlMs 5000: expires_in 5 and the ticket opens /rt/ws', async () => {
    const t = await startServer({ basePath: '/rt', auth: { secret: SECRET, ticketTtlMs: 5000 } });
    try {
      const answer = await mint(t, `Bearer ${await hsToken({ sub: 'eve' })}`);
      assert.equal(answer.body['expires_in'], 5);
      const { connected } = await connectV1(t, {}, `?ticket=${answer.body['ticket'] as string}`);
      assert.equal(connected['userId'], 'eve');
    } finally {
      await t.stop();
    }
  });

  test('a full ticket store answers 503 unavailable, and frees up as tickets are redeemed', async () => {
    const ticketStore = new MemoryTicketStore({ maxTickets: 1 });
    const t = await startServer({ auth: { secret: SECRET, ticketStore } });
    try {
      const first = await ticketFor(t, 'fay');
      const full = await mint(t, `Bearer ${await hsToken()}`);
      assert.equal(full.status, 503);
      assert.equal((full.body['error'] as { code: string }).code, 'unavailable');
      assert.equal(await redeem(t, first), 101);
      assert.equal((await mint(t, `Bearer ${await hsToken()}`)).status, 200);
    } finally {
      await t.stop();
    }
  });
});
