// The JWT verifier and the auth options, without a server: each check with an injected clock, the claims
// to principal mapping, and the option validation that keeps algorithm confusion out.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { InvalidOptionError } from '../src/index.js';
import type { Clock } from '../src/index.js';
import { algorithmsForKey, resolveAuthOptions } from '../src/auth/auth-options.js';
import type { AuthOptions } from '../src/auth/auth-options.js';
import { JwtVerifier, principalFromClaims } from '../src/auth/jwt-verifier.js';
import { AUDIENCE, ISSUER, SECRET, hsToken, keyPair, noneToken, secretKey, sign } from './auth-fixtures.js';

/** A clock `offsetMs` away from the system clock (the tokens are signed against the real one). */
function clockAt(offsetMs: number): Clock {
  const never = { cancel: () => {} };
  return { now: () => Date.now() + offsetMs, setInterval: () => never, setTimeout: () => never };
}

function verifier(options: AuthOptions, offsetMs = 0): JwtVerifier {
  return new JwtVerifier(resolveAuthOptions(options), clockAt(offsetMs));
}

const strict = { secret: SECRET, audience: AUDIENCE, issuer: ISSUER };

async function refusal(v: JwtVerifier, token: string): Promise<{ code: string; message: string }> {
  const outcome = await v.verify(token);
  assert.equal(outcome.ok, false, 'expected a refusal');
  if (outcome.ok) throw new Error('unreachable');
  assert.equal(outcome.status, 401);
  return { code: outcome.code, message: outcome.message };
}

describe('JwtVerifier', () => {
  test('a valid token becomes a principal: sub, exp in ms, scopes, channels, and only the info claim as info', async () => {
    const token = await hsToken({
      sub: 'alice',
      expIn: 600,
      claims: { scope: 'a b', channels: ['team:*'], info: { name: 'Alice' }, email: 'alice@example.com' },
    });
    const outcome = await verifier(strict).verify(token);
    assert.ok(outcome.ok);
    assert.equal(outcome.principal.userId, 'alice');
    assert.deepEqual(outcome.principal.scopes, ['a', 'b']);
    assert.deepEqual(outcome.principal.channels, ['team:*']);
    assert.deepEqual(
      outcome.principal.info,
      { name: 'Alice' },
      'other claims (email) are never shown to others',
    );
    const exp = outcome.principal.expiresAt ?? 0;
    assert.ok(Math.abs(exp - (Date.now() + 600_000)) < 5000, 'exp in milliseconds');
  });

  test('each failure has its code and a message that says which check failed', async () => {
    const v = verifier(strict);
    const cases: [string, Promise<string> | string, string, RegExp][] = [
      ['expired', hsToken({ expIn: -60 }), 'token_expired', /expired/],
      ['not yet valid', hsToken({ nbfIn: 60 }), 'unauthorized', /not valid yet/],
      ['wrong audience', hsToken({ aud: 'x' }), 'unauthorized', /audience/],
      ['no audience', hsToken({ aud: null }), 'unauthorized', /aud/],
      ['wrong issuer', hsToken({ iss: 'x' }), 'unauthorized', /issuer/],
      ['no subject', hsToken({ sub: null }), 'unauthorized', /sub/],
      ['empty subject', hsToken({ sub: '' }), 'unauthorized', /sub/],
      ['no expiry', hsToken({ expIn: null }), 'unauthorized', /exp/],
      ['wrong secret', sign(secretKey(`${SECRET}-other`)), 'unauthorized', /signature/],
      ['alg none', noneToken(), 'unauthorized', /algorithm/],
      ['garbage', 'a.b.c', 'unauthorized', /malformed/],
    ];
    for (const [name, token, code, message] of cases) {
      const r = await refusal(v, await token);
      assert.equal(r.code, code, name);
      assert.match(r.message, message, name);
    }
  });

  test('the clock skew applies to exp and nbf, both ways', async () => {
    const expiredJustNow = await hsToken({ expIn: -2 });
    assert.ok((await verifier({ secret: SECRET }).verify(expiredJustNow)).ok, 'within the default 5 s');
    assert.equal(
      (await refusal(verifier({ secret: SECRET, clockSkewMs: 0 }), expiredJustNow)).code,
      'token_expired',
    );
    const almostValid = await hsToken({ nbfIn: 2 });
    assert.ok((await verifier({ secret: SECRET }).verify(almostValid)).ok);
    assert.equal(
      (await refusal(verifier({ secret: SECRET, clockSkewMs: 0 }), almostValid)).code,
      'unauthorized',
    );
  });

  test('time comes from the injected clock', async () => {
    const token = await hsToken({ expIn: 60 });
    assert.ok((await verifier({ secret: SECRET }).verify(token)).ok);
    assert.equal((await refusal(verifier({ secret: SECRET }, 120_000), token)).code, 'token_expired');
  });

  test('requireExpiry false accepts a token without exp, and its principal has no expiresAt', async () => {
    const outcome = await verifier({ secret: SECRET, requireExpiry: false }).verify(
      await hsToken({ expIn: null }),
    );
    assert.ok(outcome.ok);
    assert.equal(outcome.principal.expiresAt, undefined);
  });

  test('audience and issuer lists: one match is enough', async () => {
    const v = verifier({ secret: SECRET, audience: ['a', AUDIENCE], issuer: ['i', ISSUER] });
    assert.ok((await v.verify(await hsToken())).ok);
  });
});

