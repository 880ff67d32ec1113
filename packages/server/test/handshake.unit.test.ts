// The transport-neutral handshake (transports/handshake.ts), driven with a scripted authenticator: the
// order of its guard clauses, what each refusal answers and counts, and the place a handshake holds
// under the connection limits while its credentials are checked. The WebSocket endpoint is its first
// user (tested end to end in limits-*.test.ts, auth-*.test.ts); SSE and long-polling will be the next.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { Handshake } from '../src/transports/handshake.js';
import type { Admission, HandshakeOptions } from '../src/transports/handshake.js';
import { OriginPolicy } from '../src/transports/origin.js';
import { TrustedProxies } from '../src/transports/client-ip.js';
import { ConnectionLimits } from '../src/limits/connection-limits.js';
import { DEFAULT_LIMITS } from '../src/limits/resolved-limits.js';
import type { ResolvedLimits } from '../src/limits/resolved-limits.js';
import { NoopMetrics } from '../src/metrics/metrics.js';
import type { LimitName, Metrics } from '../src/metrics/metrics.js';
import type { AuthOutcome, Authenticator } from '../src/auth/authenticator.js';
import { FakeClock } from './fake-clock.js';

/** Metrics that record what the handshake reports, in order. */
function recordingMetrics(): { readonly metrics: Metrics; readonly calls: string[] } {
  const calls: string[] = [];
  const metrics: Metrics = Object.assign(new NoopMetrics(), {
    handshakeRejected: (status: number, reason: string) => void calls.push(`handshake ${status} ${reason}`),
    limitRejected: (limit: LimitName) => void calls.push(`limit ${limit}`),
  });
  return { metrics, calls };
}

interface Harness {
  readonly handshake: Handshake;
  readonly calls: string[];
  readonly limits: ConnectionLimits;
  readonly warnings: string[];
  readonly errors: string[];
  /** Requests the authenticator saw. */
  readonly authenticated: string[];
  accepting: boolean;
  readonly atLimit: Set<string>;
}

function harness(
  outcome: () => Promise<AuthOutcome>,
  options: {
    readonly limits?: Partial<ResolvedLimits>;
    readonly origins?: readonly string[];
    readonly trustedProxies?: readonly string[];
  } = {},
): Harness {
  const clock = new FakeClock();
  const { metrics, calls } = recordingMetrics();
  const limits = new ConnectionLimits({ ...DEFAULT_LIMITS, ...options.limits }, clock.now());
  const warnings: string[] = [];
  const errors: string[] = [];
  const authenticated: string[] = [];
  const authenticator: Authenticator = {
    authenticate: (request) => {
      authenticated.push(request.remoteAddress);
      return outcome();
    },
  };
  const h = {
    calls,
    limits,
    warnings,
    errors,
    authenticated,
    accepting: true,
    atLimit: new Set<string>(),
  } as Omit<Harness, 'handshake'> & { handshake?: Handshake };
  const handshakeOptions: HandshakeOptions = {
    host: {
      accepting: () => h.accepting,
      userAtLimit: (userId) => h.atLimit.has(userId),
      saturated: () => false,
    },
    authenticator,
    origins: new OriginPolicy(options.origins),
    trustedProxies: new TrustedProxies(options.trustedProxies),
    connectionLimits: limits,
    metrics,
    logger: {
      debug() {},
      info() {},
      warn: (_fields, message) => warnings.push(String(message)),
      error: (_fields, message) => errors.push(String(message)),
    },
    clock,
  };
  h.handshake = new Handshake(handshakeOptions);
  return h as Harness;
}

function request(headers: IncomingHttpHeaders = {}, query = '', peer = '10.0.0.1') {
  return { url: new URL(`http://localhost/ws${query}`), headers, peerAddress: peer };
}

const alice: () => Promise<AuthOutcome> = () => Promise.resolve({ ok: true, principal: { userId: 'alice' } });
const noOptions = (): Record<string, never> => ({});

function refusal<O>(admission: Admission<O>): { status: number; code: string; limit?: string } {
  assert.equal(admission.ok, false, 'refused');
  if (admission.ok) throw new Error('unreachable');
  const { status, code, limit } = admission.refusal;
  return limit === undefined ? { status, code } : { status, code, limit };
}

