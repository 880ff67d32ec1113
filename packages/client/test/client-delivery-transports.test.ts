/**
 * The inbox and consumers over every transport of the SDK, against the real server: their commands and
 * replies travel the connection's request path, the same on WebSocket, SSE and long polling. (The real
 * server's delivery runtimes are not wired in yet: an anonymous connection's inbox is refused, with
 * `not_available` until they are and `permission_denied` after; the end-to-end tests come with them.)
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { SwitchboardClient } from '../src/index.js';
import type { SwitchboardClientError, TransportName } from '../src/index.js';
import { testScope } from './helpers.js';

const scope = testScope({ shutdownTimeoutMs: 200 });

/** The first `open` or `error` of an inbox or consumer. */
function outcome(target: {
  on(event: 'open', listener: (payload: unknown) => void): () => void;
  on(event: 'error', listener: (error: SwitchboardClientError) => void): () => void;
}): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no open or error within 5 s')), 5000);
    target.on('open', () => {
      clearTimeout(timer);
      resolve('open');
    });
    target.on('error', (error) => {
      clearTimeout(timer);
      resolve(error.code);
    });
  });
}

for (const transport of ['websocket', 'sse', 'polling'] as const satisfies readonly TransportName[]) {
  describe(`guaranteed delivery over ${transport}`, () => {
    it('the inbox and consume commands reach the server and their replies come back', async () => {
      const t = await scope.server();
      const c = new SwitchboardClient(t.url, { WebSocket, transports: [transport] });
      scope.defer(() => c.close());
      await c.connect();
      assert.equal(c.transport, transport);
      const inbox = outcome(c.inbox);
      c.inbox.on('message', () => {});
      assert.ok(
        ['not_available', 'permission_denied'].includes(await inbox),
        'an anonymous inbox is refused',
      );
      const consumer = c.consume('jobs', () => {});
      const answer = await outcome(consumer);
      assert.ok(['not_available', 'open', 'permission_denied'].includes(answer), answer);
    });
  });
}
