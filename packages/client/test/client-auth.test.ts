/**
 * Tokens against a real server with `auth: { secret }`: first-message and subprotocol transports, static
 * tokens and providers, a refused token (4504, no reconnect), in-band refresh before expiry (driven by a
 * ManualClock where only the schedule matters, in real time where the server's expiry sweep must be seen
 * to pass), a failing provider, 4004 and a reconnect with a fresh token that still recovers, and a kick.
 */
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT } from 'jose';
import WebSocket from 'ws';
import { ConnectionClosedError, ServerError, SwitchboardClient, TokenProviderError } from '../src/index.js';
import type { ClientOptions, TokenErrorEvent } from '../src/index.js';
import { nextEvent, record, startServer, ids } from './helpers.js';
import type { TestServer } from './helpers.js';
import { ManualClock } from './manual-clock.js';
import { TcpProxy } from './tcp-proxy.js';

const SECRET = 'switchboard-client-auth-test-secret-0123456789';

let cleanups: (() => Promise<void> | void)[] = [];

beforeEach(() => {
  cleanups = [];
});

afterEach(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

/** A server that requires tokens signed with SECRET. Heartbeats are slow so ManualClock jumps never trip them. */
async function server(options: Parameters<typeof startServer>[0] = {}): Promise<TestServer> {
  const t = await startServer({
    shutdownTimeoutMs: 200,
    auth: { secret: SECRET },
    heartbeatIntervalMs: 600_000,
    heartbeatTimeoutMs: 1_200_000,
    ...options,
  });
  cleanups.push(() => t.stop());
  return t;
}

function client(url: string, options: ClientOptions = {}): SwitchboardClient {
  const c = new SwitchboardClient(url, { WebSocket, backoff: { minDelayMs: 5, maxDelayMs: 20 }, ...options });
  cleanups.push(() => c.close());
  return c;
}

/** Now, in whole seconds since the Unix epoch (the unit of `exp`). */
function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** An HS256 token for `sub` expiring at `exp` (seconds since the Unix epoch). */
function sign(sub: string, exp: number, secret = SECRET): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setExpirationTime(exp)
    .sign(new TextEncoder().encode(secret));
}

/** A provider that hands out tokens from `next` and counts its calls. */
function provider(next: (call: number) => Promise<string>) {
  const state = {
    calls: 0,
    get: (): Promise<string> => {
      state.calls += 1;
      return next(state.calls);
    },
  };
  return state;
}

async function publish(t: TestServer, channel: string, from: number, to: number): Promise<void> {
  for (let i = from; i <= to; i++) await t.server.publish(channel, i);
}

