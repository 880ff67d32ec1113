/**
 * TLS served directly, with certificates openssl makes in a temp dir for this run (a root CA the clients
 * trust, an intermediate, and two leaves for 127.0.0.1): wss and https end to end, the certificate reload
 * (new handshakes get the new certificate, open connections keep theirs, a bad reload changes nothing),
 * and SIGHUP in the built CLI.
 *
 * The CLI tests run packages/server/dist/cli/main.js, so build first (`npm test` does).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { connect as tlsConnect } from 'node:tls';
import type { TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { InvalidOptionError, TlsLoadError, createServer } from '../src/index.js';
import type { SwitchboardServer, TlsOptions } from '../src/index.js';
import { parseCommandLine } from '../src/cli/parse-options.js';
import type { CliCommand } from '../src/cli/parse-options.js';
import { TestClient } from './helpers.js';
import { opensslPath, requirement } from './requirements.js';

const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
/** openssl makes this run's certificates: without it both suites skip loudly, or fail where it is required. */
const needOpenssl = requirement('openssl', opensslPath() !== undefined);

// ------------------------------------------------------------------ certificates

/** One leaf certificate: its files and the fingerprint a client sees. */
interface Leaf {
  /** The leaf alone. */
  readonly certFile: string;
  /** Leaf then intermediate, as a `fullchain.pem`. */
  readonly chainFile: string;
  readonly keyFile: string;
  readonly fingerprint256: string;
}

/** Everything openssl made, in a temp dir removed after the run. */
interface Pki {
  readonly dir: string;
  /** The root certificate (PEM text): the only thing clients trust. */
  readonly ca: string;
  readonly intermediateFile: string;
  readonly a: Leaf;
  readonly b: Leaf;
}

const OPENSSL_CONFIG = `
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[root]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[intermediate]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
authorityKeyIdentifier = keyid
`;

/** P-256 keys: fast to make, and what most certificates issued today use. */
const NEW_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

function makePki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-tls-'));
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  };
  writeFileSync(join(dir, 'openssl.cnf'), OPENSSL_CONFIG);
  const cnf = ['-config', 'openssl.cnf'];
  openssl(
    'req',
    '-x509',
    ...NEW_KEY,
    '-keyout',
    'root.key',
    '-out',
    'root.pem',
    '-days',
    '2',
    '-subj',
    '/CN=Switchboard test root',
    ...cnf,
    '-extensions',
    'root',
  );
  const signed = (name: string, issuer: string, extensions: string, serial: string, cn: string): void => {
    openssl(
      'req',
      '-new',
      ...NEW_KEY,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${cn}`,
      ...cnf,
    );
    openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${issuer}.pem`,
      '-CAkey',
      `${issuer}.key`,
      '-set_serial',
      serial,
      '-days',
      '2',
      '-out',
      `${name}.pem`,
      '-extfile',
      'openssl.cnf',
      '-extensions',
      extensions,
    );
  };
  signed('intermediate', 'root', 'intermediate', '2', 'Switchboard test intermediate');
  const intermediate = readFileSync(join(dir, 'intermediate.pem'), 'utf8');
  const leaf = (name: string, serial: string): Leaf => {
    signed(name, 'intermediate', 'leaf', serial, `localhost ${name}`);
    const pem = readFileSync(join(dir, `${name}.pem`), 'utf8');
    writeFileSync(join(dir, `${name}-chain.pem`), pem + intermediate);
    return {
      certFile: join(dir, `${name}.pem`),
      chainFile: join(dir, `${name}-chain.pem`),
      keyFile: join(dir, `${name}.key`),
      fingerprint256: new X509Certificate(pem).fingerprint256,
    };
  };
  return {
    dir,
    ca: readFileSync(join(dir, 'root.pem'), 'utf8'),
    intermediateFile: join(dir, 'intermediate.pem'),
    a: leaf('leaf-a', '3'),
    b: leaf('leaf-b', '4'),
  };
}

/** The files a server is configured with, which a test rewrites to renew the certificate. */
function liveFiles(pki: Pki, name: string, leaf: Leaf): TlsOptions {
  const files = { certFile: join(pki.dir, `${name}.crt`), keyFile: join(pki.dir, `${name}.key`) };
  install(files, leaf);
  return files;
}

