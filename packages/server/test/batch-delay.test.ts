// The batch delay (`batchDelayMs`, and per channel rule): a channel's messages for batching clients
// (`?batch=1`) wait up to that long after the first one and travel as one WebSocket message; clients
// that do not batch still get each message at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { MAX_BATCH_MESSAGES } from '../src/hub/channel-batcher.js';
import { Recorder } from './batch-recorder.js';
import { startServer } from './helpers.js';
import type { TestServer } from './helpers.js';

const QUIET = { heartbeatIntervalMs: 60_000, heartbeatTimeoutMs: 180_000 } as const;
const DELAY = 150;
const GAP = 20;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** What a batching and a plain client got of three publications made {@link GAP} ms apart. */
interface Spread {
  /** The batching client's WebSocket messages, each as its frames' `data.n`. */
  readonly batches: unknown[][];
  /** The plain client's, likewise. */
  readonly plain: unknown[][];
  /** When the plain client got message 1 and the batching client its first message, after the first publish (ms). */
  readonly plainFirstAfter: number;
  readonly batchFirstAfter: number;
}

/**
 * Publish three messages to `channel`, {@link GAP} ms apart (each once the plain client has it), and
 * collect what both clients got. When the machine stalls so badly that the three publishes take longer
 * than `within` ms, the round proves nothing about a batch delay of that length: it is repeated on a
 * fresh channel (at most 5 rounds), so that a loaded machine does not make the test flaky.
 */
async function spread(t: TestServer, channel: string, within: number): Promise<Spread> {
  for (let round = 0; round < 5; round++) {
    const name = `${channel}-${round}`;
    const batching = await Recorder.open(t, '?batch=1');
    const plain = await Recorder.open(t, '');
    try {
      await batching.subscribe(name, 1);
      await plain.subscribe(name, 1);
      batching.clear();
      plain.clear();
      const start = performance.now();
      for (let n = 1; n <= 3; n++) {
        await t.server.publish(name, { n });
        await plain.until(() => plain.messages(name).length === n, `plain message ${n}`);
        if (n < 3) await sleep(GAP);
      }
      if (performance.now() - start >= within) continue;
      await batching.until(() => batching.messages(name).length === 3, 'batched messages');
      return {
        batches: batching.batches(name),
        plain: plain.batches(name),
        plainFirstAfter: (plain.arrivals[0] ?? NaN) - start,
        batchFirstAfter: (batching.arrivals[0] ?? NaN) - start,
      };
    } finally {
      batching.ws.close();
      plain.ws.close();
    }
  }
  throw new Error('the machine was too busy: every round took longer than the batch delay');
}

test(`with batchDelayMs ${DELAY}, messages ${GAP} ms apart reach a batching client as one WebSocket message; a plain client gets each at once`, async () => {
  const t = await startServer({ ...QUIET, batchDelayMs: DELAY });
  try {
    const got = await spread(t, 'feed', DELAY);
    assert.deepEqual(got.batches, [[1, 2, 3]], 'one WebSocket message, the three frames in order');
    assert.deepEqual(got.plain, [[1], [2], [3]]);
    assert.ok(
      got.plainFirstAfter < got.batchFirstAfter,
      `the plain client had message 1 (${got.plainFirstAfter} ms) before the batch arrived (${got.batchFirstAfter} ms)`,
    );
    // Timers never fire early; a few ms of slack for the two clocks' rounding.
    assert.ok(got.batchFirstAfter >= DELAY - 5, `the batch waited the delay (${got.batchFirstAfter} ms)`);
  } finally {
    await t.stop();
  }
});

test('with batchDelayMs 0 (the default), messages published apart arrive as separate WebSocket messages', async () => {
  const t = await startServer(QUIET);
  try {
    const got = await spread(t, 'feed', Infinity);
    assert.deepEqual(got.batches, [[1], [2], [3]]);
    assert.deepEqual(got.plain, [[1], [2], [3]]);
  } finally {
    await t.stop();
  }
});

test('a channel rule overrides the server default: one channel delayed, another not', async () => {
  const t = await startServer({
    ...QUIET,
    batchDelayMs: DELAY,
    channels: [{ pattern: 'live:*', batchDelayMs: 0 }],
  });
  try {
    const delayed = await spread(t, 'feed', DELAY);
    assert.deepEqual(delayed.batches, [[1, 2, 3]], 'the server default applies to feed');
    const live = await spread(t, 'live:scores', Infinity);
    assert.deepEqual(live.batches, [[1], [2], [3]], 'the rule turns the delay off for live:*');
  } finally {
    await t.stop();
  }

  const u = await startServer({ ...QUIET, channels: [{ pattern: 'slow:*', batchDelayMs: DELAY }] });
  try {
    const slow = await spread(u, 'slow:feed', DELAY);
    assert.deepEqual(slow.batches, [[1, 2, 3]], 'the rule delays slow:* on a server without a delay');
  } finally {
    await u.stop();
  }
});

