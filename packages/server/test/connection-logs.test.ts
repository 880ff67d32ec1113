// What the server logs about connections, read from the JSON lines a pino logger writes: each connection's
// open and close, each refused handshake (sampled under floods), every failing application hook (in
// library mode too, on the default logger), and never a credential.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { connect, connectV1, queryUserAuthenticator, startServer, upgradeStatus } from './helpers.js';
import type { TestServer } from './helpers.js';
import { manualClock } from './limits-helpers.js';
import { startNode } from './node-process.js';
import { createPinoLogger } from '../src/util/pino-logger.js';

type Line = Record<string, unknown>;

/** A pino logger (the one the CLI uses) whose JSON lines a test can read and wait for. */
function capturedLogger(level = 'debug'): {
  logger: ReturnType<typeof createPinoLogger>;
  lines: Line[];
  waitFor(match: (line: Line) => boolean, what: string): Promise<Line>;
} {
  const lines: Line[] = [];
  const waiters: { match: (line: Line) => boolean; resolve: (line: Line) => void }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const text of chunk.toString().split('\n')) {
        if (text === '') continue;
        const line = JSON.parse(text) as Line;
        lines.push(line);
        for (let i = waiters.length - 1; i >= 0; i--) {
          const waiter = waiters[i];
          if (waiter !== undefined && waiter.match(line)) {
            waiters.splice(i, 1);
            waiter.resolve(line);
          }
        }
      }
      callback();
    },
  });
  return {
    logger: createPinoLogger(level, stream),
    lines,
    waitFor(match, what) {
      const found = lines.find(match);
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no log line: ${what}`)), 5000);
        waiters.push({
          match,
          resolve: (line) => {
            clearTimeout(timer);
            resolve(line);
          },
        });
      });
    },
  };
}

const DEBUG = 20;
const INFO = 30;
const ERROR = 50;

describe('connection lifecycle lines', () => {
  let t: TestServer;
  const log = capturedLogger();
  before(async () => {
    t = await startServer({
      logger: log.logger,
      authenticator: queryUserAuthenticator,
      heartbeatIntervalMs: 40,
      heartbeatTimeoutMs: 120,
    });
  });
  after(() => t.stop());

  const closedLine = (id: string): Promise<Line> =>
    log.waitFor((l) => l['msg'] === 'connection closed' && l['connectionId'] === id, `close of ${id}`);

  test('a v1 connection logs its open and the client close at debug, with who, where and how long', async () => {
    const { client, connected } = await connectV1(t, {}, '?user=alice');
    const id = connected['connectionId'] as string;
    const opened = await log.waitFor(
      (l) => l['msg'] === 'connection opened' && l['connectionId'] === id,
      'connection opened',
    );
    assert.equal(opened['level'], DEBUG);
    assert.equal(opened['sessionId'], connected['sessionId']);
    assert.equal(opened['userId'], 'alice');
    assert.equal(opened['remoteAddress'], '127.0.0.1');
    assert.equal(opened['transport'], 'websocket');
    assert.equal(opened['endpoint'], '/ws');

    client.ws.close(1000, 'bye');
    const closed = await closedLine(id);
    assert.equal(closed['level'], DEBUG);
    assert.equal(closed['by'], 'client');
    assert.equal(closed['code'], 1000);
    assert.equal(closed['reason'], 'bye');
    assert.equal(closed['userId'], 'alice');
    assert.equal(closed['sessionId'], connected['sessionId']);
    assert.equal(closed['transport'], 'websocket');
    assert.equal(typeof closed['durationMs'], 'number');
    assert.ok((closed['durationMs'] as number) >= 0);
  });

  test('a heartbeat eviction is logged at info, by the server, under 4000', async () => {
    const { client, connected } = await connectV1(t, { autoPong: false }, '?user=ghost');
    assert.equal((await client.closed).code, 4000);
    const closed = await closedLine(connected['connectionId'] as string);
    assert.equal(closed['level'], INFO);
    assert.equal(closed['by'], 'server');
    assert.equal(closed['code'], 4000);
    assert.equal(closed['reason'], 'heartbeat timeout');
    assert.equal(closed['userId'], 'ghost');
  });

  test('a room connection names its endpoint and room; a kick is a routine close at debug', async () => {
    const client = await connect(`${t.wsUrl}/ws/general?user=bob`);
    const opened = await log.waitFor(
      (l) => l['msg'] === 'connection opened' && l['userId'] === 'bob',
      'room connection opened',
    );
    assert.equal(opened['endpoint'], '/ws/:room');
    assert.equal(opened['room'], 'general');
    const id = opened['connectionId'] as string;
    await t.server.disconnectConnection(id);
    assert.equal((await client.closed).code, 4502);
    const closed = await closedLine(id);
    assert.equal(closed['level'], DEBUG);
    assert.equal(closed['by'], 'server');
    assert.equal(closed['code'], 4502);
    assert.equal(closed['room'], 'general');
  });

  test('a refused handshake is logged at info with status, code, reason, address and path, never the query', async () => {
    const long = 'x'.repeat(65);
    const refused = await upgradeStatus(`${t.wsUrl}/ws?session=${long}&token=SECRET-TOKEN-1`);
    assert.equal(refused.status, 400);
    const line = await log.waitFor(
      (l) => l['msg'] === 'handshake refused' && l['code'] === 'bad_request',
      'refusal',
    );
    assert.equal(line['level'], INFO);
    assert.equal(line['status'], 400);
    assert.match(String(line['reason']), /session must be at most 64/);
    assert.equal(line['remoteAddress'], '127.0.0.1');
    assert.equal(line['path'], '/ws');
    assert.doesNotMatch(JSON.stringify(log.lines), /SECRET-TOKEN-1/);

    assert.equal((await upgradeStatus(`${t.wsUrl}/nowhere`)).status, 404);
    const notFound = await log.waitFor(
      (l) => l['msg'] === 'handshake refused' && l['status'] === 404,
      '404 refusal',
    );
    assert.equal(notFound['code'], 'not_found');
  });
});

test('a refusal flood writes at most 10 lines per reason at once, then 1 a second with a suppressed count', async () => {
  const log = capturedLogger('info');
  const clock = manualClock();
  const t = await startServer({ logger: log.logger, clock });
  try {
    const refusals = (): Line[] =>
      log.lines.filter((l) => l['msg'] === 'handshake refused' && l['code'] === 'bad_request');
    const long = 'x'.repeat(65);
    for (let i = 0; i < 25; i++)
      assert.equal((await upgradeStatus(`${t.wsUrl}/ws?session=${long}`)).status, 400);
    // Another reason has a budget of its own.
    assert.equal((await upgradeStatus(`${t.wsUrl}/nowhere`)).status, 404);
    assert.equal(refusals().length, 10);
    assert.ok(refusals().every((l) => l['suppressed'] === undefined));
    assert.equal(log.lines.filter((l) => l['code'] === 'not_found').length, 1);
    clock.advance(1000);
    assert.equal((await upgradeStatus(`${t.wsUrl}/ws?session=${long}`)).status, 400);
    assert.equal(refusals().length, 11);
    assert.equal(refusals().at(-1)?.['suppressed'], 15);
  } finally {
    await t.stop();
  }
});

test('every application hook that throws is logged at error with the hook and the connection', async () => {
  const log = capturedLogger('info');
  const t = await startServer({
    logger: log.logger,
    onConnect: () => {
      throw new Error('onConnect broke');
    },
    onMessage: () => {
      throw new Error('onMessage broke');
    },
    onDisconnect: () => Promise.reject(new Error('onDisconnect broke')),
    authorize: ({ channel }) => {
      if (channel === 'boom') throw new Error('authorize broke');
      return true;
    },
  });
  try {
    const { client, connected } = await connectV1(t);
    const id = connected['connectionId'] as string;
    const sent = await client.request({ id: 1, type: 'send', data: { hello: 1 } });
    assert.equal((sent['error'] as Record<string, unknown>)['code'], 'application_error');
    const subscribed = await client.request({ id: 2, type: 'subscribe', channel: 'boom' });
    assert.equal((subscribed['error'] as Record<string, unknown>)['code'], 'internal');
    client.close();
    for (const hook of ['onConnect', 'onMessage', 'authorize', 'onDisconnect']) {
      const line = await log.waitFor((l) => l['msg'] === 'hook failed' && l['hook'] === hook, hook);
      assert.equal(line['level'], ERROR);
      assert.equal(line['connectionId'], id);
      assert.equal((line['err'] as Record<string, unknown>)['message'], `${hook} broke`);
    }
  } finally {
    await t.stop();
  }
});

test('in library mode without a logger, a failing hook is logged on stderr', async () => {
  const fixture = fileURLToPath(new URL('./fixtures/hook-failure.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', fixture], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 0, `fixture failed:\n${stdout}\n${stderr}`);
  const connectionId = stdout.trim();
  const line = stderr
    .split('\n')
    .filter((text) => text.startsWith('{'))
    .map((text) => JSON.parse(text) as Line)
    .find((l) => l['msg'] === 'hook failed');
  assert.ok(line !== undefined, `no hook failure on stderr:\n${stderr}`);
  assert.equal(line['level'], ERROR);
  assert.equal(line['hook'], 'onMessage');
  assert.equal(line['connectionId'], connectionId);
  // Warnings and errors only: no connection lines at debug.
  assert.doesNotMatch(stderr, /connection opened/);
});

test('credentials are redacted from whatever is logged', () => {
  const log = capturedLogger('info');
  log.logger.info(
    {
      token: 'secret-token',
      ticket: 'secret-ticket',
      headers: {
        authorization: 'Bearer secret-bearer',
        cookie: 'sid=secret-cookie',
        'x-api-key': 'secret-key-header',
        'sec-websocket-protocol': 'switchboard.v1, switchboard.bearer.secret-subprotocol',
        host: 'example.test',
      },
      req: { headers: { authorization: 'Bearer secret-req', 'x-api-key': 'secret-req-key' } },
      options: { apiKey: 'secret-api-key', auth: { secret: 'secret-jwt' }, port: 8080 },
      user: { password: 'secret-password' },
    },
    'an object with credentials',
  );
  const text = JSON.stringify(log.lines);
  assert.doesNotMatch(text, /secret-/);
  const line = log.lines[0] as Line;
  assert.equal((line['headers'] as Line)['host'], 'example.test');
  assert.equal((line['headers'] as Line)['authorization'], '[Redacted]');
  assert.equal((line['options'] as Line)['port'], 8080);
});

test('the CLI at --log-level debug logs connection opens and closes on stdout', async () => {
  const node = await startNode({ args: ['--log-level', 'debug'] });
  try {
    const client = await connect(`${node.wsUrl}/ws`);
    const connected = await client.nextOfType('connected');
    const id = connected['connectionId'] as string;
    const opened = await node.waitForLog((l) => l['msg'] === 'connection opened' && l['connectionId'] === id);
    assert.equal(opened['endpoint'], '/ws');
    client.ws.close(1000);
    const closed = await node.waitForLog((l) => l['msg'] === 'connection closed' && l['connectionId'] === id);
    assert.equal(closed['by'], 'client');
    assert.equal(closed['code'], 1000);
  } finally {
    await node.stop();
  }
});
