/** Batched frames: the SDK asks for them (`?batch=1`) and splits each WebSocket message into its frames. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { SwitchboardClient } from '../src/index.js';
import type { ChannelMessage, WebSocketConstructor } from '../src/index.js';
import { testScope } from './helpers.js';

const scope = testScope();

/** `ws`, keeping the URL of every socket and every WebSocket message as it arrived. */
function counting(): { WebSocket: WebSocketConstructor; urls: string[]; raw: string[] } {
  const urls: string[] = [];
  const raw: string[] = [];
  class Counting extends WebSocket {
    constructor(url: string, protocols?: string[]) {
      super(url, protocols);
      urls.push(url);
      this.on('message', (data: Buffer) => raw.push(data.toString()));
    }
  }
  return { WebSocket: Counting, urls, raw };
}

async function until(predicate: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('batched frames', () => {
  it('the SDK asks for batches and delivers every message once, in order, across batch boundaries', async () => {
    const t = await scope.server({ heartbeatIntervalMs: 60_000, heartbeatTimeoutMs: 180_000 });
    const socket = counting();
    const client = new SwitchboardClient<{ n: number; text: string }>(t.url, { WebSocket: socket.WebSocket });
    scope.defer(() => client.close());
    await client.connect();
    assert.equal(new URL(socket.urls[0] ?? '').searchParams.get('batch'), '1');
    const seen: ChannelMessage<{ n: number; text: string }>[] = [];
    await client.subscribe('feed').ready();
    client.on('message', (m) => seen.push(m));
    // A raw WebSocket on the same channel that did not ask: one message per WebSocket message.
    const plainRaw: string[] = [];
    const plain = new WebSocket(t.url);
    scope.defer(() => plain.close());
    plain.on('message', (data: Buffer) => plainRaw.push(data.toString()));
    await new Promise<void>((resolve) => plain.once('open', () => resolve()));
    plain.send(JSON.stringify({ id: 1, type: 'subscribe', channel: 'feed' }));
    await until(() => plainRaw.some((f) => f.startsWith('{"type":"reply"')), 'plain subscribe');

    const total = 300;
    let published = 0;
    for (let burst = 1; published < total; burst = (burst % 30) + 7) {
      const pending: Promise<unknown>[] = [];
      for (let i = 0; i < burst && published < total; i++) {
        published++;
        pending.push(t.server.publish('feed', { n: published, text: `a\nb ${published}` }));
      }
      await Promise.all(pending);
      await new Promise((r) => setImmediate(r));
    }
    await until(() => seen.length === total, 'every message');
    assert.deepEqual(
      seen.map((m) => [m.id, m.data.n, m.data.text]),
      Array.from({ length: total }, (_, i) => [i + 1, i + 1, `a\nb ${i + 1}`]),
    );
    assert.ok(
      socket.raw.some((text) => text.split('\n').length > 1),
      'some WebSocket messages carried several frames',
    );
    await until(() => plainRaw.filter((f) => f.startsWith('{"type":"message"')).length === total, 'plain');
    assert.ok(!plainRaw.some((text) => text.includes('\n')), 'no batches for a client that did not ask');
    // Nothing else was lost to the splitting: no gap was detected and nothing had to be re-synced.
    assert.equal(client.subscription('feed')?.position?.offset, total);
  });

  it('keeps the session parameter next to batch=1 on a resume', async () => {
    const t = await scope.server({ heartbeatIntervalMs: 60_000, heartbeatTimeoutMs: 180_000 });
    const socket = counting();
    const client = new SwitchboardClient(t.url, {
      WebSocket: socket.WebSocket,
      backoff: { minDelayMs: 10, maxDelayMs: 10 },
    });
    scope.defer(() => client.close());
    const info = await client.connect();
    await t.server.disconnectConnection(info.connectionId, { code: 4002, reason: 'test' });
    await until(() => socket.urls.length === 2 && client.state === 'connected', 'reconnected');
    const url = new URL(socket.urls[1] ?? '');
    assert.equal(url.searchParams.get('batch'), '1');
    assert.equal(url.searchParams.get('session'), info.sessionId);
  });
});
