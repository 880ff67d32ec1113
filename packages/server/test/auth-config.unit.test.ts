// The CLI's auth rows -> createServer({ auth }): variables and flags, key files, and errors that name the
// variable or flag the user wrote and never echo a secret.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { InvalidOptionError } from '../src/index.js';
import { parseCommandLine } from '../src/cli/parse-options.js';
import type { Environment } from '../src/cli/parse-options.js';
import type { ServerOptions } from '../src/index.js';

const SECRET = 'cli-secret-0123456789-0123456789-0123456789';
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PUBLIC_PEM = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const PRIVATE_PEM = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

const FILES: Readonly<Record<string, string>> = {
  '/run/secret': `${SECRET}\n`,
  '/run/empty': '\n',
  '/run/public.pem': PUBLIC_PEM,
  '/run/private.pem': PRIVATE_PEM,
};

function read(path: string): string {
  const text = FILES[path];
  if (text === undefined) throw new Error(`ENOENT: no such file or directory, open '${path}'`);
  return text;
}

function server(argv: string[], env: Environment = {}): ServerOptions {
  const command = parseCommandLine(argv, env, read);
  assert.equal(command.kind, 'run');
  if (command.kind !== 'run') throw new Error('unreachable');
  return command.config.server;
}

function invalid(argv: string[], env: Environment = {}): InvalidOptionError {
  try {
    parseCommandLine(argv, env, read);
  } catch (error) {
    assert.ok(error instanceof InvalidOptionError, String(error));
    return error;
  }
  assert.fail('expected an InvalidOptionError');
}

describe('auth options on the command line', () => {
  test('nothing set: no auth option at all', () => {
    assert.equal('auth' in server([]), false);
    for (const key of Object.keys(server([]))) assert.ok(!key.startsWith('auth.'), key);
  });

  test('every row, from variables', () => {
    const options = server([], {
      SWITCHBOARD_JWT_SECRET: SECRET,
      SWITCHBOARD_JWT_AUDIENCE: 'switchboard, admin',
      SWITCHBOARD_JWT_ISSUER: 'https://issuer.test',
      SWITCHBOARD_JWT_ALGORITHMS: 'HS256,HS512',
      SWITCHBOARD_JWT_CLOCK_SKEW_MS: '1000',
      SWITCHBOARD_ALLOW_ANONYMOUS: 'true',
      SWITCHBOARD_QUERY_TOKEN: '0',
      SWITCHBOARD_TICKET_TTL_MS: '10000',
    });
    assert.deepEqual(options.auth, {
      secret: SECRET,
      audience: ['switchboard', 'admin'],
      issuer: ['https://issuer.test'],
      algorithms: ['HS256', 'HS512'],
      clockSkewMs: 1000,
      ticketTtlMs: 10000,
      allowAnonymous: true,
      queryToken: false,
    });
  });

  test('flags, key files and the JWKS URL', () => {
    assert.deepEqual(server(['--jwt-secret-file', '/run/secret']).auth, { secret: SECRET });
    assert.deepEqual(server(['--jwt-public-key-file=/run/public.pem', '--no-first-message-auth']).auth, {
      publicKey: PUBLIC_PEM,
      firstMessageAuth: false,
    });
    assert.deepEqual(server([], { SWITCHBOARD_JWT_JWKS_URL: 'https://idp.test/jwks' }).auth, {
      jwksUrl: 'https://idp.test/jwks',
    });
    // The flag wins over the variable, as everywhere.
    assert.deepEqual(
      server(['--jwt-secret-file', '/run/secret'], { SWITCHBOARD_JWT_SECRET: 'x'.repeat(40) }).auth,
      {
        secret: SECRET,
      },
    );
  });

  test('a setting without a key names itself and asks for one', () => {
    const error = invalid(['--allow-anonymous']);
    assert.equal(error.option, '--allow-anonymous');
    assert.match(error.message, /SWITCHBOARD_JWT_SECRET, SWITCHBOARD_JWT_SECRET_FILE/);
  });

  test('bad values name the variable or flag and never echo a secret', () => {
    const short = invalid([], { SWITCHBOARD_JWT_SECRET: 'too-short-secret' });
    assert.equal(short.option, 'SWITCHBOARD_JWT_SECRET');
    assert.ok(!short.message.includes('too-short-secret'), short.message);
    const fromFile = invalid([], { SWITCHBOARD_JWT_SECRET_FILE: '/run/empty' });
    assert.equal(fromFile.option, 'SWITCHBOARD_JWT_SECRET_FILE');
    const both = invalid([], { SWITCHBOARD_JWT_SECRET: SECRET, SWITCHBOARD_JWT_SECRET_FILE: '/run/secret' });
    assert.equal(both.option, 'SWITCHBOARD_JWT_SECRET_FILE');
    assert.ok(!both.message.includes(SECRET));
    assert.equal(invalid(['--jwt-public-key-file', '/nope']).option, '--jwt-public-key-file');
    const privateKey = invalid(['--jwt-public-key-file', '/run/private.pem']);
    assert.match(privateKey.message, /not a private key/);
    assert.ok(!privateKey.message.includes('PRIVATE KEY-----'), 'the key is not echoed');
    assert.equal(
      invalid([], { SWITCHBOARD_JWT_SECRET: SECRET, SWITCHBOARD_JWT_ALGORITHMS: 'RS256' }).option,
      'SWITCHBOARD_JWT_ALGORITHMS',
    );
    assert.equal(invalid(['--jwt-jwks-url', 'http://idp.test/jwks']).option, '--jwt-jwks-url');
    for (const raw of ['abc', '-1', '1e3', '300001']) {
      assert.equal(
        invalid([], { SWITCHBOARD_JWT_SECRET: SECRET, SWITCHBOARD_JWT_CLOCK_SKEW_MS: raw }).option,
        'SWITCHBOARD_JWT_CLOCK_SKEW_MS',
        raw,
      );
    }
    assert.equal(
      invalid(['--ticket-ttl-ms', '999'], { SWITCHBOARD_JWT_SECRET: SECRET }).option,
      '--ticket-ttl-ms',
    );
    const exclusive = invalid(['--allow-anonymous', '--first-message-auth'], {
      SWITCHBOARD_JWT_SECRET: SECRET,
    });
    assert.equal(exclusive.option, '--first-message-auth');
    assert.match(exclusive.message, /--allow-anonymous/);
  });
});
