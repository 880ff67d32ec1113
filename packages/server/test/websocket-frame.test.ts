// Fan-out frames are framed once and written straight to each socket, next to ws's own frames (replies,
// heartbeat pushes, protocol pings). A real ws client must read every one intact and in order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { startServer, waitMembers } from './helpers.js';

/** A ws client that keeps every text frame it reads, and every protocol ping. */
async function recorder(url: string): Promise<{
  ws: WebSocket;
  frames: string[];
  pings: () => number;
  closed: Promise<number>;
}> {
  const ws = new WebSocket(url);
  const frames: string[] = [];
  let pings = 0;
  ws.on('message', (data: Buffer, isBinary) => frames.push(isBinary ? '<binary>' : data.toString('utf8')));
  ws.on('ping', () => pings++);
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, frames, pings: () => pings, closed };
}

async function until(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('large and small fan-out frames interleaved with replies and pings arrive intact and in order', async () => {
  // A 20 ms heartbeat: the server's ping pushes (and, as the client never answers them, protocol
  // pings) keep landing between the fan-out writes.
  const t = await startServer({ heartbeatIntervalMs: 20, heartbeatTimeoutMs: 60_000 });
  try {
    const v1 = await recorder(`${t.wsUrl}/ws`);
    const room = await recorder(`${t.wsUrl}/ws/frames`);
    await until(() => v1.frames.length > 0, 'connected');
    v1.ws.send(JSON.stringify({ id: 1, type: 'subscribe', channel: 'frames' }));
    await waitMembers(t, 'frames', 2);
    await until(() => v1.frames.some((f) => f.includes('"id":1')), 'subscribe reply');

    const big = 'B'.repeat(100 * 1024); // over 64 KiB: a 64-bit length
    const mid = 'M'.repeat(300); // a 16-bit length
    const expected: string[] = [];
    let requests = 1;
    for (let n = 1; n <= 300; n++) {
      const text = n % 25 === 0 ? big : n % 3 === 0 ? mid : `s${n}`;
      expected.push(text);
      await t.server.publish('frames', { n, text });
      // Replies (written by ws) between fan-out writes (written by us).
      if (n % 2 === 0) v1.ws.send(JSON.stringify({ id: ++requests, type: 'ping' }));
      if (n % 10 === 0) await new Promise((r) => setTimeout(r, 3));
      // A quiet spell: both clients stay silent until each has had a protocol ping, so pings land
      // between fan-out writes however the heartbeat timer is scheduled on a loaded machine.
      if (n % 50 === 0) {
        const before = [v1.pings(), room.pings()] as const;
        await until(() => v1.pings() > before[0] && room.pings() > before[1], 'protocol pings');
      }
    }

    const messagesOf = (frames: string[]): Record<string, unknown>[] =>
      frames
        .map((f) => JSON.parse(f) as Record<string, unknown>)
        .filter((m) => m['type'] === 'message' || (m['type'] !== 'ping' && typeof m['n'] === 'number'));
    await until(() => messagesOf(v1.frames).length === 300, 'v1 messages');
    await until(() => messagesOf(room.frames).length === 300, 'room messages');
    await until(
      () => v1.frames.filter((f) => f.startsWith('{"type":"reply"')).length === requests,
      'every reply',
    );

    const v1Messages = messagesOf(v1.frames);
    v1Messages.forEach((m, i) => {
      assert.equal(m['id'], i + 1, 'v1 ids in order');
      assert.deepEqual(m['data'], { n: i + 1, text: expected[i] });
    });
    const roomMessages = messagesOf(room.frames);
    roomMessages.forEach((m, i) => {
      assert.equal(m['id'], i + 1, 'room ids in order');
      assert.equal(m['n'], i + 1);
      assert.equal(m['text'], expected[i]);
    });
    // Replies come back in command order, and pushes and protocol pings did go out in between.
    const replyIds = v1.frames
      .filter((f) => f.startsWith('{"type":"reply"'))
      .map((f) => (JSON.parse(f) as { id: number }).id);
    assert.deepEqual(
      replyIds,
      Array.from({ length: requests }, (_, i) => i + 1),
    );
    for (const client of [v1, room]) {
      assert.ok(client.frames.includes('{"type":"ping"}'), 'heartbeat pushes were interleaved');
      assert.ok(client.pings() > 0, 'protocol pings were interleaved');
    }
    assert.equal(v1.ws.readyState, WebSocket.OPEN);
    assert.equal(room.ws.readyState, WebSocket.OPEN);
    v1.ws.close();
    room.ws.close();
    assert.equal(await v1.closed, 1005);
  } finally {
    await t.stop();
  }
});

test('nothing is written after the close starts: a fan-out racing a close leaves the close frame last', async () => {
  const t = await startServer();
  try {
    const client = await recorder(`${t.wsUrl}/ws/closing`);
    await waitMembers(t, 'closing', 1);
    await t.server.publish('closing', { n: 1 });
    // The client starts the close; the server's publications after it must not follow its close frame.
    client.ws.close(1000);
    for (let n = 2; n <= 20; n++) void t.server.publish('closing', { n }).catch(() => {});
    assert.equal(await client.closed, 1000);
  } finally {
    await t.stop();
  }
});
