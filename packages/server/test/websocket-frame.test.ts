// Fan-out frames are framed once and written straight to each socket, next to ws's own frames (replies,
// heartbeat pushes, protocol pings). A real ws client must read every one intact and in order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import { pushOverSoftLimit, stalledClient, startServer, waitMembers } from './helpers.js';

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
  const t = await startServer({
    heartbeatIntervalMs: 20,
    heartbeatTimeoutMs: 60_000,
    // The protocol-ping safety net goes out only where protocol pongs prove life.
    v1HeartbeatProof: 'any',
    roomHeartbeatProof: 'any',
  });
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

/** A masked client frame (RFC 6455 5.3), as a browser sends it; payloads under 126 bytes only. */
function clientFrame(opcode: number, payload: Buffer): Buffer {
  const mask = randomBytes(4);
  const masked = Buffer.from(payload.map((byte, i) => byte ^ (mask[i % 4] ?? 0)));
  return Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | payload.length]), mask, masked]);
}

/** The server's (unmasked) frames in `bytes`, which must hold whole frames only. */
function serverFrames(bytes: Buffer): { opcode: number; payload: Buffer }[] {
  const frames: { opcode: number; payload: Buffer }[] = [];
  let at = 0;
  while (at < bytes.length) {
    assert.ok(at + 2 <= bytes.length, `a partial frame header at byte ${at} of ${bytes.length}`);
    const opcode = bytes.readUInt8(at) & 0x0f;
    let length = bytes.readUInt8(at + 1) & 0x7f;
    let header = 2;
    if (length === 126) {
      length = bytes.readUInt16BE(at + 2);
      header = 4;
    } else if (length === 127) {
      length = Number(bytes.readBigUInt64BE(at + 2));
      header = 10;
    }
    assert.ok(at + header + length <= bytes.length, `a partial frame at byte ${at} of ${bytes.length}`);
    frames.push({ opcode, payload: bytes.subarray(at + header, at + header + length) });
    at += header + length;
  }
  return frames;
}

test('nothing is written after the close frame: fan-outs racing a close never follow it on the wire', async () => {
  const t = await startServer({ maxBufferedBytes: 16 * 1024 });
  let member: Socket | undefined;
  try {
    // A member whose frames wait in the server's buffer: its close frame will wait behind them, so ws
    // cannot end the socket at once, and anything written meanwhile would land after the close frame.
    member = await stalledClient(`${t.wsUrl}/ws/closing`);
    const socket = member;
    const watcher = await recorder(`${t.wsUrl}/ws/closing`);
    await waitMembers(t, 'closing', 2);
    await pushOverSoftLimit(t, 'closing');
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));

    // One write: a room message, then the close. The server reads both in one turn: the close starts
    // before the message's fan-out (which waits for the broker) reaches the member.
    const closeCode = Buffer.alloc(2);
    closeCode.writeUInt16BE(1000);
    socket.write(
      Buffer.concat([
        clientFrame(0x1, Buffer.from(JSON.stringify({ text: 'last words' }))),
        clientFrame(0x8, closeCode),
      ]),
    );
    await until(() => watcher.frames.some((f) => f.includes('last words')), 'the member’s message');
    // The member is still in the channel (its transport has not reported the close): fan-outs reach it.
    assert.equal((await t.server.channelInfo('closing')).members, 2);
    for (let n = 1; n <= 5; n++) await t.server.publish('closing', { after: n });
    await until(() => watcher.frames.some((f) => f.includes('"after":5')), 'the later publications');

    socket.resume();
    await ended;
    const frames = serverFrames(Buffer.concat(received));
    const close = frames.findIndex((f) => f.opcode === 0x8);
    assert.notEqual(close, -1, 'the server answered the close');
    assert.equal(frames[close]?.payload.readUInt16BE(0), 1000);
    assert.deepEqual(
      frames.slice(close + 1).map((f) => f.payload.toString()),
      [],
      'nothing after the close frame',
    );
    watcher.ws.close();
  } finally {
    member?.destroy();
    await t.stop();
  }
});
