// Library mode: Switchboard shares a port with an application's own HTTP server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { once } from 'node:events';
import WebSocket, { WebSocketServer } from 'ws';
import express from 'express';
import { createServer } from '../src/index.js';
import { connect, recordingLogger, upgradeStatus } from './helpers.js';

test('attaches to an existing http.Server: both apps answer on one port; stop() leaves the app running', async () => {
  const app = createHttpServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`app:${req.url}`);
  });
  // The application's own WebSocket endpoint keeps working next to Switchboard's.
  const appWss = new WebSocketServer({ noServer: true });
  app.on('upgrade', (req, socket, head) => {
    if (req.url === '/app-ws') appWss.handleUpgrade(req, socket, head, (ws) => ws.send('app socket'));
    else socket.destroy();
  });
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', () => r()));
  const port = (app.address() as AddressInfo).port;
  const switchboard = createServer({ server: app, basePath: '/rt' });
  await switchboard.start();
  try {
    assert.equal(await (await fetch(`http://127.0.0.1:${port}/hello`)).text(), 'app:/hello');
    assert.equal(
      ((await (await fetch(`http://127.0.0.1:${port}/rt/health`)).json()) as { status: string }).status,
      'ok',
    );
    const client = await connect(`ws://127.0.0.1:${port}/rt/ws/room`);
    client.send({ text: 'hi' });
    assert.equal((await client.next())['text'], 'hi');
    const appSocket = new WebSocket(`ws://127.0.0.1:${port}/app-ws`);
    const [greeting] = (await once(appSocket, 'message')) as [Buffer];
    assert.equal(greeting.toString(), 'app socket');
    appSocket.close();
    const stopping = switchboard.stop();
    assert.equal((await client.closed).code, 1001);
    await stopping;
    // the application's server is still up and owns its routes again
    assert.equal(await (await fetch(`http://127.0.0.1:${port}/rt/health`)).text(), 'app:/rt/health');
  } finally {
    await new Promise<void>((r) => app.close(() => r()));
  }
});

test('a standalone server answers unknown upgrade paths with 404', async () => {
  const switchboard = createServer({ host: '127.0.0.1', port: 0 });
  await switchboard.start();
  try {
    const { status } = await upgradeStatus(`ws://127.0.0.1:${switchboard.port}/nope`);
    assert.equal(status, 404);
  } finally {
    await switchboard.stop();
  }
});

/** Listen on 127.0.0.1 and a free port; resolves with the port. */
async function listenLocal(server: HttpServer): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return (server.address() as AddressInfo).port;
}

function closeServer(server: HttpServer): Promise<void> {
  server.closeAllConnections();
  return new Promise<void>((r) => server.close(() => r()));
}

test("attached with basePath '': the app keeps /health, /metrics and /api/*; Switchboard takes only /ws upgrades and says so", async () => {
  const seen: string[] = [];
  const app = createHttpServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    req.resume();
    res.end(`app:${req.url}`);
  });
  const port = await listenLocal(app);
  const { logger, lines } = recordingLogger();
  const switchboard = createServer({ server: app, logger });
  await switchboard.start();
  try {
    const base = `http://127.0.0.1:${port}`;
    assert.equal(await (await fetch(`${base}/health`)).text(), 'app:/health');
    assert.equal(await (await fetch(`${base}/metrics`)).text(), 'app:/metrics');
    assert.equal(await (await fetch(`${base}/stats`)).text(), 'app:/stats');
    const publish = await fetch(`${base}/api/publish`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ channel: 'news', data: 1 }),
    });
    assert.equal(await publish.text(), 'app:/api/publish');
    // A plain GET of a WebSocket path is the app's too: nothing HTTP is Switchboard's at the root.
    assert.equal(await (await fetch(`${base}/ws`)).text(), 'app:/ws');
    assert.deepEqual(seen, ['GET /health', 'GET /metrics', 'GET /stats', 'POST /api/publish', 'GET /ws']);
    // The WebSocket endpoints are Switchboard's.
    const client = await connect(`ws://127.0.0.1:${port}/ws/room`);
    client.send({ text: 'hi' });
    assert.equal((await client.next())['text'], 'hi');
    client.close();
    const note = lines.find((l) => l.msg.includes("basePath ''"));
    assert.equal(note?.level, 'info');
    assert.match(note?.msg ?? '', /set a basePath.*handleRequest/);
  } finally {
    await switchboard.stop();
    await closeServer(app);
  }
});

/**
 * A plain http.Server with Switchboard attached under `/rt`, collecting uncaught exceptions (a double
 * response throws ERR_HTTP_HEADERS_SENT outside any request); `done` stops and closes everything.
 */
