// The server HTTP API (`/api/...`, docs/http-api.md): deliveries to real ws clients, then every way a
// request can be refused, each answered with a status and an error code while the clients keep their service.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { ERROR_CODE_INFO } from '@switchboard/protocol';
import type { ErrorCode, ErrorPayload } from '@switchboard/protocol';
import { connect, connectV1, startServer } from './helpers.js';
import type { TestClient, TestServer } from './helpers.js';
import type { Authenticator } from '../src/index.js';

/** The user id comes from the `user` query parameter; anonymous without it. */
const authenticator: Authenticator = {
  authenticate: async (req) => ({ ok: true, principal: { userId: req.url.searchParams.get('user') } }),
};

const API_KEY = 'test-api-key-0123456789abcdef';

interface ApiResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: unknown;
}

interface CallOptions {
  /** A value sent as JSON with `content-type: application/json`. */
  readonly json?: unknown;
  /** A body sent as it is (with `content-type: application/json` unless `headers` say otherwise). */
  readonly raw?: string;
  readonly headers?: Record<string, string>;
}

/** One HTTP request with fetch; the body is parsed as JSON when it is JSON. */
async function call(
  t: TestServer,
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<ApiResponse> {
  const text = options.json !== undefined ? JSON.stringify(options.json) : options.raw;
  const headers: Record<string, string> = {
    ...(text === undefined ? {} : { 'content-type': 'application/json' }),
    ...options.headers,
  };
  const res = await fetch(`${t.httpUrl}${path}`, {
    method,
    headers,
    ...(text === undefined ? {} : { body: text }),
  });
  const body = await res.text();
  let parsed: unknown = body;
  try {
    parsed = JSON.parse(body);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

/** A POST whose body goes out in several chunks with `Transfer-Encoding: chunked` (no Content-Length). */
function postChunked(t: TestServer, path: string, chunks: readonly string[]): Promise<ApiResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${t.httpUrl}${path}`,
      { method: 'POST', headers: { 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: new Headers({ 'content-type': res.headers['content-type'] ?? '' }),
            body: JSON.parse(text) as unknown,
          }),
        );
      },
    );
    req.on('error', reject);
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

/** The stream epoch in a channel-info answer (random per stream, so tests read it rather than predict it). */
function epochOf(res: ApiResponse): string {
  const epoch = (res.body as { epoch?: unknown }).epoch;
  assert.equal(typeof epoch, 'string');
  return epoch as string;
}

function assertOk(res: ApiResponse, expected: unknown = {}): void {
  assert.equal(res.status, 200, `expected 200, got ${res.status}: ${JSON.stringify(res.body)}`);
  assert.deepEqual(res.body, expected);
}

/** The response is `status` with `{"error":{"code","message","temporary"}}` for `code`. */
function assertError(res: ApiResponse, status: number, code: ErrorCode): void {
  assert.equal(
    res.status,
    status,
    `expected ${status} ${code}, got ${res.status}: ${JSON.stringify(res.body)}`,
  );
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  const error = (res.body as { error?: ErrorPayload }).error;
  assert.ok(error !== undefined, `no error object in ${JSON.stringify(res.body)}`);
  assert.deepEqual(Object.keys(error).sort(), ['code', 'message', 'temporary']);
  assert.equal(error.code, code);
  assert.equal(typeof error.message, 'string');
  assert.ok(error.message.length > 0);
  assert.equal(error.temporary, ERROR_CODE_INFO[code].temporary);
}

let counter = 0;
/** A channel name no other test uses, so its ids start at 1. */
function fresh(prefix: string): string {
  return `${prefix}:${++counter}`;
}

/** Resolve when `channel` has `members` subscribers; room members register as the upgrade completes. */
async function waitMembers(t: TestServer, channel: string, members: number): Promise<void> {
  const deadline = Date.now() + 3000;
  while ((await t.server.channelInfo(channel)).members < members) {
    if (Date.now() > deadline) throw new Error(`${channel} never reached ${members} members`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** A v1 client (optionally as `user`) with its connection id. */
async function v1(t: TestServer, user?: string): Promise<{ client: TestClient; id: string }> {
  const { client, connected } = await connectV1(
    t,
    {},
    user === undefined ? '' : `?user=${encodeURIComponent(user)}`,
  );
  return { client, id: connected['connectionId'] as string };
}

async function subscribe(client: TestClient, channel: string): Promise<void> {
  const reply = await client.request({ id: 1, type: 'subscribe', channel });
  assert.ok('result' in reply, `subscribe failed: ${JSON.stringify(reply)}`);
}

async function closeAll(...clients: TestClient[]): Promise<void> {
  await Promise.all(
    clients.map((c) => {
      c.close();
      return c.closed;
    }),
  );
}

/**
 * Send a sentinel to `client`'s connection and assert it is the very next frame: nothing else (such as an
 * excluded message sent before it) reached the client in between. Delivery is in order per connection.
 */
async function assertNothingBefore(t: TestServer, client: TestClient, id: string): Promise<void> {
  const sentinel = `sentinel-${++counter}`;
  assertOk(await call(t, 'POST', `/api/connections/${id}/send`, { json: { data: sentinel } }));
  const next = await client.next();
  assert.deepEqual(next, { type: 'direct', data: sentinel, time: next['time'] });
}

describe('HTTP API deliveries', () => {
  let t: TestServer;
  before(async () => {
    t = await startServer({ authenticator });
  });
  after(() => t.stop());

  test('publish reaches v1 subscribers and /ws/:room members with sequential ids, and returns {id}', async () => {
    const channel = fresh('task');
    const { client: a } = await v1(t);
    await subscribe(a, channel);
    const room = await connect(`${t.wsUrl}/ws/${channel}`);
    await waitMembers(t, channel, 2);

    assertOk(await call(t, 'POST', '/api/publish', { json: { channel, data: { status: 'started' } } }), {
      id: 1,
    });
    assertOk(await call(t, 'POST', '/api/publish', { json: { channel, data: { status: 'done' } } }), {
      id: 2,
    });
    assertOk(await call(t, 'POST', '/api/publish', { json: { channel, data: 'plain text' } }), { id: 3 });

    for (const [id, data] of [
      [1, { status: 'started' }],
      [2, { status: 'done' }],
      [3, 'plain text'],
    ] as const) {
      const message = await a.nextOfType('message');
      assert.deepEqual(message, { type: 'message', channel, id, data, time: message['time'] });
      assert.equal(typeof message['time'], 'number');
    }
    // Room members get an object payload as it is, with `id` added; any other value wrapped.
    assert.deepEqual(await room.next(), { status: 'started', id: 1 });
    assert.deepEqual(await room.next(), { status: 'done', id: 2 });
    assert.deepEqual(await room.next(), { type: 'message', data: 'plain text', id: 3 });
    const info = await call(t, 'GET', `/api/channels/${encodeURIComponent(channel)}`);
    assertOk(info, { channel, members: 2, offset: 3, epoch: epochOf(info) });
    await closeAll(a, room);
  });

  test('an ephemeral publish returns {} and its message carries no id', async () => {
    const channel = fresh('cursor');
    const { client: a } = await v1(t);
    await subscribe(a, channel);
    const room = await connect(`${t.wsUrl}/ws/${channel}`);
    await waitMembers(t, channel, 2);

    assertOk(
      await call(t, 'POST', '/api/publish', { json: { channel, data: { x: 1 }, ephemeral: true } }),
      {},
    );
    const message = await a.nextOfType('message');
    assert.deepEqual(message, { type: 'message', channel, data: { x: 1 }, time: message['time'] });
    assert.deepEqual(await room.next(), { x: 1 });
    // Ephemeral messages take no offset: the next reliable one is still id 1.
    assertOk(await call(t, 'POST', '/api/publish', { json: { channel, data: { x: 2 }, ephemeral: false } }), {
      id: 1,
    });
    assert.equal((await a.nextOfType('message'))['id'], 1);
    await closeAll(a, room);
  });

  test('a retried publish with the same idempotency key answers the first id and is delivered once', async () => {
    const channel = fresh('orders');
    const { client: a } = await v1(t);
    await subscribe(a, channel);
    const body = { channel, data: { order: 7 }, idempotencyKey: 'order-7' };
    assertOk(await call(t, 'POST', '/api/publish', { json: body }), { id: 1 });
    assertOk(await call(t, 'POST', '/api/publish', { json: body }), { id: 1, duplicate: true });
    // The header works the same; another key is another message.
    const headers = { 'idempotency-key': 'order-8' };
    const json = { channel, data: { order: 8 } };
    assertOk(await call(t, 'POST', '/api/publish', { json, headers }), { id: 2 });
    assertOk(await call(t, 'POST', '/api/publish', { json, headers }), { id: 2, duplicate: true });
    assert.deepEqual((await a.nextOfType('message'))['data'], { order: 7 });
    assert.deepEqual((await a.nextOfType('message'))['data'], { order: 8 });
    assertOk(await call(t, 'POST', '/api/publish', { json: { channel, data: 'last' } }), { id: 3 });
    assert.equal((await a.nextOfType('message'))['id'], 3, 'the retries were not delivered');
    const bad = await call(t, 'POST', '/api/publish', { json: { channel, data: 1, idempotencyKey: 5 } });
    assert.equal(bad.status, 400);
    const long = await call(t, 'POST', '/api/publish', {
      json: { channel, data: 1, idempotencyKey: 'k'.repeat(129) },
    });
    assert.equal(long.status, 400);
    await closeAll(a);
  });

  test('publish honours exclude.connectionId and exclude.userId', async () => {
    const channel = fresh('chat');
    const alice1 = await v1(t, 'alice');
    const alice2 = await v1(t, 'alice');
    const bob = await v1(t, 'bob');
    for (const c of [alice1, alice2, bob]) await subscribe(c.client, channel);

    const byConnection = { channel, data: 'not to alice1', exclude: { connectionId: alice1.id } };
    assertOk(await call(t, 'POST', '/api/publish', { json: byConnection }), { id: 1 });
    for (const c of [alice2, bob])
      assert.equal((await c.client.nextOfType('message'))['data'], 'not to alice1');
    await assertNothingBefore(t, alice1.client, alice1.id);

    const byUser = { channel, data: 'not to alice', exclude: { userId: 'alice' } };
    assertOk(await call(t, 'POST', '/api/publish', { json: byUser }), { id: 2 });
    assert.equal((await bob.client.nextOfType('message'))['data'], 'not to alice');
    await assertNothingBefore(t, alice1.client, alice1.id);
    await assertNothingBefore(t, alice2.client, alice2.id);
    await closeAll(alice1.client, alice2.client, bob.client);
  });

  test('users/:userId/send reaches every connection of that user and nobody else', async () => {
    const alice1 = await v1(t, 'alice');
    const alice2 = await v1(t, 'alice');
    const aliceRoom = await connect(`${t.wsUrl}/ws/lobby?user=alice`);
    const bob = await v1(t, 'bob');
    const anonymous = await v1(t);
    await waitMembers(t, 'lobby', 1);

    assertOk(await call(t, 'POST', '/api/users/alice/send', { json: { data: { notification: 'hi' } } }));
    for (const c of [alice1, alice2]) {
      const direct = await c.client.nextOfType('direct');
      assert.deepEqual(direct, { type: 'direct', data: { notification: 'hi' }, time: direct['time'] });
    }
    assert.deepEqual(await aliceRoom.next(), { notification: 'hi' });
    await assertNothingBefore(t, bob.client, bob.id);
    await assertNothingBefore(t, anonymous.client, anonymous.id);

    // exclude.connectionId skips one of the user's connections (typically the one that caused the send).
    assertOk(
      await call(t, 'POST', '/api/users/alice/send', {
        json: { data: 'again', exclude: { connectionId: alice1.id } },
      }),
    );
    assert.equal((await alice2.client.nextOfType('direct'))['data'], 'again');
    assert.deepEqual(await aliceRoom.next(), { type: 'direct', data: 'again' });
    await assertNothingBefore(t, alice1.client, alice1.id);

    // A user nobody is connected as: accepted, delivered to no one.
    assertOk(await call(t, 'POST', '/api/users/nobody/send', { json: { data: 1 } }));
    await closeAll(alice1.client, alice2.client, aliceRoom, bob.client, anonymous.client);
  });

  test('user ids in the path are percent-decoded', async () => {
    const carol = await v1(t, 'carol@example.com/ops');
    assertOk(
      await call(t, 'POST', `/api/users/${encodeURIComponent('carol@example.com/ops')}/send`, {
        json: { data: 'x' },
      }),
    );
    assert.equal((await carol.client.nextOfType('direct'))['data'], 'x');
    await closeAll(carol.client);
  });

  test('connections/:connectionId/send reaches that connection only', async () => {
    const a = await v1(t, 'dave');
    const b = await v1(t, 'dave');
    assertOk(await call(t, 'POST', `/api/connections/${a.id}/send`, { json: { data: [1, 2, 3] } }));
    assert.deepEqual((await a.client.nextOfType('direct'))['data'], [1, 2, 3]);
    await assertNothingBefore(t, b.client, b.id);
    assertOk(await call(t, 'POST', '/api/connections/no-such-connection/send', { json: { data: 1 } }));
    await closeAll(a.client, b.client);
  });

  test('broadcast reaches every connection, with exclusions honoured', async () => {
    const anonymous = await v1(t);
    const erin = await v1(t, 'erin');
    const room = await connect(`${t.wsUrl}/ws/${fresh('hall')}`);
    assertOk(await call(t, 'POST', '/api/broadcast', { json: { data: { motd: 'maintenance at 5' } } }));
    for (const c of [anonymous, erin]) {
      const push = await c.client.nextOfType('broadcast');
      assert.deepEqual(push, { type: 'broadcast', data: { motd: 'maintenance at 5' }, time: push['time'] });
    }
    assert.deepEqual(await room.next(), { motd: 'maintenance at 5' });

    assertOk(
      await call(t, 'POST', '/api/broadcast', { json: { data: 'not erin', exclude: { userId: 'erin' } } }),
    );
    assert.equal((await anonymous.client.nextOfType('broadcast'))['data'], 'not erin');
    assert.deepEqual(await room.next(), { type: 'broadcast', data: 'not erin' });
    await assertNothingBefore(t, erin.client, erin.id);

    assertOk(
      await call(t, 'POST', '/api/broadcast', {
        json: { data: 'not anon', exclude: { connectionId: anonymous.id } },
      }),
    );
    assert.equal((await erin.client.nextOfType('broadcast'))['data'], 'not anon');
    await assertNothingBefore(t, anonymous.client, anonymous.id);
    await closeAll(anonymous.client, erin.client, room);
  });

  test('users/:userId/disconnect closes every connection of the user with 4502 by default; others keep service', async () => {
    const frank1 = await v1(t, 'frank');
    const frank2 = await connect(`${t.wsUrl}/ws/${fresh('room')}?user=frank`);
    const grace = await v1(t, 'grace');
    // No body at all: every field is optional.
    const res = await fetch(`${t.httpUrl}/api/users/frank/disconnect`, { method: 'POST' });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {});
    assert.deepEqual(await frank1.client.closed, { code: 4502, reason: 'disconnected by the server' });
    assert.deepEqual(await frank2.closed, { code: 4502, reason: 'disconnected by the server' });
    assertOk(await call(t, 'POST', '/api/users/grace/send', { json: { data: 'still here' } }));
    assert.equal((await grace.client.nextOfType('direct'))['data'], 'still here');
    await closeAll(grace.client);
  });

  test('users/:userId/disconnect uses the given code and reason', async () => {
    const heidi = await v1(t, 'heidi');
    assertOk(
      await call(t, 'POST', '/api/users/heidi/disconnect', { json: { code: 4002, reason: 'rebalancing' } }),
    );
    assert.deepEqual(await heidi.client.closed, { code: 4002, reason: 'rebalancing' });
  });

  test('connections/:connectionId/disconnect closes that connection only', async () => {
    const a = await v1(t, 'ivan');
    const b = await v1(t, 'ivan');
    assertOk(await call(t, 'POST', `/api/connections/${a.id}/disconnect`, { json: {} }));
    assert.deepEqual(await a.client.closed, { code: 4502, reason: 'disconnected by the server' });
    assertOk(
      await call(t, 'POST', `/api/connections/${b.id}/disconnect`, {
        json: { code: 4500, reason: 'replaced' },
      }),
    );
    assert.deepEqual(await b.client.closed, { code: 4500, reason: 'replaced' });
    const c = await v1(t, 'ivan');
    assertOk(await call(t, 'POST', '/api/users/ivan/send', { json: { data: 'c is fine' } }));
    assert.equal((await c.client.nextOfType('direct'))['data'], 'c is fine');
    await closeAll(c.client);
  });

  test('stats and channels/:channel reflect connections and channels', async () => {
    const channel = fresh('stats');
    const judy1 = await v1(t, 'judy');
    const judy2 = await v1(t, 'judy');
    await subscribe(judy1.client, channel);
    await subscribe(judy2.client, channel);
    const res = await call(t, 'GET', '/api/stats');
    assert.equal(res.status, 200);
    const stats = res.body as {
      connections: number;
      users: number;
      state: string;
      channels: { list: { name: string; members: number }[] };
    };
    assert.equal(stats.state, 'running');
    assert.ok(stats.connections >= 2);
    assert.ok(stats.users >= 1);
    assert.equal(stats.channels.list.find((c) => c.name === channel)?.members, 2);
    const info = await call(t, 'GET', `/api/channels/${encodeURIComponent(channel)}`);
    assertOk(info, { channel, members: 2, offset: 0, epoch: epochOf(info) });
    const unused = await call(t, 'GET', '/api/channels/never-used');
    assertOk(unused, { channel: 'never-used', members: 0, offset: 0, epoch: epochOf(unused) });
    await closeAll(judy1.client, judy2.client);
  });
});

describe('HTTP API refusals', () => {
  const maxMessageBytes = 1024;
  let t: TestServer;
  let probe: TestClient;
  let probeChannel: string;
  let nextProbeId = 1;
  before(async () => {
    t = await startServer({ authenticator, maxMessageBytes });
    probe = (await v1(t, 'probe')).client;
    probeChannel = fresh('probe');
    await subscribe(probe, probeChannel);
  });
  after(() => t.stop());

  /** The probe client, connected before the refusals, still gets service. */
  async function assertStillServed(): Promise<void> {
    const id = nextProbeId++;
    assertOk(await call(t, 'POST', '/api/publish', { json: { channel: probeChannel, data: `ok ${id}` } }), {
      id,
    });
    assert.deepEqual((await probe.nextOfType('message'))['data'], `ok ${id}`);
  }

  /** One refused request: what it is, `METHOD /path`, and what it sends. */
  type Case = readonly [name: string, route: string, options?: CallOptions];

  /** Every case in `list` is answered with `status` and `code`. */
  const refused = (status: number, code: ErrorCode, list: readonly Case[]) =>
    list.map(([name, route, options]) => ({ name, route, options, status, code }));
  const json = (value: unknown): CallOptions => ({ json: value });
  const raw = (text: string, type = 'application/json'): CallOptions => ({
    raw: text,
    headers: { 'content-type': type },
  });

  const refusals = [
    ...refused(400, 'invalid_json', [
      ['invalid JSON', 'POST /api/publish', raw('{"channel":"a",')],
      ['an empty body', 'POST /api/publish', raw('')],
    ]),
    ...refused(400, 'bad_request', [
      // The body is JSON but not an object.
      ['an array body', 'POST /api/publish', raw('[1,2]')],
      ['a string body', 'POST /api/broadcast', raw('"hello"')],
      ['a null body', 'POST /api/users/u/send', raw('null')],
      ['a number body', 'POST /api/users/u/disconnect', raw('42')],
      // Missing data.
      ['publish without data', 'POST /api/publish', json({ channel: 'a' })],
      ['broadcast without data', 'POST /api/broadcast', json({})],
      ['user send without data', 'POST /api/users/u/send', json({ date: 1 })],
      ['connection send without data', 'POST /api/connections/c/send', json({})],
      // ephemeral and exclude.
      ['ephemeral as a string', 'POST /api/publish', json({ channel: 'a', data: 1, ephemeral: 'yes' })],
      ['ephemeral as a number', 'POST /api/publish', json({ channel: 'a', data: 1, ephemeral: 1 })],
      ['exclude as a string', 'POST /api/publish', json({ channel: 'a', data: 1, exclude: 'u' })],
      ['exclude as null', 'POST /api/broadcast', json({ data: 1, exclude: null })],
      ['exclude as an array', 'POST /api/users/u/send', json({ data: 1, exclude: ['c'] })],
      [
        'a numeric exclude.connectionId',
        'POST /api/publish',
        json({ channel: 'a', data: 1, exclude: { connectionId: 5 } }),
      ],
      ['a boolean exclude.userId', 'POST /api/broadcast', json({ data: 1, exclude: { userId: true } })],
      // Disconnect code and reason.
      ['disconnect code 3999', 'POST /api/users/u/disconnect', json({ code: 3999 })],
      ['disconnect code 5000', 'POST /api/users/u/disconnect', json({ code: 5000 })],
      ['disconnect code 1000', 'POST /api/connections/c/disconnect', json({ code: 1000 })],
      ['a fractional disconnect code', 'POST /api/users/u/disconnect', json({ code: 4000.5 })],
      ['a disconnect code as a string', 'POST /api/users/u/disconnect', json({ code: '4500' })],
      ['a reason of 124 bytes', 'POST /api/users/u/disconnect', json({ reason: 'r'.repeat(124) })],
      [
        'a reason of 62 characters, 124 bytes',
        'POST /api/connections/c/disconnect',
        json({ reason: 'é'.repeat(62) }),
      ],
      ['a reason as a number', 'POST /api/users/u/disconnect', json({ reason: 5 })],
    ]),
    ...refused(400, 'invalid_channel', [
      ['a missing channel', 'POST /api/publish', json({ data: 1 })],
      ['a numeric channel', 'POST /api/publish', json({ channel: 7, data: 1 })],
      ['an empty channel', 'POST /api/publish', json({ channel: '', data: 1 })],
      ['a channel with a space', 'POST /api/publish', json({ channel: 'a b', data: 1 })],
      ['a channel with a wildcard', 'POST /api/publish', json({ channel: 'a*', data: 1 })],
      ['a non-ASCII channel', 'POST /api/publish', json({ channel: 'café', data: 1 })],
      ['a channel of 129 characters', 'POST /api/publish', json({ channel: 'c'.repeat(129), data: 1 })],
      ['an invalid channel in the path', 'GET /api/channels/a%20b'],
    ]),
    ...refused(415, 'bad_request', [
      ['a text/plain body', 'POST /api/publish', raw('{"channel":"a","data":1}', 'text/plain')],
      ['a form body', 'POST /api/broadcast', raw('data=1', 'application/x-www-form-urlencoded')],
      ['a body without content-type', 'POST /api/users/u/disconnect', raw('{}', '')],
    ]),
    ...refused(413, 'message_too_large', [
      ['an oversize body', 'POST /api/publish', json({ channel: 'a', data: 'x'.repeat(maxMessageBytes) })],
    ]),
    ...refused(404, 'not_found', [
      ['an unknown route', 'POST /api/nope', json({})],
      ['a route with an extra segment', 'POST /api/users/u/send/now', json({ data: 1 })],
      ['bare /api', 'GET /api'],
    ]),
  ];

  for (const r of refusals) {
    test(`${r.route}: ${r.name} -> ${r.status} ${r.code}`, async () => {
      const [method = '', path = ''] = r.route.split(' ');
      assertError(await call(t, method, path, r.options), r.status, r.code);
      await assertStillServed();
    });
  }

  test('the exact limit is accepted: maxMessageBytes is inclusive', async () => {
    const envelope = JSON.stringify({ channel: probeChannel, data: '' });
    const data = 'y'.repeat(maxMessageBytes - envelope.length);
    const id = nextProbeId++;
    assertOk(await call(t, 'POST', '/api/publish', { json: { channel: probeChannel, data } }), { id });
    assert.equal((await probe.nextOfType('message'))['data'], data);
  });

  test('an oversize chunked body (no Content-Length) is refused with 413 as it streams in', async () => {
    const res = await postChunked(t, '/api/publish', [
      '{"channel":"a","data":"',
      'x'.repeat(600),
      'y'.repeat(600),
      '"}',
    ]);
    assertError(res, 413, 'message_too_large');
    await assertStillServed();
  });

  test('a chunked body within the limit is accepted', async () => {
    const id = nextProbeId++;
    const res = await postChunked(t, '/api/publish', [`{"channel":"${probeChannel}",`, '"data":"chunked"}']);
    assertOk(res, { id });
    assert.equal((await probe.nextOfType('message'))['data'], 'chunked');
  });

  for (const [method, path, allow] of [
    ['GET', '/api/publish', 'POST'],
    ['PUT', '/api/broadcast', 'POST'],
    ['DELETE', '/api/users/u/send', 'POST'],
    ['GET', '/api/connections/c/disconnect', 'POST'],
    ['POST', '/api/stats', 'GET'],
    ['DELETE', '/api/channels/a', 'GET'],
    ['POST', '/health', 'GET'],
  ] as const) {
    test(`${method} ${path} -> 405 with Allow: ${allow}`, async () => {
      const res = await call(t, method, path);
      assertError(res, 405, 'bad_request');
      assert.equal(res.headers.get('allow'), allow);
      await assertStillServed();
    });
  }

  test('while the server stops, writes answer 503 shutting_down', async () => {
    const stopping = await startServer({ authenticator });
    const { client } = await v1(stopping);
    // A paused client cannot answer the close handshake, which holds stop() in its "stopping" phase.
    client.ws.pause();
    const stopped = stopping.stop();
    assert.equal(stopping.server.state, 'stopping');
    const writes: [string, unknown][] = [
      ['/api/publish', { channel: 'a', data: 1 }],
      ['/api/broadcast', { data: 1 }],
      ['/api/users/u/send', { data: 1 }],
      ['/api/connections/c/send', { data: 1 }],
      ['/api/users/u/disconnect', {}],
      ['/api/connections/c/disconnect', {}],
    ];
    for (const [path, json] of writes)
      assertError(await call(stopping, 'POST', path, { json }), 503, 'shutting_down');
    client.ws.resume();
    assert.equal((await client.closed).code, 1001);
    await stopped;
  });
});

describe('HTTP API with an API key', () => {
  let t: TestServer;
  let probe: TestClient;
  const channel = fresh('keyed');
  let nextId = 1;
  before(async () => {
    t = await startServer({ apiKey: API_KEY });
    probe = (await v1(t)).client;
    await subscribe(probe, channel);
  });
  after(() => t.stop());

  const body = (): CallOptions => ({ json: { channel, data: 'keyed' } });
  const withHeaders = (headers: Record<string, string>): CallOptions => ({ ...body(), headers });

  async function assertAccepted(options: CallOptions): Promise<void> {
    const id = nextId++;
    assertOk(await call(t, 'POST', '/api/publish', options), { id });
    assert.equal((await probe.nextOfType('message'))['id'], id);
  }

  test('no key -> 401 unauthorized on every /api route and on /stats', async () => {
    for (const [method, path] of [
      ['POST', '/api/publish'],
      ['POST', '/api/broadcast'],
      ['POST', '/api/users/u/send'],
      ['POST', '/api/connections/c/send'],
      ['POST', '/api/users/u/disconnect'],
      ['POST', '/api/connections/c/disconnect'],
      ['GET', '/api/stats'],
      ['GET', `/api/channels/${channel}`],
      ['GET', '/stats'],
    ] as const) {
      assertError(await call(t, method, path, method === 'POST' ? body() : {}), 401, 'unauthorized');
    }
    await assertAccepted(withHeaders({ authorization: `Bearer ${API_KEY}` }));
  });

  test('a wrong key -> 401 in either header and with other schemes', async () => {
    for (const headers of [
      { authorization: 'Bearer wrong-key-0123456789abcdef' },
      { authorization: `Bearer ${API_KEY}x` },
      { authorization: `Basic ${Buffer.from(`x:${API_KEY}`).toString('base64')}` },
      { authorization: API_KEY },
      { 'x-api-key': 'wrong-key-0123456789abcdef' },
      { 'x-api-key': '' },
      // X-API-Key wins when both are present.
      { 'x-api-key': 'wrong-key-0123456789abcdef', authorization: `Bearer ${API_KEY}` },
    ]) {
      assertError(await call(t, 'POST', '/api/publish', withHeaders(headers)), 401, 'unauthorized');
    }
  });

  test('the key is checked before the body: a bad body with no key is still 401', async () => {
    assertError(await call(t, 'POST', '/api/publish', { raw: '{not json' }), 401, 'unauthorized');
    assertError(
      await call(t, 'POST', '/api/publish', { raw: 'x', headers: { 'content-type': 'text/plain' } }),
      401,
      'unauthorized',
    );
  });

  test('the right key is accepted as Authorization: Bearer and as X-API-Key', async () => {
    await assertAccepted(withHeaders({ authorization: `Bearer ${API_KEY}` }));
    await assertAccepted(withHeaders({ authorization: `bearer ${API_KEY}` }));
    await assertAccepted(withHeaders({ 'x-api-key': API_KEY }));
    const stats = await call(t, 'GET', '/stats', { headers: { 'x-api-key': API_KEY } });
    assert.equal(stats.status, 200);
    assert.equal((stats.body as { connections: number }).connections, 1);
  });

  test('/health, /ready and /metrics stay open', async () => {
    for (const path of ['/health', '/ready', '/metrics']) {
      const res = await fetch(`${t.httpUrl}${path}`);
      assert.equal(res.status, 200, path);
      await res.arrayBuffer();
    }
  });
});

test('a publish whose data is nested past the depth limit answers 400 bad_request and spends no id', async () => {
  const t = await startServer();
  try {
    const deep = `{"channel":"deep","data":${'['.repeat(6000)}${']'.repeat(6000)}}`;
    const res = await fetch(`${t.httpUrl}/api/publish`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: deep,
    });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'bad_request');
    const ok = await fetch(`${t.httpUrl}/api/publish`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ channel: 'deep', data: 1 }),
    });
    assert.deepEqual(await ok.json(), { id: 1 });
  } finally {
    await t.stop();
  }
});

describe('HTTP API: history and presence', () => {
  let t: TestServer;
  before(async () => {
    t = await startServer({
      apiKey: 'k'.repeat(32),
      presenceGraceMs: 0,
      authenticator: {
        authenticate: (r) =>
          Promise.resolve({
            ok: true,
            principal: { userId: r.url.searchParams.get('user'), info: { name: 'N' } },
          }),
      },
      channels: [{ pattern: 'room:*', presence: true }],
    });
  });
  after(() => t.stop());
  const key = { authorization: `Bearer ${'k'.repeat(32)}` };

  test('GET /api/channels/:channel/history returns messages after since, up to limit', async () => {
    for (let n = 1; n <= 5; n++) await t.server.publish('news:1', { n });
    const page = await call(t, 'GET', '/api/channels/news:1/history?since=2&limit=2', { headers: key });
    assert.equal(page.status, 200);
    const body = page.body as {
      messages: { id: number; data: unknown }[];
      offset: number;
      complete: boolean;
    };
    assert.deepEqual(
      body.messages.map((m) => [m.id, m.data]),
      [
        [3, { n: 3 }],
        [4, { n: 4 }],
      ],
    );
    assert.deepEqual([body.offset, body.complete], [5, true]);
    assertError(
      await call(t, 'GET', '/api/channels/news:1/history?limit=0', { headers: key }),
      400,
      'bad_request',
    );
    assertError(
      await call(t, 'GET', '/api/channels/news:1/history?since=-1', { headers: key }),
      400,
      'bad_request',
    );
    assertError(await call(t, 'GET', '/api/channels/news:1/history'), 401, 'unauthorized');
  });

  test('GET /api/channels/:channel/presence and /presence/stats', async () => {
    const { client } = await connectV1(t, {}, '?user=ann');
    await client.request({ id: 1, type: 'subscribe', channel: 'room:1' });
    const presence = await call(t, 'GET', '/api/channels/room:1/presence', { headers: key });
    assertOk(presence, {
      channel: 'room:1',
      users: [{ userId: 'ann', connections: 1, info: { name: 'N' } }],
    });
    assertOk(await call(t, 'GET', '/api/channels/room:1/presence/stats', { headers: key }), {
      channel: 'room:1',
      users: 1,
      connections: 1,
    });
    const off = await call(t, 'GET', '/api/channels/news:1/presence', { headers: key });
    assert.equal((off.body as { error: { code: string } }).error.code, 'not_available');
    client.close();
  });
});
