// The verified-token cache: hits only while the token's time claims still pass (jose's rule, with the
// tolerance), at most ttlMs, at most maxEntries; and, through the JWT verifier, a repeated public-key token
// is a hit while an expired one is refused exactly as a fresh verification refuses it.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { VerifiedTokenCache } from '../src/auth/verified-token-cache.js';
import { resolveAuthOptions } from '../src/auth/auth-options.js';
import { JwtVerifier } from '../src/auth/jwt-verifier.js';
import { AUDIENCE, ISSUER, ShiftedClock, keyPair, sign } from './auth-fixtures.js';

const T0 = 1_700_000_000_000;
const S0 = T0 / 1000;

function cache(maxEntries = 100, ttlMs = 60_000, clockToleranceSeconds = 5): VerifiedTokenCache {
  return new VerifiedTokenCache({ maxEntries, ttlMs, clockToleranceSeconds });
}

describe('VerifiedTokenCache', () => {
  test('a verified token is a hit, the same principal; an unknown token is a miss', () => {
    const c = cache();
    const principal = { userId: 'alice' };
    c.set('t1', principal, undefined, S0 + 3600, T0);
    assert.equal(c.get('t1', T0 + 1000), principal);
    assert.equal(c.get('t2', T0 + 1000), null);
  });

  test('exp is checked on every hit with the tolerance, in whole seconds, and a miss forgets the token', () => {
    const c = cache(100, 3_600_000, 5);
    c.set('t', { userId: 'a' }, undefined, S0 + 10, T0);
    // jose: expired when exp <= floor(now / 1000) - tolerance, i.e. from exp + 5 s on.
    assert.notEqual(c.get('t', T0 + 14_999), null);
    assert.equal(c.get('t', T0 + 15_000), null);
    assert.equal(c.size, 0);
    assert.equal(c.get('t', T0), null, 'forgotten: the verifier decides again');
  });

  test('nbf is checked on every hit (a clock that went back)', () => {
    const c = cache(100, 60_000, 0);
    c.set('t', { userId: 'a' }, S0, undefined, T0);
    assert.notEqual(c.get('t', T0 + 500), null);
    assert.equal(c.get('t', T0 - 1000), null);
  });

  test('an entry lives at most ttlMs', () => {
    const c = cache(100, 60_000);
    c.set('t', { userId: 'a' }, undefined, undefined, T0);
    assert.notEqual(c.get('t', T0 + 59_999), null);
    assert.equal(c.get('t', T0 + 60_000), null);
  });

  test('the size is bounded: the oldest entry goes, and stale ones go first', () => {
    const c = cache(3, 60_000);
    for (const t of ['a', 'b', 'c', 'd']) c.set(t, { userId: t }, undefined, undefined, T0);
    assert.equal(c.size, 3);
    assert.equal(c.get('a', T0), null);
    assert.notEqual(c.get('d', T0), null);
    c.set('e', { userId: 'e' }, undefined, undefined, T0 + 60_000);
    assert.equal(c.size, 1, 'entries past their TTL are dropped when a new one arrives');
  });

  test('setting a token again refreshes it', () => {
    const c = cache(2, 60_000);
    c.set('a', { userId: 'a' }, undefined, undefined, T0);
    c.set('b', { userId: 'b' }, undefined, undefined, T0);
    c.set('a', { userId: 'a' }, undefined, undefined, T0 + 1000);
    c.set('c', { userId: 'c' }, undefined, undefined, T0 + 1000);
    assert.notEqual(c.get('a', T0 + 1000), null);
    assert.equal(c.get('b', T0 + 1000), null);
  });
});

describe('JwtVerifier with a public key', () => {
  test('the same token verifies once; past its expiry it is refused as token_expired', async () => {
    const pair = await keyPair('ES256');
    const clock = new ShiftedClock();
    const verifier = new JwtVerifier(
      resolveAuthOptions({ publicKey: pair.publicPem, audience: AUDIENCE, issuer: ISSUER }),
      clock,
    );
    const token = await sign(pair.privateKey, { alg: 'ES256', expIn: 60 });
    const first = await verifier.verify(token);
    const second = await verifier.verify(token);
    assert.ok(first.ok && second.ok);
    assert.equal(second.principal, first.principal, 'the second check was a cache hit');
    clock.advance(66_000);
    const late = await verifier.verify(token);
    assert.equal(late.ok, false);
    if (!late.ok) assert.equal(late.code, 'token_expired');
  });

  test('a refused token is not cached', async () => {
    const pair = await keyPair('ES256');
    const verifier = new JwtVerifier(
      resolveAuthOptions({ publicKey: pair.publicPem, audience: AUDIENCE, issuer: ISSUER }),
      new ShiftedClock(),
    );
    const token = await sign(pair.privateKey, { alg: 'ES256', aud: 'other' });
    for (let i = 0; i < 2; i++) assert.equal((await verifier.verify(token)).ok, false);
  });
});