describe('principalFromClaims', () => {
  test('scope, scopes, and what a malformed scope grants (nothing)', () => {
    const scopes = (claims: Record<string, unknown>): readonly string[] | undefined => {
      const p = principalFromClaims({ sub: 'a', ...claims });
      return typeof p === 'string' ? undefined : p.scopes;
    };
    assert.deepEqual(scopes({ scope: ' read  write ' }), ['read', 'write']);
    assert.deepEqual(scopes({ scopes: ['read'] }), ['read']);
    assert.deepEqual(scopes({ scope: 'a', scopes: ['b'] }), ['a'], 'scope wins');
    assert.equal(scopes({ scopes: ['a', 1] }), undefined);
    assert.equal(scopes({ scope: 42 }), undefined);
    assert.equal(scopes({}), undefined);
  });

  test('a subject that is not a non-empty string is a problem', () => {
    assert.equal(typeof principalFromClaims({}), 'string');
    assert.equal(typeof principalFromClaims({ sub: '' }), 'string');
    assert.deepEqual(principalFromClaims({ sub: 'x' }), { userId: 'x' });
    assert.deepEqual(
      principalFromClaims({ sub: 'x', channels: ['a', 1] }),
      { userId: 'x' },
      'a malformed channels claim grants nothing',
    );
  });
});

