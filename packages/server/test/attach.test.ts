// Library mode: Switchboard shares a port with an application's own HTTP server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import WebSocket, { WebSocketServer } from 'ws';
import { createServer } from '../src/index.js';
import { connect, upgradeStatus } from './helpers.js';

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
    assert.deepEqual(await (await fetch(`http://127.0.0.1:${port}/rt/health`)).json(), { status: 'ok' });
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