/** Put `leaf` (with its chain) in place of the live files, the way certbot's deploy step would. */
function install(files: TlsOptions, leaf: Leaf): void {
  writeFileSync(files.certFile, readFileSync(leaf.chainFile));
  writeFileSync(files.keyFile, readFileSync(leaf.keyFile));
}

// ------------------------------------------------------------------ clients

/** Reject with `what` if `promise` takes longer than `ms`. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The fingerprint of the certificate a fresh TLS handshake with the server presents. */
function presentedFingerprint(port: number, ca: string): Promise<string> {
  const handshake = new Promise<string>((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca }, () => {
      const fingerprint = socket.getPeerCertificate().fingerprint256;
      socket.destroy();
      resolve(fingerprint);
    });
    socket.once('error', reject);
  });
  return within(handshake, 5000, 'a TLS handshake');
}

/** A wss client on `/ws` that trusts `ca`, with the fingerprint of the certificate its handshake saw. */
async function connectWss(port: number, ca: string): Promise<{ client: TestClient; fingerprint256: string }> {
  const ws = new WebSocket(`wss://127.0.0.1:${port}/ws`, { ca });
  let fingerprint256 = '';
  ws.once('upgrade', (response) => {
    fingerprint256 = (response.socket as TLSSocket).getPeerCertificate().fingerprint256;
  });
  const client = new TestClient(ws);
  await within(
    new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    }),
    5000,
    'the wss connection',
  );
  await client.nextOfType('connected');
  return { client, fingerprint256 };
}

/** Subscribe, publish, and see the message come back over the same connection. */
async function roundTrip(client: TestClient, channel: string, text: string): Promise<void> {
  await client.request({ id: 1, type: 'subscribe', channel });
  const message = client.next((m) => m['type'] === 'message' && m['channel'] === channel);
  const reply = await client.request<{ result: { id: number } }>({
    id: 2,
    type: 'publish',
    channel,
    data: { text },
  });
  assert.deepEqual((await message)['data'], { text });
  assert.equal((await message)['id'], reply.result.id);
}

/** GET over https, trusting `ca`. */
function httpsGet(url: string, ca: string): Promise<{ status: number; body: string }> {
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = httpsRequest(url, { ca, agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.once('error', reject);
    req.end();
  });
  return within(response, 5000, `GET ${url}`);
}

// ------------------------------------------------------------------ the library

