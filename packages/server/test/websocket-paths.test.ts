// A plain HTTP GET of a WebSocket path: 426 Upgrade Required, or the 400 an invalid room's upgrade gets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer } from '../src/index.js';
import { startServer, upgradeStatus } from './helpers.js';

interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string };
}

test('GET /ws and /ws/:room without an upgrade answer 426 with Upgrade: websocket', async () => {
  const t = await startServer();
  try {
    for (const path of ['/ws', '/ws/lobby', '/ws/protected/general', '/ws/a%3Ab']) {
      const res = await fetch(`${t.httpUrl}${path}`);
      assert.equal(res.status, 426, path);
      assert.equal(res.headers.get('upgrade'), 'websocket');
      const body = (await res.json()) as ErrorBody;
      assert.match(body.error.message, /WebSocket endpoint/);
    }
    const post = await fetch(`${t.httpUrl}/ws`, { method: 'POST' });
    assert.equal(post.status, 405);
  } finally {
    await t.stop();
  }
});

test('GET /ws/:room with an invalid room name answers the 400 its upgrade gets, with the same code and message', async () => {
  const t = await startServer({ maxChannelLength: 8 });
  try {
    for (const room of ['much-too-long-name', 'a%20b', 'a/b%20c', 'caf%C3%A9']) {
      const res = await fetch(`${t.httpUrl}/ws/${room}`);
      assert.equal(res.status, 400, room);
      const plain = (await res.json()) as ErrorBody;
      const upgrade = await upgradeStatus(`${t.wsUrl}/ws/${room}`);
      assert.equal(upgrade.status, 400);
      assert.deepEqual(plain, JSON.parse(upgrade.body));
      assert.equal(plain.error.code, 'invalid_channel');
    }
  } finally {
    await t.stop();
  }
});

test('attached with a basePath, a plain GET of its WebSocket path is 426 too', async () => {
  const app = createHttpServer((_req, res) => res.end('app'));
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', () => r()));
  const port = (app.address() as AddressInfo).port;
  const switchboard = createServer({ server: app, basePath: '/rt' });
  await switchboard.start();
  try {
    assert.equal((await fetch(`http://127.0.0.1:${port}/rt/ws/lobby`)).status, 426);
    assert.equal(await (await fetch(`http://127.0.0.1:${port}/ws`)).text(), 'app');
  } finally {
    await switchboard.stop();
    app.closeAllConnections();
    await new Promise<void>((r) => app.close(() => r()));
  }
});
