// Batched frames (v1 `?batch=1`): a channel's messages of one event-loop turn travel in one WebSocket
// message, separated by newlines, to the connections that asked; everyone else gets one frame per message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { startServer, waitMembers } from './helpers.js';
import type { TestServer } from './helpers.js';
import { Recorder } from './batch-recorder.js';

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

test('a batching client gets every message once and in order across batch boundaries; others get one per frame', async () => {
  const t = await startServer({ heartbeatIntervalMs: 60_000, heartbeatTimeoutMs: 180_000 });
  try {
    const batching = await Recorder.open(t, '?batch=1');
    const plain = await Recorder.open(t, '');
    await batching.subscribe('feed', 1);
    await plain.subscribe('feed', 1);
    batching.clear();
    plain.clear();

    // Bursts of 1 to 40 publications per event-loop turn.
    const total = 400;
    let published = 0;
    for (let burst = 1; published < total; burst = (burst * 7) % 41 || 1) {
      const pending: Promise<unknown>[] = [];
      for (let i = 0; i < burst && published < total; i++) {
        published++;
        pending.push(t.server.publish('feed', { n: published, text: `line\nbreak ${published}` }));
      }
      await Promise.all(pending);
      await turn();
    }
    await batching.until((f) => f.length === total, 'batched messages');
    await plain.until((f) => f.length === total, 'plain messages');

    for (const client of [batching, plain]) {
      const messages = client.messages('feed');
      assert.equal(messages.length, total);
      messages.forEach((m, i) => {
        assert.equal(m['id'], i + 1);
        assert.deepEqual(m['data'], { n: i + 1, text: `line\nbreak ${i + 1}` });
      });
    }
    assert.equal(plain.raw.length, total, 'one message per WebSocket message without batching');
    assert.ok(!plain.raw.some((text) => text.includes('\n')));
    assert.ok(batching.raw.length < total / 4, `${batching.raw.length} WebSocket messages for ${total}`);
    assert.ok(
      batching.raw.some((text) => text.split('\n').length === 40),
      'a burst travels as one message',
    );
    assert.equal(t.server.stats().messages.delivered, 2 * total, 'deliveries are counted per message');
    batching.ws.close();
    plain.ws.close();
  } finally {
    await t.stop();
  }
});

test('exclusions and ephemeral messages keep the channel order for batching clients', async () => {
  const t = await startServer({ heartbeatIntervalMs: 60_000, heartbeatTimeoutMs: 180_000 });
  try {
    const self = await Recorder.open(t, '?batch=1');
    const other = await Recorder.open(t, '?batch=1');
    const plain = await Recorder.open(t, '');
    for (const c of [self, other, plain]) await c.subscribe('mixed', 1);
    await waitMembers(t, 'mixed', 3);
    const selfId = String(self.frames().find((f) => f['type'] === 'connected')?.['connectionId']);

    // One turn: server publications, ephemeral ones, and publications that exclude `self`.
    const plan: { n: number; ephemeral: boolean; excludeSelf: boolean }[] = [];
    for (let n = 1; n <= 60; n++) plan.push({ n, ephemeral: n % 4 === 1, excludeSelf: n % 5 === 0 });
    await Promise.all(
      plan.map(({ n, ephemeral, excludeSelf }) =>
        t.server.publish(
          'mixed',
          { n },
          { ephemeral, ...(excludeSelf ? { exclude: { connectionId: selfId } } : {}) },
        ),
      ),
    );
    const expectedFor = (excluded: boolean): number[] =>
      plan.filter((p) => !(excluded && p.excludeSelf)).map((p) => p.n);
    const order = (c: Recorder): number[] => c.messages('mixed').map((m) => (m['data'] as { n: number }).n);
    await self.until(() => order(self).length === expectedFor(true).length, 'self');
    await other.until(() => order(other).length === 60, 'other');
    await plain.until(() => order(plain).length === 60, 'plain');
    assert.deepEqual(order(self), expectedFor(true), 'the excluded connection misses only its exclusions');
    assert.deepEqual(order(other), expectedFor(false));
    assert.deepEqual(order(plain), expectedFor(false));
    for (const c of [self, other, plain]) c.ws.close();
  } finally {
    await t.stop();
  }
});