describe('TLS', { skip: needOpenssl.skip }, () => {
  let pki: Pki;
  const servers: SwitchboardServer[] = [];

  before(() => {
    needOpenssl.assert();
    pki = makePki();
  });
  after(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    // Unset when `before` failed (openssl required but missing).
    if (pki !== undefined) rmSync(pki.dir, { recursive: true, force: true });
  });

  async function start(tls: TlsOptions): Promise<SwitchboardServer> {
    const server = createServer({ host: '127.0.0.1', port: 0, tls });
    servers.push(server);
    await server.start();
    return server;
  }

  test('https and wss end to end; caFile supplies the intermediate the client needs', async () => {
    // The leaf alone in certFile: the handshake verifies against the root only if caFile's
    // intermediate is sent with it.
    const server = await start({
      certFile: pki.a.certFile,
      keyFile: pki.a.keyFile,
      caFile: pki.intermediateFile,
    });
    assert.equal(server.url, `https://127.0.0.1:${server.port}`);

    const health = await httpsGet(`${server.url}/health`, pki.ca);
    assert.equal(health.status, 200);
    assert.equal((JSON.parse(health.body) as { status?: unknown }).status, 'ok');

    const { client, fingerprint256 } = await connectWss(server.port, pki.ca);
    assert.equal(fingerprint256, pki.a.fingerprint256);
    await roundTrip(client, 'tls:e2e', 'over wss');
    client.close();
  });

  test('reloadTls: new handshakes get the new certificate, an open connection stays open', async () => {
    const files = liveFiles(pki, 'reload', pki.a);
    const server = await start(files);
    const old = await connectWss(server.port, pki.ca);
    assert.equal(old.fingerprint256, pki.a.fingerprint256);

    install(files, pki.b);
    // Until the reload, the server still presents what it loaded: the files are read only on demand.
    assert.equal(await presentedFingerprint(server.port, pki.ca), pki.a.fingerprint256);
    await server.reloadTls();

    assert.equal(await presentedFingerprint(server.port, pki.ca), pki.b.fingerprint256);
    const fresh = await connectWss(server.port, pki.ca);
    assert.equal(fresh.fingerprint256, pki.b.fingerprint256);
    assert.equal(old.client.ws.readyState, WebSocket.OPEN);
    await roundTrip(old.client, 'tls:old', 'still here');
    await roundTrip(fresh.client, 'tls:new', 'new certificate');
    old.client.close();
    fresh.client.close();
  });

  test('a bad reload rejects with TlsLoadError and keeps serving the previous certificate', async () => {
    const files = liveFiles(pki, 'bad', pki.a);
    const server = await start(files);
    const open = await connectWss(server.port, pki.ca);
    const encrypted = join(pki.dir, 'encrypted.key');
    execFileSync(
      'openssl',
      ['pkey', '-in', pki.b.keyFile, '-aes256', '-passout', 'pass:x', '-out', encrypted],
      {
        stdio: 'pipe',
      },
    );

    const attempts: [string, () => void, RegExp][] = [
      ['not PEM', () => writeFileSync(files.certFile, 'not a certificate\n'), /holds no PEM certificate/],
      [
        'a key of another certificate',
        () => {
          writeFileSync(files.certFile, readFileSync(pki.b.chainFile));
          writeFileSync(files.keyFile, readFileSync(pki.a.keyFile));
        },
        /does not match the certificate/,
      ],
      ['an encrypted key', () => writeFileSync(files.keyFile, readFileSync(encrypted)), /is encrypted/],
      ['a missing key', () => rmSync(files.keyFile), /cannot read TLS key file .*ENOENT/],
    ];
    for (const [what, breakFiles, message] of attempts) {
      breakFiles();
      await assert.rejects(server.reloadTls(), (error: unknown) => {
        assert.ok(error instanceof TlsLoadError, `${what}: ${String(error)}`);
        assert.equal(error.code, 'tls_load_failed');
        assert.match(error.message, message, what);
        return true;
      });
      assert.equal(await presentedFingerprint(server.port, pki.ca), pki.a.fingerprint256, what);
    }
    assert.equal(open.client.ws.readyState, WebSocket.OPEN);

    // Once the files are good again, the next reload takes them.
    install(files, pki.b);
    await server.reloadTls();
    assert.equal(await presentedFingerprint(server.port, pki.ca), pki.b.fingerprint256);
    await roundTrip(open.client, 'tls:bad', 'unaffected');
    open.client.close();
  });

  test('start() rejects with TlsLoadError and listens nowhere when a file cannot be loaded', async () => {
    const missing = createServer({
      host: '127.0.0.1',
      port: 0,
      tls: { certFile: join(pki.dir, 'nope.pem'), keyFile: pki.a.keyFile },
    });
    await assert.rejects(missing.start(), (error: unknown) => {
      assert.ok(error instanceof TlsLoadError, String(error));
      assert.match(error.message, /nope\.pem.*ENOENT/);
      return true;
    });
    assert.equal(missing.state, 'stopped');
    assert.equal(missing.httpServer.listening, false);

    const junkCa = join(pki.dir, 'junk-ca.pem');
    writeFileSync(junkCa, 'junk\n');
    const badCa = createServer({
      host: '127.0.0.1',
      port: 0,
      tls: { certFile: pki.a.certFile, keyFile: pki.a.keyFile, caFile: junkCa },
    });
    await assert.rejects(badCa.start(), /TLS CA file .*junk-ca\.pem holds no PEM certificate/);
  });

  test('bad tls options are refused by createServer; reloadTls without tls rejects', async () => {
    assert.throws(
      () =>
        createServer({
          server: createHttpServer(),
          tls: { certFile: pki.a.certFile, keyFile: pki.a.keyFile },
        }),
      (error: unknown) => error instanceof InvalidOptionError && error.option === 'tls',
    );
    assert.throws(
      () => createServer({ tls: { certFile: '', keyFile: pki.a.keyFile } }),
      (error: unknown) => error instanceof InvalidOptionError && error.option === 'tls.certFile',
    );
    await assert.rejects(createServer().reloadTls(), TlsLoadError);
  });
});

