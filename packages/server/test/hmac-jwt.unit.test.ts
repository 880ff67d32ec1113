// The HMAC fast path against jose itself: for every edge case (and a few thousand mutated tokens), the fast
// path may accept only what jose's jwtVerify accepts with the same options, with the same claims. It must
// also actually take the plain, valid tokens, or it is no fast path.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { jwtVerify } from 'jose';
import type { JWTPayload } from 'jose';
import { HmacJwtVerifier } from '../src/auth/hmac-jwt.js';
import type { HmacClaimRules } from '../src/auth/hmac-jwt.js';
import { AUDIENCE, ISSUER, SECRET, epoch, hsToken, noneToken, secretKey } from './auth-fixtures.js';

const KEY = secretKey();
const b64 = (bytes: string | Uint8Array): string => Buffer.from(bytes).toString('base64url');
const json = (value: unknown): string => b64(JSON.stringify(value));

/** A token from raw segments, signed over `header.payload` with `alg`'s hash (or `signature` as given). */
function craft(header: string, payload: string, hash = 'sha256', signature?: string): string {
  const input = `${header}.${payload}`;
  return `${input}.${signature ?? createHmac(hash, KEY).update(input).digest('base64url')}`;
}

const CLAIMS = { sub: 'alice', exp: epoch(3600), aud: AUDIENCE, iss: ISSUER, iat: epoch() };
const HS256 = json({ alg: 'HS256', typ: 'JWT' });

/** {@link CLAIMS} without one claim. */
function without(claim: keyof typeof CLAIMS): JWTPayload {
  return Object.fromEntries(Object.entries(CLAIMS).filter(([name]) => name !== claim));
}

interface Setup {
  readonly name: string;
  readonly rules: HmacClaimRules;
}

const SETUPS: Setup[] = [
  {
    name: 'strict',
    rules: {
      algorithms: ['HS256'],
      requiredClaims: ['sub', 'exp'],
      audience: [AUDIENCE],
      issuer: [ISSUER],
      clockToleranceSeconds: 5,
    },
  },
  {
    name: 'lenient',
    rules: {
      algorithms: ['HS256', 'HS384', 'HS512'],
      requiredClaims: ['sub'],
      audience: [],
      issuer: [],
      clockToleranceSeconds: 0,
    },
  },
  {
    name: 'two audiences, two issuers',
    rules: {
      algorithms: ['HS512', 'HS256'],
      requiredClaims: ['sub', 'exp'],
      audience: ['other', AUDIENCE],
      issuer: ['https://other.test', ISSUER],
      clockToleranceSeconds: 2.5,
    },
  },
];

