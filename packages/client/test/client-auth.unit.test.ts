/**
 * The pure parts of token support, without sockets: option validation, reading a JWT's `exp`, asking a
 * provider, and the refresh schedule (margin, cap, retries, giving up) on a ManualClock.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import {
  DEFAULT_REFRESH_MARGIN_MS,
  REFRESH_RETRIES,
  ServerError,
  SwitchboardClient,
  TokenProviderError,
} from '../src/index.js';
import { TokenRefresher } from '../src/token-refresher.js';
import type { TokenRefresherHost } from '../src/token-refresher.js';
import { fetchToken, jwtExpiry } from '../src/token-source.js';
import { ManualClock } from './manual-clock.js';

/** An unsigned JWT-shaped token with `claims` (only its shape matters here). */
function jwt(claims: Record<string, unknown>): string {
  const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'HS256' })}.${part(claims)}.c2lnbmF0dXJl`;
}

/** A refresher host that records what happened and answers `refresh` as told. */
function host(answer: (token: string) => Promise<unknown>) {
  const log = {
    sent: [] as string[],
    refreshed: [] as (number | null)[],
    failed: [] as { error: Error; retry: boolean }[],
  };
  const value: TokenRefresherHost = {
    send: (token) => {
      log.sent.push(token);
      return answer(token);
    },
    refreshed: (expiresAt) => log.refreshed.push(expiresAt),
    failed: (error, retry) => log.failed.push({ error, retry }),
  };
  return { log, host: value };
}

/** Let every pending promise callback run (the provider and the fake server answer through promises). */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

describe('token options', () => {
  it('accepts a token string or a provider, and defaults the transport and margin', () => {
    for (const token of ['a.b.c', () => Promise.resolve('a.b.c')]) {
      assert.doesNotThrow(() => new SwitchboardClient('ws://localhost/ws', { WebSocket, token }));
    }
    assert.equal(DEFAULT_REFRESH_MARGIN_MS, 30_000);
  });

  it('refuses a bad token without quoting it', () => {
    assert.throws(
      () => new SwitchboardClient('ws://localhost/ws', { WebSocket, token: 'x'.repeat(9000) }),
      (error: Error & { option?: string }) =>
        error.name === 'InvalidOptionError' && error.option === 'token' && !error.message.includes('xxxx'),
    );
    assert.throws(() => new SwitchboardClient('ws://localhost/ws', { WebSocket, token: '' }), {
      option: 'token',
    });
  });

  it('refuses an unknown transport and a bad margin', () => {
    assert.throws(
      () =>
        new SwitchboardClient('ws://localhost/ws', {
          WebSocket,
          tokenTransport: 'query' as 'subprotocol',
        }),
      { option: 'tokenTransport' },
    );
    assert.throws(() => new SwitchboardClient('ws://localhost/ws', { WebSocket, refreshMarginMs: 0 }), {
      option: 'refreshMarginMs',
    });
  });
});

describe('jwtExpiry', () => {
  it('reads exp in ms, and null for anything else', () => {
    assert.equal(jwtExpiry(jwt({ sub: 'a', exp: 1_700_000_000, name: 'Zoë' })), 1_700_000_000_000);
    assert.equal(jwtExpiry(jwt({ sub: 'a' })), null);
    assert.equal(jwtExpiry(jwt({ exp: '1700000000' })), null);
    assert.equal(jwtExpiry('opaque-token'), null);
    assert.equal(jwtExpiry('a.!!!.c'), null);
    assert.equal(jwtExpiry('a.bm90IGpzb24.c'), null);
  });
});

describe('fetchToken', () => {
  it('wraps a provider that throws, rejects or returns no token in TokenProviderError', async () => {
    const thrown = new Error('boom');
    const cases: [() => Promise<string>, RegExp][] = [
      [
        () => {
          throw thrown;
        },
        /failed: boom/,
      ],
      [() => Promise.reject(thrown), /failed: boom/],
      [() => Promise.resolve(''), /string of 0 characters/],
      [() => Promise.resolve(42 as unknown as string), /returned number/],
    ];
    for (const [provider, message] of cases) {
      await assert.rejects(fetchToken(provider), (error: unknown) => {
        assert.ok(error instanceof TokenProviderError);
        assert.equal(error.code, 'token_provider_failed');
        assert.match(error.message, message);
        return true;
      });
    }
    assert.equal(await fetchToken(() => Promise.resolve('t.o.k')), 't.o.k');
  });
});

describe('TokenRefresher', () => {
  const expiresAt = 1_000_000;

  it('refreshes marginMs before expiry on the server clock, then from the new expiry', async () => {
    const clock = new ManualClock(500);
    let calls = 0;
    const { log, host: h } = host(() => Promise.resolve({ userId: 'a', expiresAt: expiresAt + 60_000 }));
    const refresher = new TokenRefresher(
      { provider: () => Promise.resolve(`t${++calls}`), marginMs: 10_000, clock },
      h,
    );
    // The server's clock reads 900_000 now (the client's reads 500: only differences count).
    refresher.start(expiresAt, 900_000);
    clock.advance(90_000 - 1);
    assert.equal(calls, 0);
    clock.advance(1);
    assert.equal(calls, 1);
    await settle();
    assert.deepEqual(log.sent, ['t1']);
    assert.deepEqual(log.refreshed, [expiresAt + 60_000]);
    clock.advance(60_000 - 1);
    assert.equal(calls, 1);
    clock.advance(1);
    assert.equal(calls, 2);
    refresher.stop();
  });

  it('caps the margin at half the remaining lifetime, and refreshes an expired token at once', () => {
    const clock = new ManualClock();
    let calls = 0;
    const { host: h } = host(() => new Promise(() => {}));
    const refresher = new TokenRefresher(
      { provider: () => Promise.resolve(`t${++calls}`), marginMs: 30_000, clock },
      h,
    );
    refresher.start(expiresAt, expiresAt - 20_000);
    clock.advance(10_000 - 1);
    assert.equal(calls, 0);
    clock.advance(1);
    assert.equal(calls, 1);
    refresher.start(expiresAt, expiresAt + 5000);
    clock.advance(0);
    assert.equal(calls, 2);
    refresher.stop();
  });

  it('does nothing for credentials that never expire', () => {
    const clock = new ManualClock();
    const { host: h } = host(() => Promise.resolve({}));
    const refresher = new TokenRefresher(
      { provider: () => assert.fail('no refresh expected'), marginMs: 1000, clock },
      h,
    );
    refresher.start(null, 0);
    assert.equal(clock.pending, 0);
  });

  it(`retries a failed refresh ${REFRESH_RETRIES} times with backoff before expiry, then gives up`, async () => {
    const clock = new ManualClock();
    const refusal = new ServerError({ code: 'token_expired', message: 'token expired', temporary: false });
    const { log, host: h } = host(() => Promise.reject(refusal));
    const refresher = new TokenRefresher(
      { provider: () => Promise.resolve('t'), marginMs: 30_000, clock, random: () => 1 },
      h,
    );
    refresher.start(expiresAt, expiresAt - 100_000);
    clock.advance(70_000);
    await settle();
    for (let retry = 0; retry < REFRESH_RETRIES; retry++) {
      assert.equal(log.failed.length, retry + 1);
      assert.equal(log.failed[retry]?.retry, true);
      assert.equal(log.failed[retry]?.error, refusal);
      // Full jitter with the longest draw: 1 s, 2 s, 4 s (all well before expiry).
      clock.advance(1000 * 2 ** retry);
      await settle();
    }
    assert.equal(log.sent.length, REFRESH_RETRIES + 1);
    assert.equal(log.failed.length, REFRESH_RETRIES + 1);
    assert.equal(log.failed[REFRESH_RETRIES]?.retry, false);
    assert.equal(clock.pending, 0);
  });

  it('keeps retries before expiry when little time is left', async () => {
    const clock = new ManualClock();
    let calls = 0;
    const { host: h } = host(() => Promise.reject(new Error('timeout')));
    const refresher = new TokenRefresher(
      { provider: () => Promise.resolve(`t${++calls}`), marginMs: 30_000, clock, random: () => 1 },
      h,
    );
    // Refresh at 500 ms before expiry; the 1 s retry is pulled in to half of what is left (250 ms).
    refresher.start(expiresAt, expiresAt - 1000);
    clock.advance(500);
    await settle();
    clock.advance(249);
    assert.equal(calls, 1);
    clock.advance(1);
    assert.equal(calls, 2);
    refresher.stop();
  });

  it('does not retry a token for another user (permission_denied)', async () => {
    const clock = new ManualClock();
    const denied = new ServerError({ code: 'permission_denied', message: 'same user', temporary: false });
    const { log, host: h } = host(() => Promise.reject(denied));
    const refresher = new TokenRefresher({ provider: () => Promise.resolve('t'), marginMs: 1000, clock }, h);
    refresher.start(expiresAt, expiresAt - 10_000);
    clock.advance(9000);
    await settle();
    assert.deepEqual(log.failed, [{ error: denied, retry: false }]);
    assert.equal(clock.pending, 0);
  });

  it('counts a token that expires no later than the current one as a failure', async () => {
    const clock = new ManualClock();
    const { log, host: h } = host(() => Promise.resolve({ userId: 'a', expiresAt }));
    const refresher = new TokenRefresher({ provider: () => Promise.resolve('t'), marginMs: 1000, clock }, h);
    refresher.start(expiresAt, expiresAt - 10_000);
    clock.advance(9000);
    await settle();
    assert.equal(log.refreshed.length, 0);
    assert.equal(log.failed.length, 1);
    assert.ok(log.failed[0]?.error instanceof TokenProviderError);
    assert.match(log.failed[0].error.message, /no later than/);
    assert.equal(log.failed[0].retry, true);
    refresher.stop();
  });

  it('ignores the outcome of a refresh begun before stop()', async () => {
    const clock = new ManualClock();
    let answer!: (value: unknown) => void;
    const { log, host: h } = host(() => new Promise((resolve) => (answer = resolve)));
    const refresher = new TokenRefresher({ provider: () => Promise.resolve('t'), marginMs: 1000, clock }, h);
    refresher.start(expiresAt, expiresAt - 10_000);
    clock.advance(9000);
    await settle();
    assert.equal(log.sent.length, 1);
    refresher.stop();
    answer({ userId: 'a', expiresAt: expiresAt + 60_000 });
    await settle();
    assert.deepEqual(log.refreshed, []);
    assert.equal(clock.pending, 0);
  });
});
