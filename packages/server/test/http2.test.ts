// SSE over HTTP/2 (issue 14): with `http2: true` and `tls`, one TLS connection carries twenty SSE streams,
// the HTTP API answers over h2, and WebSocket still connects on the same port over HTTP/1.1 (ALPN).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect as http2Connect } from 'node:http2';
import type { ClientHttp2Session, ClientHttp2Stream, OutgoingHttpHeaders } from 'node:http2';
import type { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import { InvalidOptionError, createServer } from '../src/index.js';
import type { ServerOptions } from '../src/index.js';
import { parseCommandLine } from '../src/cli/parse-options.js';
import { connectV1, startServer, until, waitMembers } from './helpers.js';
import type { TestServer } from './helpers.js';
import { opensslPath, requirement } from './requirements.js';
import { selfSigned } from './self-signed.js';
import type { SelfSigned } from './self-signed.js';

const needOpenssl = requirement('openssl', opensslPath() !== undefined);

/** One h2 response read as text, with a wait for what it should come to hold. */
class H2Response {
  raw = '';
  status = 0;
  headers: Record<string, unknown> = {};
  readonly closed: Promise<void>;
  private wake: (() => void) | null = null;

  constructor(readonly stream: ClientHttp2Stream) {
    stream.setEncoding('utf8');
    stream.on('response', (headers) => {
      this.headers = headers;
      this.status = Number(headers[':status']);
      this.wake?.();
    });
    stream.on('data', (chunk: string) => {
      this.raw += chunk;
      this.wake?.();
    });
    this.closed = new Promise((resolve) => stream.once('close', () => resolve()));
    stream.on('error', () => {});
  }

  /** Resolves once `predicate` holds; fails after `timeoutMs`. */
  async until(predicate: (r: H2Response) => boolean, timeoutMs = 3000, what = 'the response'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; got ${this.status} ${this.raw}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }
}

function request(session: ClientHttp2Session, headers: OutgoingHttpHeaders, body?: string): H2Response {
  const stream = session.request(headers, { endStream: body === undefined });
  const response = new H2Response(stream);
  if (body !== undefined) stream.end(body);
  return response;
}

/** Start an h2 server; `secureConnections` counts the TLS connections it accepted. */
async function startH2(
  cert: SelfSigned,
  options: ServerOptions = {},
): Promise<{ t: TestServer; origin: string; secureConnections: () => number }> {
  const t = await startServer({
    tls: { certFile: cert.certFile, keyFile: cert.keyFile },
    http2: true,
    ...options,
  });
  let count = 0;
  (t.server.httpServer as unknown as EventEmitter).on('secureConnection', () => count++);
  const origin = `https://127.0.0.1:${t.server.port}`;
  return { t: { ...t, wsUrl: `wss://127.0.0.1:${t.server.port}` }, origin, secureConnections: () => count };
}

describe('SSE over HTTP/2', { skip: needOpenssl.skip }, () => {
  let cert: SelfSigned;
  before(() => {
    needOpenssl.assert();
    cert = selfSigned();
  });
  after(() => cert?.remove());

  test('twenty SSE streams on one h2 session all get a publication; the server saw one TLS connection', async () => {
    const { t, origin, secureConnections } = await startH2(cert);
    const session = http2Connect(origin, { ca: cert.pem });
    try {
      const streams = Array.from({ length: 20 }, () =>
        request(session, { ':method': 'GET', ':path': '/sse/news' }),
      );
      for (const s of streams) await s.until((r) => r.status !== 0, 3000, 'the head');
      for (const s of streams) {
        assert.equal(s.status, 200);
        assert.match(String(s.headers['content-type']), /^text\/event-stream/);
        assert.equal(s.headers['x-accel-buffering'], 'no');
      }
      await waitMembers(t, 'news', 20);
      assert.equal(t.server.stats().connections, 20);
      await t.server.publish('news', { headline: 'h2' });
      for (const s of streams)
        await s.until(
          (r) => r.raw.includes('event: message\ndata: {"headline":"h2"}\n\n'),
          3000,
          'the message',
        );
      assert.equal(session.alpnProtocol, 'h2');
      assert.equal(secureConnections(), 1, 'every stream on one TLS connection');
      // A tab closes: its stream alone ends, and the server lets its connection go.
      const [gone, ...rest] = streams;
      gone?.stream.close();
      await until(() => t.server.stats().connections === 19, 3000, 'the closed stream to be let go');
      await t.server.publish('news', { headline: 'again' });
      for (const s of rest)
        await s.until((r) => r.raw.includes('data: {"headline":"again"}'), 3000, 'the second message');
    } finally {
      session.destroy();
      await t.stop();
    }
  });

  test('the HTTP API answers over h2; a WebSocket and a client without h2 get HTTP/1.1 on the same port', async () => {
    const { t, origin, secureConnections } = await startH2(cert, { apiInsecure: true });
    const session = http2Connect(origin, { ca: cert.pem });
    try {
      assert.match(t.server.url, /^https:/);
      await t.server.reloadTls(); // the certificate reload works on the h2 server
      const { client } = await connectV1(t, { ca: cert.pem });
      client.send({ type: 'subscribe', id: 1, channel: 'mixed' });
      await client.next();
      // A client without h2 (no ALPN) gets its SSE stream over HTTP/1.1 on the same port.
      const http1 = await new Promise<IncomingMessage>((resolve, reject) => {
        httpsGet(`${origin}/sse/mixed`, { ca: cert.pem }, resolve).on('error', reject);
      });
      assert.equal(http1.statusCode, 200);
      assert.equal(http1.httpVersion, '1.1');
      let http1Raw = '';
      http1.setEncoding('utf8');
      const http1Got = new Promise<void>((resolve) => {
        http1.on('data', (chunk: string) => {
          http1Raw += chunk;
          if (http1Raw.includes('data: {"via":"h2"}')) resolve();
        });
      });
      await waitMembers(t, 'mixed', 2);
      const health = request(session, { ':method': 'GET', ':path': '/health' });
      await health.closed;
      assert.equal(health.status, 200, health.raw);
      const published = request(
        session,
        { ':method': 'POST', ':path': '/api/publish', 'content-type': 'application/json' },
        JSON.stringify({ channel: 'mixed', data: { via: 'h2' } }),
      );
      await published.closed;
      assert.equal(published.status, 200, published.raw);
      assert.deepEqual(JSON.parse(published.raw), { id: 1 });
      const message = (await client.nextOfType('message')) as { data: unknown };
      assert.deepEqual(message.data, { via: 'h2' });
      await http1Got;
      http1.destroy();
      assert.equal(secureConnections(), 3, 'one h2 connection, a WebSocket and an SSE stream on HTTP/1.1');
      // A plain GET of the WebSocket path over h2 gets its 426 without the HTTP/1.1-only Upgrade header.
      const plain = request(session, { ':method': 'GET', ':path': '/ws' });
      await plain.closed;
      assert.equal(plain.status, 426, plain.raw);
      assert.equal(plain.headers['upgrade'], undefined);
      client.close();
    } finally {
      session.destroy();
      await t.stop();
    }
  });

  test('HTTP deadlines and the silent-socket watch never cut an h2 SSE stream', async () => {
    const short = {
      headersTimeoutMs: 100,
      requestTimeoutMs: 100,
      keepAliveTimeoutMs: 100,
      silentSocketTimeoutMs: 100,
    };
    const { t, origin } = await startH2(cert, short);
    const session = http2Connect(origin, { ca: cert.pem });
    try {
      const s = request(session, { ':method': 'GET', ':path': '/sse/slow' });
      await s.until((r) => r.status === 200, 3000, 'the head');
      // Time has to pass here: several times every deadline, with nothing sent by either side.
      await new Promise((resolve) => setTimeout(resolve, 600));
      await t.server.publish('slow', { still: 'open' });
      await s.until((r) => r.raw.includes('data: {"still":"open"}'), 3000, 'the message');
      assert.equal(session.closed, false);
    } finally {
      session.destroy();
      await t.stop();
    }
  });

  test('an h2 connection that never sends a request is dropped at silentSocketTimeoutMs; the server serves on', async () => {
    const { t, origin } = await startH2(cert, { silentSocketTimeoutMs: 100 });
    const idle = http2Connect(origin, { ca: cert.pem });
    idle.on('error', () => {});
    const dropped = new Promise<void>((resolve) => idle.once('close', () => resolve()));
    const other = http2Connect(origin, { ca: cert.pem });
    try {
      const s = request(other, { ':method': 'GET', ':path': '/sse/alive' });
      await s.until((r) => r.status === 200, 3000, 'the head');
      await dropped;
      const metrics = request(other, { ':method': 'GET', ':path': '/metrics' });
      await metrics.closed;
      assert.match(metrics.raw, /^switchboard_limits_rejected_total\{limit="silent_socket"\} 1$/m);
      await t.server.publish('alive', { ok: true });
      await s.until((r) => r.raw.includes('data: {"ok":true}'), 3000, 'the message');
    } finally {
      other.destroy();
      await t.stop();
    }
  });

  test('an h2 session with no open stream is closed after keepAliveTimeoutMs, as an idle HTTP/1.1 socket is', async () => {
    const { t, origin } = await startH2(cert, { keepAliveTimeoutMs: 200 });
    const session = http2Connect(origin, { ca: cert.pem });
    session.on('error', () => {});
    const closed = new Promise<void>((resolve) => session.once('close', () => resolve()));
    try {
      const health = request(session, { ':method': 'GET', ':path': '/health' });
      await health.closed;
      assert.equal(health.status, 200);
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('the idle session was never closed')), 3000);
      });
      await Promise.race([closed, deadline]).finally(() => clearTimeout(timer));
    } finally {
      session.destroy();
      await t.stop();
    }
  });

  test('stop() ends the streams and closes the h2 session (GOAWAY)', async () => {
    const { t, origin } = await startH2(cert);
    const session = http2Connect(origin, { ca: cert.pem });
    let goaway = false;
    session.on('goaway', () => (goaway = true));
    const sessionClosed = new Promise<void>((resolve) => session.once('close', () => resolve()));
    session.on('error', () => {});
    const s = request(session, { ':method': 'GET', ':path': '/sse/bye' });
    await s.until((r) => r.status === 200, 3000, 'the head');
    await waitMembers(t, 'bye', 1);
    const started = Date.now();
    await t.stop();
    await s.closed;
    await sessionClosed;
    assert.ok(Date.now() - started < 3000, 'stopped without waiting for the client');
    assert.ok(goaway, 'the session was told to go away');
    assert.equal(t.server.httpServer.listening, false);
  });
});

test('http2 needs tls, and the CLI sets it with --http2 or SWITCHBOARD_HTTP2', () => {
  assert.throws(() => createServer({ http2: true }), InvalidOptionError);
  const noFiles = (): string => assert.fail('the parser must not read the TLS files');
  const flags = parseCommandLine(
    ['--tls-cert-file', 'c.pem', '--tls-key-file', 'k.pem', '--http2'],
    {},
    noFiles,
  );
  assert.equal(flags.kind === 'run' && flags.config.server.http2, true);
  const env = parseCommandLine(
    [],
    {
      SWITCHBOARD_TLS_CERT_FILE: 'c.pem',
      SWITCHBOARD_TLS_KEY_FILE: 'k.pem',
      SWITCHBOARD_HTTP2: 'true',
    },
    noFiles,
  );
  assert.equal(env.kind === 'run' && env.config.server.http2, true);
  assert.throws(() => parseCommandLine(['--http2'], {}, noFiles), InvalidOptionError);
});
