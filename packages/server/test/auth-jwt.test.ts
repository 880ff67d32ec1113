// JWT verification end to end: each algorithm family, algorithm confusion, JWKS with key rotation,
// in-band refresh, and expiry closing the connection with 4004. Real servers on port 0, real ws
// clients, tokens signed by jose with keys generated for this run.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Logger } from '../src/index.js';
import { connect, connectV1, startServer, waitMembers } from './helpers.js';
import type { TestClient, TestServer } from './helpers.js';
import {
  AUDIENCE,
  ISSUER,
  JwksServer,
  SECRET,
  errorCodeOf,
  handshake,
  hsToken,
  keyPair,
  secretKey,
  sign,
  within,
} from './auth-fixtures.js';
import type { TestKeyPair, TokenSpec } from './auth-fixtures.js';

const claimsChecks = { audience: AUDIENCE, issuer: ISSUER };

function bearer(token: string): { headers: { authorization: string } } {
  return { headers: { authorization: `Bearer ${token}` } };
}

/** The status of a handshake presenting `token` in the header (101 when it opened). */
async function statusWith(t: TestServer, token: string): Promise<number> {
  const result = await handshake(`${t.wsUrl}/ws`, undefined, bearer(token));
  if (result.kind === 'open') {
    result.ws.close();
    return 101;
  }
  if (result.kind === 'refused') return result.status;
  throw new Error(result.message);
}

describe('each algorithm family verifies, and only its own', () => {
  const families: { name: string; alg: string; curve?: string }[] = [
    { name: 'RS256 (RSA public key)', alg: 'RS256' },
    { name: 'ES256 (P-256 public key)', alg: 'ES256' },
    { name: 'EdDSA (Ed25519 public key)', alg: 'EdDSA' },
  ];
  const pairs = new Map<string, TestKeyPair>();
  before(async () => {
    for (const family of families) pairs.set(family.alg, await keyPair(family.alg));
  });

  test('HS256, HS384 and HS512 with a secret; an `algorithms` list narrows them', async () => {
    const t = await startServer({ auth: { secret: SECRET, ...claimsChecks } });
    try {
      for (const alg of ['HS256', 'HS384', 'HS512']) {
        const token = await hsToken({
          alg,
          sub: `user-${alg}`,
          claims: { info: { name: alg }, email: 'secret@example.com' },
        });
        const { client, connected } = await connectV1(t, bearer(token));
        assert.equal(connected['userId'], `user-${alg}`, alg);
        const info = t.server.getConnection(connected['connectionId'] as string)?.info;
        assert.deepEqual(
          info,
          { name: alg },
          'only the info claim is the connection info (shown in presence)',
        );
        client.close();
      }
    } finally {
      await t.stop();
    }
    const narrow = await startServer({ auth: { secret: SECRET, algorithms: ['HS256'] } });
    try {
      assert.equal(await statusWith(narrow, await hsToken({ alg: 'HS256' })), 101);
      assert.equal(await statusWith(narrow, await hsToken({ alg: 'HS512' })), 401);
    } finally {
      await narrow.stop();
    }
  });

  for (const family of families) {
    test(`${family.name}: valid tokens open; tokens of every other family are 401`, async () => {
      const pair = pairs.get(family.alg) as TestKeyPair;
      const t = await startServer({ auth: { publicKey: pair.publicPem, ...claimsChecks } });
      try {
        const { client, connected } = await connectV1(
          t,
          bearer(await sign(pair.privateKey, { alg: family.alg })),
        );
        assert.equal(connected['userId'], 'alice');
        client.close();
        for (const other of families) {
          if (other.alg === family.alg) continue;
          const otherPair = pairs.get(other.alg) as TestKeyPair;
          assert.equal(
            await statusWith(t, await sign(otherPair.privateKey, { alg: other.alg })),
            401,
            other.name,
          );
        }
        assert.equal(await statusWith(t, await hsToken()), 401, 'an HS256 token');
        // Algorithm confusion: an HMAC signed with the public key's PEM text as the secret.
        const confused = await sign(secretKey(pair.publicPem), { alg: 'HS256' });
        const result = await handshake(`${t.wsUrl}/ws`, undefined, bearer(confused));
        assert.equal(result.kind === 'refused' && result.status, 401);
        assert.match(result.kind === 'refused' ? result.body : '', /algorithm is not allowed/);
      } finally {
        await t.stop();
      }
    });
  }
});