test('a client that joins while a delayed batch waits gets only later messages; the members get the batch, in order', async () => {
  // A long delay, so that the join surely lands while the batch waits (a join writes it at once).
  const t = await startServer({ ...QUIET, batchDelayMs: 1000 });
  try {
    const early = await Recorder.open(t, '?batch=1');
    const plain = await Recorder.open(t, '');
    const late = await Recorder.open(t, '?batch=1');
    await early.subscribe('room', 1);
    await plain.subscribe('room', 1);
    for (const n of [1, 2]) await t.server.publish('room', { n });
    const joined = await late.subscribe('room', 1);
    assert.equal(joined['offset'], 2, 'the newcomer starts after the waiting messages');
    await t.server.publish('room', { n: 3 });
    await late.until(() => late.messages('room').length === 1, 'message 3');
    await early.until(() => early.messages('room').length === 3, 'messages 1 to 3');
    await plain.until(() => plain.messages('room').length === 3, 'plain messages');
    assert.deepEqual(late.batches('room'), [[3]], 'nothing from before its position');
    assert.deepEqual(early.batches('room'), [[1, 2], [3]], 'the waiting batch went out at the join');
    assert.deepEqual(
      early.messages('room').map((m) => m['id']),
      [1, 2, 3],
    );
    assert.deepEqual(plain.batches('room'), [[1], [2], [3]]);
    for (const c of [early, plain, late]) c.ws.close();
  } finally {
    await t.stop();
  }
});

test(`a full batch goes out at once: ${MAX_BATCH_MESSAGES + 10} messages in one turn arrive split at ${MAX_BATCH_MESSAGES}`, async () => {
  const t = await startServer({ ...QUIET, channels: [{ pattern: 'slow:*', batchDelayMs: DELAY }] });
  try {
    const client = await Recorder.open(t, '?batch=1');
    for (const [i, channel] of ['burst', 'slow:burst'].entries()) {
      await client.subscribe(channel, i + 1);
      const total = MAX_BATCH_MESSAGES + 10;
      // The memory broker delivers synchronously: every publication lands in this turn.
      await Promise.all(Array.from({ length: total }, (_, i) => t.server.publish(channel, { n: i + 1 })));
      await client.until(() => client.messages(channel).length === total, `${channel} messages`);
      const sizes = client.batches(channel).map((b) => b.length);
      assert.deepEqual(sizes, [MAX_BATCH_MESSAGES, 10], channel);
      assert.deepEqual(
        client.messages(channel).map((m) => (m['data'] as { n: number }).n),
        Array.from({ length: total }, (_, i) => i + 1),
      );
    }
    client.ws.close();
  } finally {
    await t.stop();
  }
});

test('a graceful stop writes a waiting delayed batch before it closes the connections, without waiting for it', async () => {
  const t = await startServer({ ...QUIET, batchDelayMs: 1000 });
  const clients = [await Recorder.open(t, '?batch=1'), await Recorder.open(t, '?batch=1')];
  for (const c of clients) await c.subscribe('news', 1);
  for (const n of [1, 2, 3]) await t.server.publish('news', { n });
  const started = performance.now();
  await t.stop();
  const stopMs = performance.now() - started;
  for (const c of clients) {
    assert.deepEqual(await c.closed, { code: 1001, reason: 'server shutting down' });
    assert.deepEqual(c.batches('news'), [[1, 2, 3]], 'the batch arrived before the close');
  }
  // Generous: the delay is 1 s, and a stop that waited for it would take at least that long.
  assert.ok(stopMs < 900, `stop() took ${stopMs} ms`);
});

test('a connection the server closes gets its channels’ waiting batches before the close frame; the other members get them too', async () => {
  const t = await startServer({ ...QUIET, batchDelayMs: 1000 });
  try {
    const leaving = await Recorder.open(t, '?batch=1');
    const staying = await Recorder.open(t, '?batch=1');
    for (const c of [leaving, staying]) await c.subscribe('news', 1);
    const connected = leaving.frames().find((f) => f['type'] === 'connected');
    const started = performance.now();
    for (const n of [1, 2, 3]) await t.server.publish('news', { n });
    await t.server.disconnectConnection(String(connected?.['connectionId']), { code: 4502, reason: 'bye' });
    assert.deepEqual(await leaving.closed, { code: 4502, reason: 'bye' });
    assert.deepEqual(leaving.batches('news'), [[1, 2, 3]], 'the batch arrived before the close');
    await staying.until(() => staying.messages('news').length === 3, 'the batch at the other member');
    assert.deepEqual(staying.batches('news'), [[1, 2, 3]], 'one WebSocket message, in order');
    // Written with the close, not after the 1 s delay.
    assert.ok(performance.now() - started < 900, 'the batch did not wait for its delay');
  } finally {
    await t.stop();
  }
});