describe('client auth: connecting', () => {
  it('connects with a static token sent as the first message', async () => {
    const t = await server();
    const c = client(t.url, { token: await sign('alice', nowSeconds() + 600) });
    const info = await c.connect();
    assert.equal(info.userId, 'alice');
    assert.equal(c.state, 'connected');
    assert.equal(await c.send('x').catch((e: ServerError) => e.code), 'not_available');
  });

  it('connects with an async provider, called before every attempt, resumes included', async () => {
    const t = await server();
    const proxy = await TcpProxy.start(t.url);
    cleanups.push(() => proxy.close());
    const tokens = provider(() => sign('bob', nowSeconds() + 600));
    const c = client(proxy.url(t.url), { token: tokens.get });
    const first = await c.connect();
    assert.equal(first.userId, 'bob');
    assert.equal(tokens.calls, 1);
    const chat = c.subscribe('chat');
    await chat.ready({ timeoutMs: 3000 });
    const got = ids(chat);
    await publish(t, 'chat', 1, 2);
    await got.until(2);

    proxy.refuse();
    const disconnected = nextEvent(c, 'disconnected');
    proxy.cut();
    await disconnected;
    await publish(t, 'chat', 3, 5);
    const reconnected = nextEvent(c, 'connected');
    const recovered = new Promise<boolean | undefined>((resolve) =>
      chat.once('subscribed', (e) => resolve(e.recovered)),
    );
    proxy.admit();
    const second = await reconnected;
    // The resumed session was claimed by a connection that authenticated again, as the same user.
    assert.equal(second.resumed, true);
    assert.equal(second.sessionId, first.sessionId);
    assert.equal(second.userId, 'bob');
    assert.ok(tokens.calls >= 2, `provider called ${tokens.calls} times`);
    assert.equal(await recovered, true);
    await publish(t, 'chat', 6, 6);
    await got.until(6);
    assert.deepEqual(got.seen, [1, 2, 3, 4, 5, 6]);
  });

  it('stops on a bad token: 4504, an unauthorized event with the server message, no reconnect', async () => {
    const t = await server();
    const clock = new ManualClock();
    const tokens = provider(() =>
      sign('mallory', nowSeconds() + 600, 'not-the-servers-secret-0123456789abcdef'),
    );
    const c = client(t.url, { token: tokens.get, clock });
    const reconnecting = record(c, 'reconnecting');
    const unauthorized = nextEvent(c, 'unauthorized');
    const disconnected = nextEvent(c, 'disconnected');
    const refused = await c.connect().then(
      () => assert.fail('connected with a bad token'),
      (error: unknown) => error,
    );
    assert.ok(refused instanceof ConnectionClosedError);
    assert.equal(refused.closeCode, 4504);
    assert.equal(refused.reconnect, false);
    assert.ok(refused.cause instanceof ServerError);
    assert.equal(refused.cause.code, 'unauthorized');
    const event = await unauthorized;
    assert.equal(event.code, 4504);
    assert.equal(event.error.code, 'unauthorized');
    assert.match(event.error.message, /signature/);
    assert.deepEqual(await disconnected, { code: 4504, reason: event.reason, reconnect: false });
    assert.equal(c.state, 'disconnected');
    // Nothing is scheduled: no retry now or ever.
    assert.equal(clock.pending, 0);
    clock.advance(60_000);
    assert.equal(tokens.calls, 1);
    assert.deepEqual(reconnecting, []);
  });

  it('stops on an expired static token with token_expired', async () => {
    const t = await server({ auth: { secret: SECRET, clockSkewMs: 0 } });
    const c = client(t.url, { token: await sign('alice', nowSeconds() - 10) });
    const unauthorized = nextEvent(c, 'unauthorized');
    await assert.rejects(c.connect(), { name: 'ConnectionClosedError', closeCode: 4504 });
    assert.equal((await unauthorized).error.code, 'token_expired');
    assert.equal(c.state, 'disconnected');
  });

  it('retries with backoff when the provider fails, and reports the cause', async () => {
    const t = await server();
    const clock = new ManualClock();
    const outage = new Error('identity provider unreachable');
    const tokens = provider((call) =>
      call === 1 ? Promise.reject(outage) : sign('carol', nowSeconds() + 600),
    );
    const c = client(t.url, { token: tokens.get, clock, backoff: { minDelayMs: 100, maxDelayMs: 100 } });
    const tokenError = nextEvent(c, 'tokenError');
    const disconnected = nextEvent(c, 'disconnected');
    const reconnecting = nextEvent(c, 'reconnecting');
    const connected = c.connect();
    const failure = await tokenError;
    assert.equal(failure.during, 'connect');
    assert.equal(failure.retry, true);
    assert.ok(failure.error instanceof TokenProviderError);
    assert.equal(failure.error.code, 'token_provider_failed');
    assert.equal(failure.error.cause, outage);
    const lost = await disconnected;
    assert.equal(lost.code, 1006);
    assert.equal(lost.reconnect, true);
    assert.match(lost.reason, /identity provider unreachable/);
    assert.equal((await reconnecting).attempt, 1);
    assert.equal(c.state, 'connecting');
    clock.advance(100);
    assert.equal((await connected).userId, 'carol');
    assert.equal(tokens.calls, 2);
  });

  it('fails an attempt whose provider never answers at the connect timeout', async () => {
    const t = await server();
    const clock = new ManualClock();
    const c = client(t.url, { token: () => new Promise<string>(() => {}), clock, connectTimeoutMs: 5000 });
    const disconnected = nextEvent(c, 'disconnected');
    void c.connect().catch(() => {});
    clock.advance(5000);
    assert.deepEqual(await disconnected, {
      code: 1006,
      reason: 'no token from the token provider within 5000 ms',
      reconnect: true,
    });
  });

  it('re-authenticates after a server-side kick', async () => {
    const t = await server();
    const tokens = provider(() => sign('dave', nowSeconds() + 600));
    const c = client(t.url, { token: tokens.get });
    const first = await c.connect();
    const reconnected = nextEvent(c, 'connected');
    await t.server.disconnectConnection(first.connectionId, { code: 1012, reason: 'restarting' });
    const second = await reconnected;
    assert.notEqual(second.connectionId, first.connectionId);
    assert.equal(second.userId, 'dave');
    assert.equal(second.resumed, true);
    assert.equal(tokens.calls, 2);
    assert.equal(t.server.getUserConnections('dave').length, 1);
  });
});