describe('Handshake: admitted', () => {
  it('admits with the principal, the client address and the parsed options; the place under the limits is given back', async () => {
    const h = harness(alice);
    const admission = await h.handshake.admit(request({}, '?session=s1'), (url) => ({
      session: url.searchParams.get('session'),
    }));
    assert.ok(admission.ok);
    assert.deepEqual(admission.principal, { userId: 'alice' });
    assert.equal(admission.pendingAuth, false);
    assert.equal(admission.remoteAddress, '10.0.0.1');
    assert.deepEqual(admission.options, { session: 's1' });
    assert.equal(h.limits.size, 0, 'the hub counts the connection from its accept on, not the handshake');
    assert.deepEqual(h.calls, []);
  });

  it('a request without credentials is admitted as anonymous, pending its first-message auth', async () => {
    const h = harness(() => Promise.resolve({ ok: 'deferred' }));
    const admission = await h.handshake.admit(request(), noOptions);
    assert.ok(admission.ok);
    assert.deepEqual(admission.principal, { userId: null });
    assert.equal(admission.pendingAuth, true);
  });

  it('holds a place under the per-address cap while the credentials are checked', async () => {
    let release: (outcome: AuthOutcome) => void = () => {};
    const h = harness(() => new Promise((resolve) => (release = resolve)), {
      limits: { maxConnectionsPerIp: 1 },
    });
    const first = h.handshake.admit(request(), noOptions);
    assert.equal(h.limits.countFor('10.0.0.1'), 1);
    assert.deepEqual(refusal(await h.handshake.admit(request(), noOptions)), {
      status: 429,
      code: 'rate_limited',
      limit: 'ip_connections',
    });
    release({ ok: true, principal: { userId: 'alice' } });
    assert.ok((await first).ok);
    assert.equal(h.limits.countFor('10.0.0.1'), 0);
  });

  it('believes X-Forwarded-For from a trusted proxy only, and warns once about an untrusted one', async () => {
    const trusted = harness(alice, { trustedProxies: ['10.0.0.0/8'] });
    const viaProxy = await trusted.handshake.admit(request({ 'x-forwarded-for': '203.0.113.7' }), noOptions);
    assert.ok(viaProxy.ok);
    assert.equal(viaProxy.remoteAddress, '203.0.113.7');
    assert.deepEqual(trusted.authenticated, ['203.0.113.7'], 'the authenticator sees the client address');
    const untrusted = harness(alice);
    for (let i = 0; i < 3; i++) {
      const admission = await untrusted.handshake.admit(
        request({ 'x-forwarded-for': '203.0.113.7' }),
        noOptions,
      );
      assert.ok(admission.ok);
      assert.equal(admission.remoteAddress, '10.0.0.1');
    }
    assert.equal(untrusted.warnings.length, 1);
    assert.match(untrusted.warnings[0] ?? '', /X-Forwarded-For ignored/);
  });
});

describe('Handshake: refused, in order, each counted once', () => {
  it('a server that is not accepting refuses first (503), before anything else runs', async () => {
    const h = harness(alice, { origins: [] });
    h.accepting = false;
    assert.deepEqual(
      refusal(await h.handshake.admit(request({ origin: 'https://evil.example' }), noOptions)),
      {
        status: 503,
        code: 'shutting_down',
      },
    );
    assert.deepEqual(h.authenticated, []);
    assert.deepEqual(h.calls, ['handshake 503 shutting_down']);
  });

  it('an origin off the allow-list: 403, under the origin limit, before the options are parsed', async () => {
    const h = harness(alice, { origins: ['https://app.example'] });
    let parsed = false;
    const admission = await h.handshake.admit(request({ origin: 'https://evil.example' }), () => {
      parsed = true;
      return {};
    });
    assert.deepEqual(refusal(admission), { status: 403, code: 'permission_denied', limit: 'origin' });
    assert.equal(parsed, false);
    assert.deepEqual(h.calls, ['limit origin', 'handshake 403 permission_denied']);
  });

  it("the transport's options do not parse: 400 with the parser's words, no place taken", async () => {
    const h = harness(alice);
    const admission = await h.handshake.admit(request(), () => 'session must be at most 64 characters');
    assert.ok(!admission.ok);
    assert.equal(admission.refusal.status, 400);
    assert.equal(admission.refusal.message, 'session must be at most 64 characters');
    assert.equal(h.limits.size, 0);
    assert.deepEqual(h.authenticated, []);
  });

  it('an address over its rate: 429 with Retry-After, and the authenticator never runs', async () => {
    const h = harness(alice, { limits: { connectionRatePerIp: 1, connectionBurstPerIp: 1 } });
    assert.ok((await h.handshake.admit(request(), noOptions)).ok);
    const admission = await h.handshake.admit(request(), noOptions);
    assert.deepEqual(refusal(admission), { status: 429, code: 'rate_limited', limit: 'ip_rate' });
    assert.ok(
      !admission.ok &&
        admission.refusal.retryAfterSeconds !== undefined &&
        admission.refusal.retryAfterSeconds >= 1,
    );
    assert.equal(h.authenticated.length, 1);
  });

  it("refused credentials: the authenticator's status and code, and the place is given back", async () => {
    const h = harness(() =>
      Promise.resolve({ ok: false, status: 401, code: 'unauthorized', message: 'token expired' }),
    );
    const admission = await h.handshake.admit(request(), noOptions);
    assert.ok(!admission.ok);
    assert.deepEqual(admission.refusal, { status: 401, code: 'unauthorized', message: 'token expired' });
    assert.equal(h.limits.size, 0);
    assert.deepEqual(h.calls, ['handshake 401 unauthorized']);
  });

  it('an authenticator that throws: 500 internal, logged, never its words, and the place is given back', async () => {
    const h = harness(() => Promise.reject(new Error('identity provider on fire')));
    const admission = await h.handshake.admit(request(), noOptions);
    assert.ok(!admission.ok);
    assert.deepEqual(admission.refusal, { status: 500, code: 'internal', message: 'internal error' });
    assert.deepEqual(h.errors, ['authenticator failed']);
    assert.equal(h.limits.size, 0);
  });

  it('a server that began to stop while the credentials were checked refuses (503)', async () => {
    const h = harness(() => {
      h.accepting = false;
      return alice();
    });
    assert.deepEqual(refusal(await h.handshake.admit(request(), noOptions)), {
      status: 503,
      code: 'shutting_down',
    });
  });

  it('a user at its connection cap: 429 under user_connections; anonymous connections are not capped', async () => {
    const h = harness(alice);
    h.atLimit.add('alice');
    assert.deepEqual(refusal(await h.handshake.admit(request(), noOptions)), {
      status: 429,
      code: 'rate_limited',
      limit: 'user_connections',
    });
    assert.deepEqual(h.calls, ['limit user_connections', 'handshake 429 rate_limited']);
    const anonymous = harness(() => Promise.resolve({ ok: true, principal: { userId: null } }));
    assert.ok((await anonymous.handshake.admit(request(), noOptions)).ok);
  });

  it("refuse() counts a transport's own refusal the same way", () => {
    const h = harness(alice);
    const refused = h.handshake.refuse({ status: 400, code: 'invalid_channel', message: 'room is empty' });
    assert.equal(refused.ok, false);
    assert.deepEqual(h.calls, ['handshake 400 invalid_channel']);
  });
});