describe('scopes and claims reach authorization', () => {
  test('`scope` (space-separated) and `scopes` (a list) grant a scope permission; without it, permission_denied', async () => {
    const t = await startServer({
      auth: { secret: SECRET },
      channels: [
        { pattern: 'staff:*', permissions: { subscribe: { scope: 'staff' } } },
        { pattern: 'team:*', permissions: { subscribe: 'claims' } },
      ],
    });
    try {
      const tokens: [TokenSpec, boolean][] = [
        [{ sub: 'a', claims: { scope: 'read staff' } }, true],
        [{ sub: 'b', claims: { scopes: ['staff'] } }, true],
        [{ sub: 'c', claims: { scope: 'read' } }, false],
        [{ sub: 'd', claims: { scopes: 'staff' } }, false],
      ];
      for (const [spec, allowed] of tokens) {
        const { client } = await connectV1(t, bearer(await hsToken(spec)));
        const reply = await client.request({ id: 1, type: 'subscribe', channel: 'staff:room' });
        if (allowed) assert.ok(reply['result'] !== undefined, JSON.stringify(spec));
        else
          assert.equal((reply['error'] as { code: string }).code, 'permission_denied', JSON.stringify(spec));
        client.close();
      }
      const { client } = await connectV1(t, bearer(await hsToken({ claims: { channels: ['team:*'] } })));
      assert.ok(
        (await client.request({ id: 1, type: 'subscribe', channel: 'team:red' }))['result'] !== undefined,
      );
      client.close();
    } finally {
      await t.stop();
    }
  });
});

describe('JWKS', () => {
  const jwks = new JwksServer();
  let url: string;
  let k1: TestKeyPair;
  let k2: TestKeyPair;
  let stranger: TestKeyPair;
  before(async () => {
    url = await jwks.start();
    k1 = await keyPair('RS256', 'k1');
    k2 = await keyPair('ES256', 'k2');
    stranger = await keyPair('RS256', 'k3');
  });
  after(() => jwks.stop());

  test('keys are cached; a token naming an unknown kid refetches (rotation); a kid nobody has is 401', async () => {
    jwks.keys = [k1.jwk];
    jwks.fetches = 0;
    const t = await startServer({ auth: { jwksUrl: url, ...claimsChecks, jwksCooldownMs: 0 } });
    try {
      assert.equal(await statusWith(t, await sign(k1.privateKey, { alg: 'RS256', kid: 'k1' })), 101);
      assert.equal(
        await statusWith(t, await sign(k1.privateKey, { alg: 'RS256', kid: 'k1', sub: 'b' })),
        101,
      );
      assert.equal(jwks.fetches, 1, 'the second token used the cached set');
      // The identity provider rotates: k2 appears. The first k2 token triggers a refetch.
      jwks.keys = [k1.jwk, k2.jwk];
      const { client, connected } = await connectV1(
        t,
        bearer(await sign(k2.privateKey, { alg: 'ES256', kid: 'k2' })),
      );
      assert.equal(connected['userId'], 'alice');
      assert.equal(jwks.fetches, 2);
      client.close();
      const unknown = await handshake(
        `${t.wsUrl}/ws`,
        undefined,
        bearer(await sign(stranger.privateKey, { alg: 'RS256', kid: 'k3' })),
      );
      assert.equal(unknown.kind === 'refused' && unknown.status, 401);
      assert.match(unknown.kind === 'refused' ? unknown.body : '', /no key matches/);
      // A key of the set with the kid of another: the signature does not verify.
      const forged = await sign(stranger.privateKey, { alg: 'RS256', kid: 'k1' });
      assert.equal(await statusWith(t, forged), 401);
      // A JWKS server never hands out HMAC keys to verify with: an HS token is refused outright.
      assert.equal(await statusWith(t, await hsToken()), 401);
    } finally {
      await t.stop();
    }
  });

  test('the cooldown keeps made-up kids from hammering the identity provider', async () => {
    jwks.keys = [k1.jwk];
    jwks.fetches = 0;
    const t = await startServer({ auth: { jwksUrl: url, ...claimsChecks } });
    try {
      assert.equal(await statusWith(t, await sign(k1.privateKey, { alg: 'RS256', kid: 'k1' })), 101);
      for (let i = 0; i < 5; i++) {
        const token = await sign(stranger.privateKey, { alg: 'RS256', kid: `made-up-${i}` });
        assert.equal(await statusWith(t, token), 401);
      }
      assert.equal(jwks.fetches, 1, 'no refetch within the 30 s cooldown');
    } finally {
      await t.stop();
    }
  });

  test('an unreachable JWKS is our fault, not the token’s: 500, logged, and never a 401', async () => {
    jwks.keys = [k1.jwk];
    jwks.failWith = 503;
    const logged: string[] = [];
    const logger: Logger = {
      debug: () => {},
      info: () => {},
      warn: () => {},
      error: (_obj, msg) => logged.push(msg ?? ''),
    };
    const t = await startServer({ auth: { jwksUrl: url, ...claimsChecks }, logger });
    try {
      const result = await handshake(
        `${t.wsUrl}/ws`,
        undefined,
        bearer(await sign(k1.privateKey, { alg: 'RS256', kid: 'k1' })),
      );
      assert.equal(result.kind === 'refused' && result.status, 500);
      assert.equal(result.kind === 'refused' && errorCodeOf(result.body), 'internal');
      assert.deepEqual(logged, ['authenticator failed']);
    } finally {
      jwks.failWith = null;
      await t.stop();
    }
  });
});