describe('client auth: the subprotocol transport', () => {
  it('connects with the token in the handshake', async () => {
    const t = await server();
    const c = client(t.url, { token: await sign('erin', nowSeconds() + 600), tokenTransport: 'subprotocol' });
    assert.equal((await c.connect()).userId, 'erin');
    assert.equal(await c.ping().then(() => 'pong'), 'pong');
  });

  it('refreshes before the exp of the token it presented', async () => {
    const t = await server();
    const clock = new ManualClock();
    const exp = nowSeconds() + 60;
    const tokens = provider((call) => sign('erin', call === 1 ? exp : exp + 600));
    const c = client(t.url, {
      token: tokens.get,
      tokenTransport: 'subprotocol',
      clock,
      refreshMarginMs: 10_000,
    });
    const info = await c.connect();
    // No auth reply says when it expires: the client read the token's own exp claim.
    const due = exp * 1000 - info.time - 10_000;
    const refreshed = nextEvent(c, 'tokenRefreshed');
    clock.advance(due - 1);
    assert.equal(tokens.calls, 1);
    clock.advance(1);
    assert.equal(tokens.calls, 2);
    assert.deepEqual(await refreshed, { expiresAt: (exp + 600) * 1000 });
  });

  it('reports a refused handshake as a plain drop (HTTP 401 is 1006 to a WebSocket) and retries', async () => {
    const t = await server();
    const clock = new ManualClock();
    const token = await sign('mallory', nowSeconds() + 600, 'not-the-servers-secret-0123456789abcdef');
    const c = client(t.url, { token, tokenTransport: 'subprotocol', clock });
    const disconnected = nextEvent(c, 'disconnected');
    void c.connect().catch(() => {});
    const lost = await disconnected;
    assert.equal(lost.code, 1006);
    assert.equal(lost.reconnect, true);
    assert.equal(c.state, 'connecting');
  });
});

