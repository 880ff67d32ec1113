/**
 * The built SDK in a real Chromium, with the browser's own WebSocket, against a real server: proof that
 * the package runs in browsers (no `ws`, no `node:` modules) and not just under Node.
 *
 * The page loads packages/client/dist and packages/protocol/dist (and the protocol's one dependency,
 * @msgpack/msgpack, as published) as native ES modules through an import map, so the test needs `tsc -b`
 * (as the other tests do) but no bundler.
 * Needs Debian's Chromium (never downloads a browser); see the server's test/requirements.ts.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { startServer } from './helpers.js';
import type { TestServer } from './helpers.js';
import { chromiumPath, requirement } from '../../server/test/requirements.js';

const executablePath = chromiumPath();
const needChromium = requirement('chromium', executablePath !== undefined);

const DIST: Readonly<Record<string, URL>> = {
  client: new URL('../dist/', import.meta.url),
  protocol: new URL('../../protocol/dist/', import.meta.url),
  msgpack: new URL('../../../node_modules/@msgpack/msgpack/dist.esm/', import.meta.url),
};

/** The page: the import map, and a `run()` that drives the SDK and reports what it saw. */
const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>client in a browser</title>
<script type="importmap">
{ "imports": { "@switchboard/client": "/client/index.js", "@switchboard/protocol": "/protocol/index.js", "@msgpack/msgpack": "/msgpack/index.mjs" } }
</script>
<script type="module">
import { SwitchboardClient, ServerError } from '@switchboard/client';
window.run = async (url) => {
  const client = new SwitchboardClient(url);
  window.client = client;
  const states = [];
  client.on('state', (s) => states.push(s.from + '>' + s.to));
  const info = await client.connect();
  const ready = await client.subscribe('browser').ready();
  const subscribed = { channel: ready.channel, offset: ready.position.offset, epoch: ready.position.epoch };
  const received = new Promise((resolve) => client.once('message', resolve));
  const published = await client.publish('browser', { hello: 'from chromium' });
  const message = await received;
  const echoed = await client.send({ n: 1 });
  let failure = null;
  try {
    await client.history('not valid');
  } catch (error) {
    failure = { name: error.name, code: error.code, temporary: error.temporary, isServerError: error instanceof ServerError };
  }
  window.disconnected = new Promise((resolve) => client.once('disconnected', resolve));
  return { connectionId: info.connectionId, subscribed, published, message: { channel: message.channel, id: message.id, data: message.data }, echoed, failure, states };
};
window.online = async (url) => {
  // A retry delay of about a minute: only the browser's online event can make it come sooner.
  const client = new SwitchboardClient(url, { backoff: { minDelayMs: 60000, maxDelayMs: 60000, random: () => 0.99 } });
  const info = await client.connect();
  window.scheduled = new Promise((resolve) => client.once('reconnecting', resolve));
  window.reconnected = new Promise((resolve) => client.once('connected', resolve));
  return { connectionId: info.connectionId, sessionId: info.sessionId };
};
</script>`;

function serveFiles(): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    // A file name, or one folder deep (@msgpack/msgpack's utils/); never `..`.
    const match = /^\/(client|protocol|msgpack)\/((?:\w+\/)?[\w-]+(?:\.[\w-]+)*\.m?js)$/.exec(req.url ?? '');
    if (req.url === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
      return;
    }
    const dir = match?.[1] === undefined ? undefined : DIST[match[1]];
    if (match?.[2] === undefined || dir === undefined) {
      res.writeHead(404).end();
      return;
    }
    readFile(new URL(match[2], dir)).then(
      (body) => res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(body),
      () => res.writeHead(404).end(),
    );
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` });
    });
  });
}

describe('the SDK in Chromium', { skip: needChromium.skip, timeout: 30_000 }, () => {
  let t: TestServer;
  let files: { server: Server; url: string };
  let browser: Browser;
  let page: Page;

  before(async () => {
    needChromium.assert();
    t = await startServer({ onMessage: (_connection, data) => ({ echo: data }) });
    files = await serveFiles();
    browser = await chromium.launch({
      ...(executablePath === undefined ? {} : { executablePath }),
      args: ['--headless', '--no-sandbox', '--disable-gpu'],
    });
    page = await browser.newPage();
    page.setDefaultTimeout(5000);
    await page.goto(files.url);
    await page.waitForFunction('typeof window.run === "function"');
  });

  after(async () => {
    await browser?.close();
    files?.server.close();
    await t?.stop();
  });

  it('connects with the global WebSocket, subscribes, publishes, sends, and rejects with typed errors', async () => {
    const result = (await page.evaluate(`window.run(${JSON.stringify(t.url)})`)) as Record<string, unknown>;
    assertSubscribed(result['subscribed'], 'browser');
    assert.deepEqual(result['published'], { id: 1 });
    assert.deepEqual(result['message'], { channel: 'browser', id: 1, data: { hello: 'from chromium' } });
    assert.deepEqual(result['echoed'], { echo: { n: 1 } });
    assert.deepEqual(result['failure'], {
      name: 'ServerError',
      code: 'invalid_channel',
      temporary: false,
      isServerError: true,
    });
    assert.deepEqual(result['states'], ['disconnected>connecting', 'connecting>connected']);
    assert.equal(typeof result['connectionId'], 'string');
  });

  it('reports the close code of a kick with reconnect: false', async () => {
    const connectionId = (await page.evaluate('window.client.connection.connectionId')) as string;
    await t.server.disconnectConnection(connectionId);
    assert.deepEqual(await page.evaluate('window.disconnected'), {
      code: 4502,
      reason: 'disconnected by the server',
      reconnect: false,
    });
    assert.equal(await page.evaluate('window.client.state'), 'disconnected');
  });

  it('retries at once when the browser fires online during a backoff delay, resuming the session', async () => {
    const first = (await page.evaluate(`window.online(${JSON.stringify(t.url)})`)) as {
      connectionId: string;
      sessionId: string;
    };
    await t.server.disconnectConnection(first.connectionId, { code: 4002, reason: 'rebalance' });
    const scheduled = (await page.evaluate('window.scheduled')) as { attempt: number; delayMs: number };
    assert.equal(scheduled.attempt, 1);
    assert.ok(scheduled.delayMs > 50_000, `delay ${scheduled.delayMs}`);
    await page.evaluate(`window.dispatchEvent(new Event('online'))`);
    const info = (await page.evaluate('window.reconnected')) as { sessionId: string; resumed: boolean };
    assert.equal(info.sessionId, first.sessionId);
    assert.equal(info.resumed, true);
  });
});

/** A subscribe result for a fresh channel: offset 0 and the stream's epoch (random, so only its type is checked). */
function assertSubscribed(result: unknown, channel: string): void {
  const { epoch, ...rest } = result as { epoch?: unknown };
  assert.equal(typeof epoch, 'string');
  assert.deepEqual(rest, { channel, offset: 0 });
}