// ------------------------------------------------------------------ the CLI

describe('TLS options of the CLI', () => {
  const run = (argv: string[], env: Record<string, string>): CliCommand =>
    parseCommandLine(argv, env, () => assert.fail('the parser must not read the TLS files'));

  test('both files from variables or flags become the tls option', () => {
    const fromEnv = run([], { SWITCHBOARD_TLS_CERT_FILE: '/c.pem', SWITCHBOARD_TLS_KEY_FILE: '/k.pem' });
    assert.ok(fromEnv.kind === 'run');
    assert.deepEqual(fromEnv.config.server.tls, { certFile: '/c.pem', keyFile: '/k.pem' });
    const fromFlags = run(['--tls-cert-file', '/c2.pem', '--tls-key-file=/k2.pem'], {
      SWITCHBOARD_TLS_CERT_FILE: '/c.pem',
    });
    assert.ok(fromFlags.kind === 'run');
    assert.deepEqual(fromFlags.config.server.tls, { certFile: '/c2.pem', keyFile: '/k2.pem' });
    const none = run([], {});
    assert.ok(none.kind === 'run');
    assert.equal(none.config.server.tls, undefined);
  });

  test('one file without the other names both', () => {
    assert.throws(
      () => run([], { SWITCHBOARD_TLS_CERT_FILE: '/c.pem' }),
      (error: unknown) =>
        error instanceof InvalidOptionError &&
        error.message ===
          'invalid value "/c.pem" for SWITCHBOARD_TLS_CERT_FILE: expected a certificate file together with its key (SWITCHBOARD_TLS_KEY_FILE or --tls-key-file is not set)',
    );
    assert.throws(
      () => run(['--tls-key-file', '/k.pem'], {}),
      (error: unknown) =>
        error instanceof InvalidOptionError &&
        error.option === '--tls-key-file' &&
        error.message.includes('SWITCHBOARD_TLS_CERT_FILE or --tls-cert-file is not set'),
    );
  });
});

/** The environment of a child: ours without any Switchboard setting, plus `extra`. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (name !== 'PORT' && name !== 'HOST' && !name.startsWith('SWITCHBOARD_')) env[name] = value;
  }
  return { ...env, PORT: '0', HOST: '127.0.0.1', ...extra };
}

/** A spawned CLI whose JSON log lines can be awaited (each wait bounded) and whose exit is a promise. */
class CliProcess {
  readonly child: ChildProcess;
  readonly records: Record<string, unknown>[] = [];
  stderr = '';
  readonly exited: Promise<number | null>;
  private readonly waiters = new Set<() => void>();

  constructor(env: Record<string, string>) {
    this.child = spawn(process.execPath, [CLI], { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve) => this.child.once('close', (code) => resolve(code)));
    this.child.stderr?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    if (this.child.stdout !== null) {
      createInterface({ input: this.child.stdout }).on('line', (line) => {
        try {
          this.records.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          return;
        }
        for (const wake of [...this.waiters]) wake();
      });
    }
  }

  /** The `n`th log record (1-based, past or future) matching `match`. */
  record(
    match: (r: Record<string, unknown>) => boolean,
    what: string,
    n = 1,
  ): Promise<Record<string, unknown>> {
    const found = new Promise<Record<string, unknown>>((resolve) => {
      const check = (): void => {
        const hit = this.records.filter(match)[n - 1];
        if (hit === undefined) return;
        this.waiters.delete(check);
        resolve(hit);
      };
      this.waiters.add(check);
      check();
    });
    const ended = this.exited.then((code) => {
      throw new Error(`CLI exited (${code}) before ${what}; stderr: ${this.stderr}`);
    });
    return within(Promise.race([found, ended]), 10_000, what);
  }
}