describe('client auth: refresh', () => {
  it('refreshes refreshMarginMs before expiry, with a token from the provider', async () => {
    const t = await server();
    const clock = new ManualClock();
    const exp = nowSeconds() + 120;
    const tokens = provider((call) => sign('frank', call === 1 ? exp : exp + 600));
    const c = client(t.url, { token: tokens.get, clock, refreshMarginMs: 30_000 });
    const info = await c.connect();
    const due = exp * 1000 - info.time - 30_000;
    const refreshed = nextEvent(c, 'tokenRefreshed');
    clock.advance(due - 1);
    assert.equal(tokens.calls, 1);
    clock.advance(1);
    assert.equal(tokens.calls, 2);
    assert.deepEqual(await refreshed, { expiresAt: (exp + 600) * 1000 });
    // The next refresh is scheduled from the new expiry.
    clock.advance(600_000 - 1);
    assert.equal(tokens.calls, 2);
    clock.advance(1);
    assert.equal(tokens.calls, 3);
  });

  it('refreshes a short-lived token at half its remaining lifetime', async () => {
    const t = await server();
    const clock = new ManualClock();
    const exp = nowSeconds() + 20;
    const tokens = provider((call) => sign('frank', call === 1 ? exp : exp + 600));
    const c = client(t.url, { token: tokens.get, clock, refreshMarginMs: 30_000 });
    const info = await c.connect();
    const due = (exp * 1000 - info.time) / 2;
    clock.advance(Math.ceil(due) - 1);
    assert.equal(tokens.calls, 1);
    clock.advance(1);
    assert.equal(tokens.calls, 2);
    await nextEvent(c, 'tokenRefreshed');
  });

  it('retries a refresh whose provider failed, before expiry', async () => {
    const t = await server();
    const clock = new ManualClock();
    const exp = nowSeconds() + 120;
    const tokens = provider((call) =>
      call === 2 ? Promise.reject(new Error('offline')) : sign('grace', call === 1 ? exp : exp + 600),
    );
    const c = client(t.url, {
      token: tokens.get,
      clock,
      refreshMarginMs: 30_000,
      backoff: { minDelayMs: 5, maxDelayMs: 20, random: () => 1 },
    });
    const info = await c.connect();
    const failed = nextEvent(c, 'tokenError');
    clock.advance(exp * 1000 - info.time - 30_000);
    const failure = await failed;
    assert.equal(failure.during, 'refresh');
    assert.equal(failure.retry, true);
    assert.ok(failure.error instanceof TokenProviderError);
    assert.equal(c.state, 'connected');
    const refreshed = nextEvent(c, 'tokenRefreshed');
    // The first retry waits up to a second (full jitter; this random source draws the longest).
    clock.advance(1000);
    assert.equal(tokens.calls, 3);
    assert.deepEqual(await refreshed, { expiresAt: (exp + 600) * 1000 });
  });

  it('keeps the connection past the original exp once refreshed (real time)', async () => {
    // Real time: the server's expiry sweep must run past the original exp. A second client with the same
    // short token and no provider is closed with 4004 by that sweep, which marks the moment to check.
    const t = await server({ tokenExpiryGraceMs: 0 });
    // Two to three seconds left: the refresh comes at least a second before expiry.
    const exp = nowSeconds() + 3;
    const tokens = provider((call) => sign('heidi', call === 1 ? exp : exp + 600));
    const c = client(t.url, { token: tokens.get, refreshMarginMs: 1500 });
    const control = client(t.url, { token: await sign('heidi', exp), reconnect: false });
    const lost = record(c, 'disconnected');
    const refreshed = nextEvent(c, 'tokenRefreshed', () => true, 5000);
    await c.connect();
    await control.connect();
    const expired = nextEvent(control, 'disconnected', () => true, 5000);
    assert.deepEqual(await refreshed, { expiresAt: (exp + 600) * 1000 });
    assert.deepEqual(await expired, { code: 4004, reason: 'token expired', reconnect: false });
    assert.ok(Date.now() >= exp * 1000);
    assert.equal(c.state, 'connected');
    assert.deepEqual(lost, []);
    assert.equal(typeof (await c.ping()), 'number');
  });

  it('reconnects with a fresh token after 4004 when no refresh helped, and recovers', async () => {
    // The provider keeps handing out the token the connection already has (a cache that renews too
    // late): every refresh makes no progress, the server closes with 4004 at expiry, and the reconnect
    // (held until messages were published meanwhile) gets a fresh token.
    const t = await server({ tokenExpiryGraceMs: 0 });
    const stale = await sign('ivan', nowSeconds() + 2);
    let fresh = false;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const tokens = provider(async () => {
      if (!fresh) return stale;
      await held;
      return sign('ivan', nowSeconds() + 600);
    });
    const c = client(t.url, { token: tokens.get, refreshMarginMs: 1000 });
    const refreshErrors: TokenErrorEvent[] = [];
    c.on('tokenError', (event) => refreshErrors.push(event));
    const first = await c.connect();
    const chat = c.subscribe('chat');
    await chat.ready({ timeoutMs: 3000 });
    const got = ids(chat);
    await publish(t, 'chat', 1, 3);
    await got.until(3);

    const expired = nextEvent(c, 'disconnected', (e) => e.code === 4004, 5000);
    c.once('disconnected', () => (fresh = true));
    assert.deepEqual(await expired, { code: 4004, reason: 'token expired', reconnect: true });
    assert.ok(refreshErrors.length > 0);
    for (const event of refreshErrors) {
      assert.equal(event.during, 'refresh');
      assert.ok(event.error instanceof TokenProviderError);
    }
    await publish(t, 'chat', 4, 6);
    const reconnected = nextEvent(c, 'connected');
    const recovered = new Promise<boolean | undefined>((resolve) =>
      chat.once('subscribed', (e) => resolve(e.recovered)),
    );
    release();
    const second = await reconnected;
    assert.equal(second.resumed, true);
    assert.equal(second.sessionId, first.sessionId);
    assert.equal(await recovered, true);
    await publish(t, 'chat', 7, 7);
    await got.until(7);
    assert.deepEqual(got.seen, [1, 2, 3, 4, 5, 6, 7]);
  });
});

describe('client auth: servers that behave differently', () => {
  it('does not answer pings while the server is still checking the auth token', async () => {
    // The server pings a connection that has been quiet for half an interval, also while it verifies
    // `auth`, and takes any frame but `auth` before that is done as a refusal (4504). A pong then would
    // end the connection; the client leaves such pings unanswered.
    const t = await startServer({
      shutdownTimeoutMs: 200,
      heartbeatIntervalMs: 100,
      heartbeatTimeoutMs: 2000,
      authenticator: {
        authenticate: () => Promise.resolve({ ok: 'deferred' }),
        verifyToken: () =>
          new Promise((resolve) =>
            setTimeout(() => resolve({ ok: true, principal: { userId: 'kim' } }), 400),
          ),
      },
    });
    cleanups.push(() => t.stop());
    const c = client(t.url, { token: 'a.b.c' });
    assert.equal((await c.connect()).userId, 'kim');
  });

  it('stays connected to a server without auth, and reports the refused token', async () => {
    const t = await startServer({ shutdownTimeoutMs: 200 });
    cleanups.push(() => t.stop());
    const c = client(t.url, { token: await sign('judy', nowSeconds() + 600) });
    const tokenError = nextEvent(c, 'tokenError');
    const info = await c.connect();
    assert.equal(info.userId, null);
    const failure = await tokenError;
    assert.equal(failure.during, 'connect');
    assert.equal(failure.retry, false);
    assert.ok(failure.error instanceof ServerError);
    assert.equal(c.state, 'connected');
  });
});
