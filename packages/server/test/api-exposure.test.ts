/**
 * An HTTP API without a key answers loopback clients only, unless the operator opens it with
 * `apiInsecure`; the client address is the one the trusted proxies resolve, and a request a local proxy
 * forwarded is not taken for a local one. Start-up says which it is.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { networkInterfaces } from 'node:os';
import { createServer } from '../src/index.js';
import type { ServerOptions } from '../src/index.js';
import { recordingLogger, startServer } from './helpers.js';

/** An IPv4 address of this machine that is not loopback, or undefined. */
function networkAddress(): string | undefined {
  for (const entries of Object.values(networkInterfaces())) {
    for (const entry of entries ?? []) if (entry.family === 'IPv4' && !entry.internal) return entry.address;
  }
  return undefined;
}

const EXTERNAL = networkAddress();
const NO_EXTERNAL = EXTERNAL === undefined ? 'this machine has no non-loopback IPv4 address' : false;

/** Start on `host` and return the base URL. */
async function serve(
  host: string,
  options: ServerOptions = {},
): Promise<{ base: string; stop(): Promise<void> }> {
  const server = createServer({ host, port: 0, ...options });
  await server.start();
  return { base: `http://${host}:${server.port}`, stop: () => server.stop() };
}

async function publish(base: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${base}/api/publish`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ channel: 'news', data: 1 }),
  });
}

test(
  'no apiKey: a client from the network gets 403 permission_denied on /api and /stats, with how to fix it; with a key it may use the API',
  { skip: NO_EXTERNAL },
  async () => {
    const server = await serve(EXTERNAL as string);
    try {
      const refused = await publish(server.base);
      assert.equal(refused.status, 403);
      const body = (await refused.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'permission_denied');
      assert.match(body.error.message, /SWITCHBOARD_API_KEY.*SWITCHBOARD_API_INSECURE/);
      assert.equal((await fetch(`${server.base}/stats`)).status, 403);
      // Health checks and metrics stay open: load balancers and Prometheus come from the network.
      assert.equal((await fetch(`${server.base}/health`)).status, 200);
      assert.equal((await fetch(`${server.base}/metrics`)).status, 200);
    } finally {
      await server.stop();
    }
    // With a key the network may use the API, with the key.
    const key = 'exposure-test-key-0123456789';
    const keyed = await serve(EXTERNAL as string, { apiKey: key });
    try {
      assert.equal((await publish(keyed.base, { authorization: `Bearer ${key}` })).status, 200);
      assert.equal((await publish(keyed.base)).status, 401);
    } finally {
      await keyed.stop();
    }
  },
);

test(
  'apiInsecure opens the unkeyed API to the network, with a warning at start-up',
  { skip: NO_EXTERNAL },
  async () => {
    const { logger, lines } = recordingLogger();
    const server = await serve(EXTERNAL as string, { apiInsecure: true, logger });
    try {
      assert.equal((await publish(server.base)).status, 200);
      assert.equal((await fetch(`${server.base}/stats`)).status, 200);
      const warning = lines.find((l) => l.msg.includes('open to the network without a key'));
      assert.equal(warning?.level, 'warn');
    } finally {
      await server.stop();
    }
  },
);

test('loopback clients may use the unkeyed API, and start-up says it is loopback-only', async () => {
  const { logger, lines } = recordingLogger();
  const t = await startServer({ logger });
  try {
    assert.equal((await publish(t.httpUrl)).status, 200);
    const note = lines.find((l) => l.msg.includes('answers loopback clients only'));
    assert.equal(note?.level, 'info');
  } finally {
    await t.stop();
  }
});

test('through a trusted proxy the forwarded client decides: a network client is refused, a local one is not', async () => {
  const t = await startServer({ trustedProxies: ['127.0.0.1'] });
  try {
    assert.equal((await publish(t.httpUrl, { 'x-forwarded-for': '203.0.113.7' })).status, 403);
    assert.equal((await publish(t.httpUrl, { 'x-forwarded-for': '127.0.0.1' })).status, 200);
  } finally {
    await t.stop();
  }
});

test('a request forwarded by a proxy nobody declared is not taken for a local one', async () => {
  const t = await startServer();
  try {
    for (const header of ['x-forwarded-for', 'forwarded', 'x-real-ip']) {
      const value = header === 'forwarded' ? 'for=203.0.113.7' : '203.0.113.7';
      assert.equal((await publish(t.httpUrl, { [header]: value })).status, 403, header);
    }
  } finally {
    await t.stop();
  }
});

test('apiInsecure together with apiKey is refused', () => {
  assert.throws(() => createServer({ apiKey: 'exposure-test-key-0123456789', apiInsecure: true }), {
    name: 'InvalidOptionError',
    message: /apiInsecure/,
  });
});