async function edgeCases(): Promise<[string, string][]> {
  const cases: [string, string][] = [
    ['valid', craft(HS256, json(CLAIMS))],
    ['valid from jose', await hsToken({ claims: { info: { name: 'A' }, scope: 'a b' } })],
    ['HS384', craft(json({ alg: 'HS384' }), json(CLAIMS), 'sha384')],
    ['HS512', craft(json({ alg: 'HS512' }), json(CLAIMS), 'sha512')],
    ['HS256 header, HS512 signature', craft(HS256, json(CLAIMS), 'sha512')],
    ['alg none', noneToken()],
    ['alg missing', craft(json({ typ: 'JWT' }), json(CLAIMS))],
    ['alg empty', craft(json({ alg: '' }), json(CLAIMS))],
    ['alg not a string', craft(json({ alg: 256 }), json(CLAIMS))],
    ['alg RS256', craft(json({ alg: 'RS256' }), json(CLAIMS))],
    ['wrong signature', craft(HS256, json(CLAIMS), 'sha256', b64(Buffer.alloc(32, 7)))],
    ['short signature', craft(HS256, json(CLAIMS), 'sha256', b64(Buffer.alloc(31, 7)))],
    ['signature of 4n+1 characters', `${craft(HS256, json(CLAIMS))}AA`],
    ['signature one byte longer', `${craft(HS256, json(CLAIMS))}A`],
    ['empty signature', `${HS256}.${json(CLAIMS)}.`],
    ['crit b64 false', craft(json({ alg: 'HS256', b64: false, crit: ['b64'] }), json(CLAIMS))],
    ['crit b64 true', craft(json({ alg: 'HS256', b64: true, crit: ['b64'] }), json(CLAIMS))],
    ['crit unknown', craft(json({ alg: 'HS256', crit: ['exp'] }), json(CLAIMS))],
    ['crit empty', craft(json({ alg: 'HS256', crit: [] }), json(CLAIMS))],
    ['crit null', craft(json({ alg: 'HS256', crit: null }), json(CLAIMS))],
    ['b64 false without crit', craft(json({ alg: 'HS256', b64: false }), json(CLAIMS))],
    ['__proto__ in the header', craft(b64('{"alg":"HS256","__proto__":{"crit":["x"]}}'), json(CLAIMS))],
    ['header an array', craft(json(['HS256']), json(CLAIMS))],
    ['header null', craft(json(null), json(CLAIMS))],
    ['header not JSON', craft(b64('{alg:HS256}'), json(CLAIMS))],
    ['header not UTF-8', craft(b64(Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d])), json(CLAIMS))],
    ['header with a BOM', craft(b64(`\uFEFF${JSON.stringify({ alg: 'HS256' })}`), json(CLAIMS))],
    ['header of 4n+1 characters', craft(`${HS256}A`, json(CLAIMS))],
    ['empty header', craft('', json(CLAIMS))],
    ['payload an array', craft(HS256, json([CLAIMS]))],
    ['payload a string', craft(HS256, json('alice'))],
    ['payload null', craft(HS256, json(null))],
    ['payload not UTF-8', craft(HS256, b64(Buffer.from('{"sub":"\xff"}', 'latin1')))],
    ['payload with a BOM', craft(HS256, b64(`\uFEFF${JSON.stringify(CLAIMS)}`))],
    ['payload of 4n+1 characters', craft(HS256, `${json(CLAIMS)}A`)],
    ['payload padded', craft(HS256, `${Buffer.from(JSON.stringify(CLAIMS)).toString('base64')}`)],
    ['duplicate sub', craft(HS256, b64(`{"sub":"a","sub":"b","exp":${epoch(60)}}`))],
    ['__proto__ in the payload', craft(HS256, b64(`{"__proto__":{"sub":"x"},"exp":${epoch(60)}}`))],
    ['four segments', `${craft(HS256, json(CLAIMS))}.x`],
    ['two segments', `${HS256}.${json(CLAIMS)}`],
    ['whitespace', ` ${craft(HS256, json(CLAIMS))}`],
  ];
  const claimCases: [string, JWTPayload][] = [
    ['no sub', without('sub')],
    ['sub empty', { ...CLAIMS, sub: '' }],
    ['sub a number', { ...CLAIMS, sub: 7 as unknown as string }],
    ['no exp', without('exp')],
    ['exp a string', { ...CLAIMS, exp: String(epoch(60)) as unknown as number }],
    ['exp null', { ...CLAIMS, exp: null as unknown as number }],
    ['expired long ago', { ...CLAIMS, exp: epoch(-3600) }],
    ['expired 1 s ago', { ...CLAIMS, exp: epoch(-1) }],
    ['expired 3 s ago', { ...CLAIMS, exp: epoch(-3) }],
    ['expires now', { ...CLAIMS, exp: epoch(0) }],
    ['exp fractional', { ...CLAIMS, exp: epoch(0) + 0.5 }],
    ['nbf in 1 s', { ...CLAIMS, nbf: epoch(1) }],
    ['nbf in 3 s', { ...CLAIMS, nbf: epoch(3) }],
    ['nbf in an hour', { ...CLAIMS, nbf: epoch(3600) }],
    ['nbf a string', { ...CLAIMS, nbf: String(epoch()) as unknown as number }],
    ['iat a string', { ...CLAIMS, iat: 'now' as unknown as number }],
    ['iat in the future', { ...CLAIMS, iat: epoch(3600) }],
    ['no aud', without('aud')],
    ['other aud', { ...CLAIMS, aud: 'other' }],
    ['aud list with ours', { ...CLAIMS, aud: ['x', AUDIENCE] }],
    ['aud list without ours', { ...CLAIMS, aud: ['x', 'y'] }],
    ['aud a number', { ...CLAIMS, aud: 7 as unknown as string }],
    ['no iss', without('iss')],
    ['other iss', { ...CLAIMS, iss: 'https://evil.test' }],
    ['iss a list', { ...CLAIMS, iss: [ISSUER] as unknown as string }],
  ];
  for (const [name, claims] of claimCases) cases.push([name, craft(HS256, json(claims))]);
  return cases;
}