test('a batching client that subscribes while messages flow gets each one once, right after its reply', async () => {
  const t = await startServer({ heartbeatIntervalMs: 60_000, heartbeatTimeoutMs: 180_000 });
  try {
    const early = await Recorder.open(t, '?batch=1');
    await early.subscribe('live', 1);
    let n = 0;
    let running = true;
    const publisher = (async () => {
      while (running) {
        const burst: Promise<unknown>[] = [];
        for (let i = 0; i < 5; i++) burst.push(t.server.publish('live', { n: ++n }));
        await Promise.all(burst);
        await turn();
      }
    })();
    const late: Recorder[] = [];
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 5));
      const client = await Recorder.open(t, i % 2 === 0 ? '?batch=1' : '');
      await client.subscribe('live', 1);
      late.push(client);
    }
    await new Promise((r) => setTimeout(r, 20));
    running = false;
    await publisher;
    const last = n;
    for (const client of [early, ...late]) {
      await client.until((f) => f.some((m) => m['type'] === 'message' && m['id'] === last), 'last message');
      const frames = client.frames();
      const reply = frames.findIndex((f) => f['type'] === 'reply' && f['id'] === 1);
      const offset = (frames[reply]?.['result'] as { offset: number }).offset;
      const ids = client.messages('live').map((m) => m['id']);
      // Exactly the messages after the subscription's start, each once, in order, after the reply.
      assert.deepEqual(
        ids,
        Array.from({ length: last - offset }, (_, i) => offset + i + 1),
      );
      assert.ok(frames.findIndex((f) => f['type'] === 'message') > reply);
      client.ws.close();
    }
  } finally {
    await t.stop();
  }
});

test('batch=1 is ignored by the room dialect, and any other value means no batching', async () => {
  const t = await startServer({ heartbeatIntervalMs: 60_000, heartbeatTimeoutMs: 180_000 });
  try {
    const other = await Recorder.open(t, '?batch=yes');
    await other.subscribe('x', 1);
    const room = new WebSocket(`${t.wsUrl}/ws/x?batch=1`);
    const roomRaw: string[] = [];
    room.on('message', (data: Buffer) => roomRaw.push(data.toString()));
    await new Promise<void>((resolve) => room.once('open', () => resolve()));
    await waitMembers(t, 'x', 2);
    await Promise.all([1, 2, 3].map((n) => t.server.publish('x', { n })));
    await other.until((f) => f.filter((m) => m['type'] === 'message').length === 3, 'messages');
    const deadline = Date.now() + 5000;
    while (roomRaw.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.equal(roomRaw.length, 3);
    assert.ok(![...other.raw, ...roomRaw].some((text) => text.includes('\n')));
    other.ws.close();
    room.close();
  } finally {
    await t.stop();
  }
});

/**
 * A batching client gets message 1, then, in one synchronous step, message 2 is published (it waits in
 * the channel's batch) and the server closes the connection with `code`. Resolves once the client saw the
 * close, with what it needs to resume.
 */
async function closeDuringBatch(
  t: TestServer,
  channel: string,
  code: number,
): Promise<{ first: Recorder; sessionId: string }> {
  const first = await Recorder.open(t, '?batch=1');
  await first.subscribe(channel, 1);
  const connected = first.frames().find((f) => f['type'] === 'connected') ?? {};
  await t.server.publish(channel, { n: 1 });
  await first.until((f) => f.some((m) => m['type'] === 'message' && m['id'] === 1), 'message 1');
  void t.server.publish(channel, { n: 2 });
  void t.server.disconnectConnection(String(connected['connectionId']), { code, reason: 'test' });
  await new Promise<void>((resolve) => first.ws.once('close', () => resolve()));
  return { first, sessionId: String(connected['sessionId']) };
}

/** Resume `sessionId`, publish message 3, and return the `data` of the messages the resumed client got. */
async function resumeAndPublish(t: TestServer, channel: string, sessionId: string): Promise<unknown[]> {
  const second = await Recorder.open(t, `?batch=1&session=${sessionId}`);
  try {
    const resumed = second.frames().find((f) => f['type'] === 'connected') ?? {};
    assert.equal(resumed['resumed'], true);
    await t.server.publish(channel, { n: 3 });
    await second.until((f) => f.some((m) => m['type'] === 'message' && m['id'] === 3), 'message 3');
    return second.messages(channel).map((m) => m['data']);
  } finally {
    second.ws.close();
  }
}

test('a batching connection closed by a dead-peer code with a batch still waiting resumes from before it: nothing is lost', async () => {
  const t = await startServer({ heartbeatIntervalMs: 60_000, heartbeatTimeoutMs: 180_000 });
  try {
    // 4000 (heartbeat timeout): the peer is presumed dead, so the waiting batch is not written to it.
    const { first, sessionId } = await closeDuringBatch(t, 'resume', 4000);
    assert.ok(!first.messages('resume').some((m) => m['id'] === 2), 'message 2 was never written');
    assert.deepEqual(await resumeAndPublish(t, 'resume', sessionId), [{ n: 2 }, { n: 3 }]);
  } finally {
    await t.stop();
  }
});

test('a batching connection the server closes otherwise gets the waiting batch before the close, and not again on resume', async () => {
  const t = await startServer({ heartbeatIntervalMs: 60_000, heartbeatTimeoutMs: 180_000 });
  try {
    const { first, sessionId } = await closeDuringBatch(t, 'resume', 4002);
    assert.deepEqual(
      first.messages('resume').map((m) => m['data']),
      [{ n: 1 }, { n: 2 }],
      'message 2 arrived before the close',
    );
    assert.deepEqual(await resumeAndPublish(t, 'resume', sessionId), [{ n: 3 }]);
  } finally {
    await t.stop();
  }
});