async function attachedUnderRt(): Promise<{
  server: HttpServer;
  port: number;
  switchboard: ReturnType<typeof createServer>;
  errors: unknown[];
  done: () => Promise<void>;
}> {
  const server = createHttpServer();
  const port = await listenLocal(server);
  const switchboard = createServer({ server, basePath: '/rt' });
  await switchboard.start();
  const errors: unknown[] = [];
  const onUncaught = (error: unknown): void => void errors.push(error);
  process.on('uncaughtException', onUncaught);
  const done = async (): Promise<void> => {
    process.off('uncaughtException', onUncaught);
    await switchboard.stop();
    await closeServer(server);
  };
  return { server, port, switchboard, errors, done };
}

test('a request listener added after start() is adopted: each request is answered once, and detaching gives it back', async () => {
  const { server, port, switchboard, errors, done } = await attachedUnderRt();
  const seen: string[] = [];
  // Added after start(), as `server.on('request', app)` in an application's bootstrap.
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    seen.push(req.url ?? '');
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`late:${req.url}`);
  });
  try {
    const base = `http://127.0.0.1:${port}`;
    const hello = await fetch(`${base}/hello`);
    assert.equal(hello.status, 200);
    assert.equal(await hello.text(), 'late:/hello');
    const health = await fetch(`${base}/rt/health`);
    assert.equal(((await health.json()) as { status: string }).status, 'ok');
    assert.deepEqual(seen, ['/hello'], 'the late listener never sees a request Switchboard answered');
    assert.deepEqual(errors, []);
    assert.equal(server.listenerCount('request'), 1, 'only Switchboard is on the server');
    await switchboard.stop();
    assert.equal(await (await fetch(`${base}/rt/health`)).text(), 'late:/rt/health');
  } finally {
    await done();
  }
});

test('an upgrade listener added after start() is adopted: it gets only the upgrades Switchboard does not take', async () => {
  const server = createHttpServer();
  const port = await listenLocal(server);
  const switchboard = createServer({ server });
  await switchboard.start();
  const appWss = new WebSocketServer({ noServer: true });
  const seen: string[] = [];
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    seen.push(req.url ?? '');
    // An application listener that refuses what it does not know: it would break Switchboard's sockets.
    if (req.url === '/app-ws') appWss.handleUpgrade(req, socket, head, (ws) => ws.send('app socket'));
    else socket.destroy();
  });
  try {
    const client = await connect(`ws://127.0.0.1:${port}/ws/room`);
    client.send({ text: 'still here' });
    assert.equal((await client.next())['text'], 'still here');
    const appSocket = new WebSocket(`ws://127.0.0.1:${port}/app-ws`);
    const [greeting] = (await once(appSocket, 'message')) as [Buffer];
    assert.equal(greeting.toString(), 'app socket');
    appSocket.close();
    assert.deepEqual(seen, ['/app-ws']);
    client.close();
    await client.closed;
  } finally {
    await switchboard.stop();
    appWss.close();
    await closeServer(server);
  }
});

test('Express 5: a handler registered after start() answers once, beside Switchboard under its basePath', async () => {
  const { server, port, errors, done } = await attachedUnderRt();
  const app = express();
  app.get('/hello', (_req, res) => {
    res.send('hello from express');
  });
  server.on('request', app);
  try {
    const base = `http://127.0.0.1:${port}`;
    const hello = await fetch(`${base}/hello`);
    assert.equal(hello.status, 200);
    assert.equal(await hello.text(), 'hello from express');
    assert.equal(((await (await fetch(`${base}/rt/health`)).json()) as { status: string }).status, 'ok');
    // Express's own 404 for a path nobody serves, not Switchboard's JSON one.
    const missing = await fetch(`${base}/nope`);
    assert.equal(missing.status, 404);
    assert.match(await missing.text(), /Cannot GET \/nope/);
    // Let any second write (the old double response) surface before checking.
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(errors, []);
  } finally {
    await done();
  }
});

test('the server option refuses what is not an http(s).Server with a clear error', () => {
  assert.throws(() => createServer({ server: express() as never }), {
    name: 'InvalidOptionError',
    message: /an Express app is a request handler: pass the server app.listen\(\) returns/,
  });
  assert.throws(() => createServer({ server: {} as never }), {
    name: 'InvalidOptionError',
    message: /expected an http.Server or https.Server/,
  });
});

test("Express 5 with basePath '': the app mounts Switchboard's HTTP routes as its first middleware", async () => {
  const app = express();
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const switchboard = createServer({ server });
  app.use((req, res, next) => {
    if (!switchboard.handleRequest(req, res)) next();
  });
  app.get('/hello', (_req, res) => {
    res.send('hello');
  });
  await switchboard.start();
  try {
    const base = `http://127.0.0.1:${port}`;
    const client = await connect(`ws://127.0.0.1:${port}/ws/news`);
    const published = await fetch(`${base}/api/publish`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ channel: 'news', data: { text: 'mounted' } }),
    });
    assert.equal(published.status, 200);
    assert.equal((await client.next())['text'], 'mounted');
    assert.equal(await (await fetch(`${base}/hello`)).text(), 'hello');
    assert.equal((await fetch(`${base}/ws`)).status, 426);
    client.close();
  } finally {
    await switchboard.stop();
    await closeServer(server);
  }
});