describe("Handshake: the transport's own check (the room dialect's join)", () => {
  const forbidden = { status: 403, code: 'permission_denied', message: 'not allowed to join r' } as const;

  it('runs last, with the principal, and holds the place under the limits until it decides', async () => {
    let decide: (ok: boolean) => void = () => {};
    const seen: string[] = [];
    const h = harness(alice, { limits: { maxConnectionsPerIp: 1 } });
    const pending = h.handshake.admit(
      request(),
      (): { room: string; checked?: boolean } => ({ room: 'r' }),
      (principal, options) =>
        new Promise((resolve) => {
          seen.push(`${String(principal.userId)} ${options.room}`);
          decide = (ok) =>
            resolve(
              ok ? { ok: true, options: { ...options, checked: true } } : { ok: false, refusal: forbidden },
            );
        }),
    );
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(seen, ['alice r']);
    assert.equal(h.limits.countFor('10.0.0.1'), 1, 'held while the check runs');
    decide(true);
    const admission = await pending;
    assert.ok(admission.ok);
    assert.deepEqual(admission.options, { room: 'r', checked: true });
    assert.equal(h.limits.countFor('10.0.0.1'), 0);
  });

  it('a refusal is answered and counted like the handshake’s own', async () => {
    const h = harness(alice);
    const admission = await h.handshake.admit(request(), noOptions, () =>
      Promise.resolve({ ok: false, refusal: forbidden }),
    );
    assert.deepEqual(refusal(admission), { status: 403, code: 'permission_denied' });
    assert.deepEqual(h.calls, ['handshake 403 permission_denied']);
    assert.equal(h.limits.countFor('10.0.0.1'), 0);
  });

  it('a check that rejects is a 503 with Retry-After, logged', async () => {
    const h = harness(alice);
    const admission = await h.handshake.admit(request(), noOptions, () => Promise.reject(new Error('down')));
    assert.ok(!admission.ok);
    assert.equal(admission.refusal.status, 503);
    assert.equal(admission.refusal.code, 'unavailable');
    assert.equal(admission.refusal.retryAfterSeconds, 1);
    assert.deepEqual(h.errors, ['admission check failed']);
  });

  it('does not run while the identity is unknown (first-message auth) or after a refusal', async () => {
    let runs = 0;
    const check = () => {
      runs++;
      return Promise.resolve({ ok: true as const, options: {} });
    };
    const deferred = harness(() => Promise.resolve({ ok: 'deferred' }));
    assert.ok((await deferred.handshake.admit(request(), noOptions, check)).ok);
    const refused = harness(() =>
      Promise.resolve({ ok: false, status: 401, code: 'unauthorized', message: 'bad token' }),
    );
    assert.equal((await refused.handshake.admit(request(), noOptions, check)).ok, false);
    assert.equal(runs, 0);
  });
});