async function joseAccepts(token: string, rules: HmacClaimRules, nowMs: number): Promise<JWTPayload | null> {
  try {
    const { payload } = await jwtVerify(token, KEY, {
      algorithms: [...rules.algorithms],
      clockTolerance: rules.clockToleranceSeconds,
      currentDate: new Date(nowMs),
      requiredClaims: [...rules.requiredClaims],
      ...(rules.audience.length === 0 ? {} : { audience: [...rules.audience] }),
      ...(rules.issuer.length === 0 ? {} : { issuer: [...rules.issuer] }),
    });
    return payload;
  } catch {
    return null;
  }
}

/** The fast path accepts only what jose accepts, with the same claims; returns whether it accepted. */
async function agree(name: string, token: string, setup: Setup, nowMs: number): Promise<boolean> {
  const fast = new HmacJwtVerifier(KEY, setup.rules).verify(token, nowMs);
  if (fast === null) return false;
  const jose = await joseAccepts(token, setup.rules, nowMs);
  assert.notEqual(jose, null, `${setup.name}: the fast path accepted "${name}", jose refuses it`);
  assert.deepEqual(fast, jose, `${setup.name}: "${name}" gives other claims`);
  return true;
}

describe('HmacJwtVerifier', () => {
  test('accepts only what jose accepts, on every edge case, at several times', async () => {
    const cases = await edgeCases();
    const now = Date.now();
    let accepted = 0;
    for (const setup of SETUPS) {
      for (const offset of [0, 999, -2000, 4000, 7_200_000]) {
        for (const [name, token] of cases) if (await agree(name, token, setup, now + offset)) accepted++;
      }
    }
    assert.ok(accepted > 50, `the fast path took ${accepted} tokens`);
  });

  test('takes the plain valid tokens (or it is no fast path)', async () => {
    const strict = SETUPS[0] as Setup;
    const now = Date.now();
    for (const token of [
      craft(HS256, json(CLAIMS)),
      await hsToken(),
      await hsToken({ claims: { info: { name: 'Alice' }, channels: ['a:*'] } }),
    ]) {
      assert.ok(await agree('valid', token, strict, now), 'a valid token takes the fast path');
    }
    const lenient = SETUPS[1] as Setup;
    const hs512 = craft(json({ alg: 'HS512' }), json({ sub: 'bob' }), 'sha512');
    assert.ok(await agree('HS512 without exp', hs512, lenient, now));
  });

  test('a mutated token is accepted only if jose accepts it', async () => {
    const base = craft(HS256, json({ ...CLAIMS, info: { n: 'é' } }));
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ ';
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    const now = Date.now();
    for (let i = 0; i < 3000; i++) {
      const at = random(base.length);
      const token = `${base.slice(0, at)}${alphabet[random(alphabet.length)] ?? ''}${base.slice(at + random(2))}`;
      // A mutation of the signed part is re-signed half of the time, so that the claims checks run too.
      const dot = token.lastIndexOf('.');
      const resigned =
        random(2) === 0 && dot > 0
          ? craft(...(token.slice(0, dot).split('.', 2) as [string, string]))
          : token;
      for (const setup of SETUPS) await agree(`mutation ${i}`, resigned, setup, now);
    }
  });

  test('the secret matters', () => {
    const other = new HmacJwtVerifier(secretKey(`${SECRET}-other`), (SETUPS[0] as Setup).rules);
    assert.equal(other.verify(craft(HS256, json(CLAIMS)), Date.now()), null);
  });
});
