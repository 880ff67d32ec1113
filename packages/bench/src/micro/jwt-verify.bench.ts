/**
 * Verifying a handshake's JWT, once per connection. HS256 through `TokenAuthenticator.verifyToken` (the
 * synchronous HMAC fast path, src/auth/hmac-jwt.ts) against what the server ran before: jose's
 * `jwtVerify` with the secret as bytes (WebCrypto: a key import and an async HMAC job per token). And
 * ES256, where the verified-token cache makes a repeated token (a reconnect, another tab) a lookup.
 *
 * CPU is `process.cpuUsage()`, so WebCrypto's threadpool work counts. Standalone (verification is
 * asynchronous), not in the `micro` runner's list:
 *
 *   node --import tsx packages/bench/src/micro/jwt-verify.bench.ts [tokens]
 *
 * SWITCHBOARD_SERVER=/path/to/server/dist/index.js measures another build (a before/after comparison).
 */
import { pathToFileURL } from 'node:url';
import { SignJWT, exportSPKI, generateKeyPair, jwtVerify } from 'jose';
import type { CryptoKey } from 'jose';

type ServerModule = typeof import('@switchboard/server');

const SECRET = 'jwt-bench-secret-0123456789abcdef0123456789';
const OPTIONS = { algorithms: ['HS256'], clockTolerance: 5, requiredClaims: ['sub', 'exp'] };

async function mint(count: number, alg: string, key: Uint8Array | CryptoKey): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    out.push(
      await new SignJWT({})
        .setProtectedHeader({ alg })
        .setSubject(`user-${i}`)
        .setIssuedAt()
        .setExpirationTime('2h')
        .sign(key),
    );
  }
  return out;
}

/** CPU and wall time per call of `verify`, awaited one at a time, after a warm-up on other tokens. */
async function time(
  warmUp: readonly string[],
  tokens: readonly string[],
  verify: (token: string) => Promise<unknown>,
): Promise<string> {
  for (const token of warmUp) await verify(token);
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  for (const token of tokens) await verify(token);
  const wall = Number(process.hrtime.bigint() - started) / 1000 / tokens.length;
  const used = process.cpuUsage(cpu);
  return `${((used.user + used.system) / tokens.length).toFixed(2)} | ${wall.toFixed(2)}`;
}

const override = process.env['SWITCHBOARD_SERVER'];
const sb = (await import(
  override === undefined ? '@switchboard/server' : pathToFileURL(override).href
)) as ServerModule;
const count = Number(process.argv[2] ?? 5000);
const secret = new TextEncoder().encode(SECRET);
const hs = await mint(count, 'HS256', secret);
const hsWarmUp = await mint(500, 'HS256', secret);
const ec = await generateKeyPair('ES256');
const es = await mint(count, 'ES256', ec.privateKey);
const esWarmUp = await mint(500, 'ES256', ec.privateKey);

const hmac = new sb.TokenAuthenticator({ secret: SECRET, algorithms: ['HS256'] });
const expectOk = async (outcome: Promise<{ ok: boolean }>): Promise<void> => {
  if (!(await outcome).ok) throw new Error('a bench token was refused');
};
process.stdout.write(
  `${count} distinct tokens per case, verified one at a time${override === undefined ? '' : ` (${override})`}\n`,
);
process.stdout.write('| case | CPU µs/token | wall µs/token |\n| --- | --- | --- |\n');
const row = (name: string, figures: string): boolean => process.stdout.write(`| ${name} | ${figures} |\n`);
row('HS256, TokenAuthenticator.verifyToken', await time(hsWarmUp, hs, (t) => expectOk(hmac.verifyToken(t))));
row(
  'HS256, jose jwtVerify (bytes key; before)',
  await time(hsWarmUp, hs, (t) => jwtVerify(t, secret, OPTIONS)),
);
const es256 = new sb.TokenAuthenticator({
  publicKey: await exportSPKI(ec.publicKey),
  algorithms: ['ES256'],
});
const verifyEs = (t: string): Promise<void> => expectOk(es256.verifyToken(t));
row('ES256, first sight of each token', await time(esWarmUp, es, verifyEs));
row('ES256, each token seen before (cache)', await time([], es, verifyEs));