describe('resolveAuthOptions', () => {
  function problem(options: unknown): InvalidOptionError {
    try {
      resolveAuthOptions(options as AuthOptions);
    } catch (error) {
      assert.ok(error instanceof InvalidOptionError, String(error));
      return error;
    }
    assert.fail('expected an InvalidOptionError');
  }

  test('defaults', () => {
    const r = resolveAuthOptions({ secret: SECRET });
    assert.deepEqual(
      { ...r, key: r.key.kind },
      {
        key: 'secret',
        algorithms: ['HS256', 'HS384', 'HS512'],
        audience: [],
        issuer: [],
        clockSkewMs: 5000,
        requireExpiry: true,
        allowAnonymous: false,
        firstMessageAuth: true,
        queryToken: true,
        ticketTtlMs: 30_000,
        cookie: null,
      },
    );
    assert.equal(resolveAuthOptions({ secret: SECRET, allowAnonymous: true }).firstMessageAuth, false);
  });

  test('exactly one key source', () => {
    assert.equal(problem({}).option, 'auth');
    assert.match(problem({ secret: SECRET, jwksUrl: 'https://idp.test/jwks' }).message, /exactly one/);
  });

  test('a short secret is refused, and never echoed', () => {
    const error = problem({ secret: 'short-secret' });
    assert.equal(error.option, 'auth.secret');
    assert.ok(!error.message.includes('short-secret'), error.message);
    assert.equal(problem({ secret: new Uint8Array(31) }).option, 'auth.secret');
    assert.ok(resolveAuthOptions({ secret: new Uint8Array(32) }));
  });

  test('the algorithm allow-list follows the key type; `none` and other families are refused', async () => {
    const rsa = await keyPair('RS256');
    const ec = await keyPair('ES256');
    const ed = await keyPair('EdDSA');
    const es384 = await keyPair('ES384');
    const key = (publicKey: string): readonly string[] => resolveAuthOptions({ publicKey }).algorithms;
    assert.deepEqual(key(rsa.publicPem), ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']);
    assert.deepEqual(key(ec.publicPem), ['ES256']);
    assert.deepEqual(key(es384.publicPem), ['ES384']);
    assert.deepEqual(key(ed.publicPem), ['EdDSA', 'Ed25519']);
    assert.ok(
      !algorithmsForKey({
        kind: 'jwks',
        url: new URL('https://x'),
        cooldownMs: 0,
        cacheMaxAgeMs: 1,
        timeoutMs: 1,
      }).some((a) => a.startsWith('HS')),
    );
    for (const algorithms of [['none'], ['RS256'], [], 'HS256']) {
      assert.equal(
        problem({ secret: SECRET, algorithms }).option,
        'auth.algorithms',
        JSON.stringify(algorithms),
      );
    }
    assert.equal(problem({ publicKey: rsa.publicPem, algorithms: ['HS256'] }).option, 'auth.algorithms');
    assert.deepEqual(resolveAuthOptions({ publicKey: rsa.publicPem, algorithms: ['RS256'] }).algorithms, [
      'RS256',
    ]);
  });

  test('public keys: private keys, weak RSA, unsupported curves and garbage are refused', () => {
    const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const secp256k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
    const rsa2048 = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = (k: { export(o: { type: 'spki'; format: 'pem' }): string | Buffer }): string =>
      k.export({ type: 'spki', format: 'pem' }).toString();
    assert.match(problem({ publicKey: pem(rsa1024.publicKey) }).message, /2048/);
    assert.equal(problem({ publicKey: pem(secp256k1.publicKey) }).option, 'auth.publicKey');
    assert.match(
      problem({ publicKey: rsa2048.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() }).message,
      /not a private key/,
    );
    assert.ok(!problem({ publicKey: 'garbage' }).message.includes('garbage'));
    assert.equal(problem({ publicKey: rsa2048.privateKey }).option, 'auth.publicKey', 'a private KeyObject');
    assert.ok(resolveAuthOptions({ publicKey: rsa2048.publicKey }), 'a public KeyObject');
  });

  test('JWKS URLs: https, or http on loopback only', () => {
    assert.ok(resolveAuthOptions({ jwksUrl: 'https://idp.test/.well-known/jwks.json' }));
    assert.ok(resolveAuthOptions({ jwksUrl: new URL('http://127.0.0.1:8080/jwks') }));
    assert.ok(resolveAuthOptions({ jwksUrl: 'http://localhost/jwks' }));
    for (const jwksUrl of ['http://idp.test/jwks', 'ftp://idp.test/jwks', 'not a url']) {
      assert.equal(problem({ jwksUrl }).option, 'auth.jwksUrl', jwksUrl);
    }
  });

  test('numbers, flags and lists are checked', () => {
    assert.equal(problem({ secret: SECRET, clockSkewMs: -1 }).option, 'auth.clockSkewMs');
    assert.equal(problem({ secret: SECRET, ticketTtlMs: 999 }).option, 'auth.ticketTtlMs');
    assert.equal(problem({ secret: SECRET, ticketTtlMs: 1500.5 }).option, 'auth.ticketTtlMs');
    assert.equal(
      problem({ jwksUrl: 'https://idp.test/jwks', jwksTimeoutMs: 0 }).option,
      'auth.jwksTimeoutMs',
    );
    assert.equal(problem({ secret: SECRET, queryToken: 'yes' }).option, 'auth.queryToken');
    assert.equal(problem({ secret: SECRET, audience: [] }).option, 'auth.audience');
    assert.equal(problem({ secret: SECRET, issuer: [''] }).option, 'auth.issuer');
    assert.equal(
      problem({ secret: SECRET, allowAnonymous: true, firstMessageAuth: true }).option,
      'auth.firstMessageAuth',
    );
  });
});