describe('refresh and expiry', () => {
  let t: TestServer;
  before(async () => {
    t = await startServer({ auth: { secret: SECRET }, tokenExpiryGraceMs: 100 });
  });
  after(() => t.stop());

  test('refresh: the same user extends expiresAt; another user is permission_denied; an expired token is token_expired', async () => {
    const { client } = await connectV1(t, bearer(await hsToken({ sub: 'kim', expIn: 3600 })));
    const later = await hsToken({ sub: 'kim', expIn: 7200 });
    const refreshed = await client.request({ id: 1, type: 'refresh', token: later });
    const exp = JSON.parse(Buffer.from(later.split('.')[1] ?? '', 'base64url').toString()) as { exp: number };
    assert.deepEqual(refreshed['result'], { userId: 'kim', expiresAt: exp.exp * 1000 });
    const other = await client.request({ id: 2, type: 'refresh', token: await hsToken({ sub: 'lee' }) });
    assert.equal((other['error'] as { code: string }).code, 'permission_denied');
    const expired = await client.request({
      id: 3,
      type: 'refresh',
      token: await hsToken({ sub: 'kim', expIn: -60 }),
    });
    assert.equal((expired['error'] as { code: string }).code, 'token_expired');
    const forged = await client.request({
      id: 4,
      type: 'refresh',
      token: await sign(secretKey('a-different-secret-also-32-bytes-long-0123'), { sub: 'kim' }),
    });
    assert.equal((forged['error'] as { code: string }).code, 'unauthorized');
    assert.deepEqual(
      (await client.request({ id: 5, type: 'ping' }))['result'],
      {},
      'failed refreshes cost nothing',
    );
    client.close();
  });

  test('a connection whose token expires is closed with 4004 after the grace; a refreshed one stays', async () => {
    const soon = { sub: 'max', expIn: 1 };
    const lapsing: TestClient = (await connectV1(t, bearer(await hsToken(soon)))).client;
    const room = await connect(`${t.wsUrl}/ws/expiring`, bearer(await hsToken(soon)));
    await waitMembers(t, 'expiring', 1);
    const kept = (await connectV1(t, bearer(await hsToken(soon)))).client;
    const refreshed = await kept.request({ id: 1, type: 'refresh', token: await hsToken({ sub: 'max' }) });
    assert.ok(refreshed['result'] !== undefined);
    assert.deepEqual(await within(lapsing.closed, 5000, 'expiring /ws connection'), {
      code: 4004,
      reason: 'token expired',
    });
    assert.equal((await within(room.closed, 5000, 'expiring room connection')).code, 4004);
    assert.deepEqual(
      (await kept.request({ id: 2, type: 'ping' }))['result'],
      {},
      'the refreshed one is served',
    );
    kept.close();
  });
});

test('the channels and scope claims drive the claims and scope permissions', async () => {
  const t = await startServer({
    auth: { secret: SECRET, ...claimsChecks },
    defaultPermission: 'claims',
    channels: [{ pattern: 'ops:*', permissions: { subscribe: { scope: 'ops' } } }],
  });
  try {
    const token = await hsToken({ sub: 'carol', claims: { channels: ['team:*'], scope: 'read ops' } });
    const { client } = await connectV1(t, bearer(token));
    const code = async (id: number, channel: string): Promise<unknown> =>
      ((await client.request({ id, type: 'subscribe', channel }))['error'] as { code?: string } | undefined)
        ?.code;
    assert.equal(await code(1, 'team:red'), undefined);
    assert.equal(await code(2, 'ops:alerts'), undefined);
    assert.equal(await code(3, 'other:1'), 'permission_denied');
    client.close();
  } finally {
    await t.stop();
  }
});