const message =
  (msg: string) =>
  (r: Record<string, unknown>): boolean =>
    r['msg'] === msg;

describe('TLS in the switchboard executable', { skip: needOpenssl.skip, concurrency: true }, () => {
  let pki: Pki;
  const children: CliProcess[] = [];

  before(() => {
    needOpenssl.assert();
    pki = makePki();
  });
  after(() => {
    for (const cli of children) cli.child.kill('SIGKILL');
    if (pki !== undefined) rmSync(pki.dir, { recursive: true, force: true });
  });

  function spawnCli(env: Record<string, string>): CliProcess {
    assert.ok(existsSync(CLI), `${CLI} is missing: run npx tsc -b packages/protocol packages/server`);
    const cli = new CliProcess(env);
    children.push(cli);
    return cli;
  }

  test('serves https, and SIGHUP reloads the certificate or logs why it could not', async () => {
    const files = liveFiles(pki, 'cli', pki.a);
    const cli = spawnCli({
      SWITCHBOARD_TLS_CERT_FILE: files.certFile,
      SWITCHBOARD_TLS_KEY_FILE: files.keyFile,
    });
    const loaded = await cli.record(message('TLS certificate loaded'), 'the certificate line');
    assert.equal(loaded['fingerprint256'], pki.a.fingerprint256);
    const url = String((await cli.record(message('switchboard listening'), 'the listening line'))['url']);
    const port = Number(/^https:\/\/127\.0\.0\.1:(\d+)$/.exec(url)?.[1]);
    assert.ok(port > 0, `not an https URL: ${url}`);
    assert.equal((await httpsGet(`${url}/health`, pki.ca)).status, 200);
    const open = await connectWss(port, pki.ca);

    install(files, pki.b);
    cli.child.kill('SIGHUP');
    const reloaded = await cli.record(message('TLS certificate loaded'), 'the reload line', 2);
    assert.equal(reloaded['fingerprint256'], pki.b.fingerprint256);
    assert.equal(await presentedFingerprint(port, pki.ca), pki.b.fingerprint256);

    writeFileSync(files.certFile, 'truncated by a botched deploy\n');
    cli.child.kill('SIGHUP');
    const failed = await cli.record(
      message('TLS reload failed: still serving the previous certificate'),
      'the failed reload line',
    );
    assert.equal(failed['level'], 50);
    assert.equal(await presentedFingerprint(port, pki.ca), pki.b.fingerprint256);
    await roundTrip(open.client, 'cli:tls', 'still open');

    cli.child.kill('SIGTERM');
    // The CLI drains on SIGTERM: 1012 with a retry hint (docs/operations.md#draining).
    assert.equal((await within(open.client.closed, 10_000, 'the wss close')).code, 1012);
    assert.equal(await within(cli.exited, 10_000, 'the exit'), 0);
    assert.equal(cli.stderr, '');
  });

  test('SIGHUP without TLS is logged and does not stop the server', async () => {
    const cli = spawnCli({});
    const url = String((await cli.record(message('switchboard listening'), 'the listening line'))['url']);
    assert.match(url, /^http:\/\//);
    cli.child.kill('SIGHUP');
    await cli.record(message('nothing to reload: TLS is not configured'), 'the SIGHUP line');
    assert.equal((await within(fetch(`${url}/health`), 5000, 'GET /health')).status, 200);
    cli.child.kill('SIGTERM');
    assert.equal(await within(cli.exited, 10_000, 'the exit'), 0);
  });

  test('a certificate that cannot be loaded at start-up exits 2 with one line naming the file', async () => {
    const cli = spawnCli({
      SWITCHBOARD_TLS_CERT_FILE: join(pki.dir, 'absent.pem'),
      SWITCHBOARD_TLS_KEY_FILE: pki.a.keyFile,
    });
    assert.equal(await within(cli.exited, 10_000, 'the exit'), 2);
    assert.match(
      cli.stderr,
      /^switchboard: failed to start: cannot read TLS certificate file .*absent\.pem: ENOENT[^\n]*\n$/,
    );
    assert.deepEqual(cli.records, []);
  });
});
