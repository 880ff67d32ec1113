// The request dispatch: a route that throws, before or after its first await, is logged and answered 500,
// and the server lives on (a throw out of a `request` listener would take the process down).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dispatchRequest } from '../src/http/attach.js';
import { Router } from '../src/http/router.js';
import { recordingLogger } from './helpers.js';

test('a route that throws synchronously or asynchronously is answered 500 and logged', async () => {
  const router = new Router();
  router.add('GET', '/sync', () => {
    throw new Error('refused header');
  });
  router.add('GET', '/async', async () => {
    await Promise.resolve();
    throw new Error('later');
  });
  const { logger, lines } = recordingLogger();
  const server = createHttpServer((req, res) => {
    if (!dispatchRequest(router, '', logger, req, res)) res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    for (const path of ['/sync', '/async']) {
      const res = await fetch(`${base}${path}`);
      assert.equal(res.status, 500, path);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'internal');
    }
    assert.deepEqual(
      lines.map((line) => line.msg),
      ['request failed', 'request failed'],
    );
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});
