// ChannelRegistry's batching, driven step by step: a fake host records every write, and the history
// store answers only when the test says so, so publications can land in the middle of a join.
import { Tracing } from '../src/tracing/tracing.js';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeServerFramesMsgpack } from '@switchboard/protocol';
import type { FrameEncoding, StreamPosition } from '@switchboard/protocol';
import { ChannelRegistry } from '../src/hub/channel-registry.js';
import type { ChannelWriter } from '../src/hub/channel-registry.js';
import { Connection } from '../src/hub/connection.js';
import type { DeliveryTally } from '../src/hub/delivery.js';
import type { HubCounters } from '../src/hub/hub-stats.js';
import type { PresenceTracker } from '../src/hub/presence-tracker.js';
import type { Broker, Publication } from '../src/broker/broker.js';
import type { HistoryStore } from '../src/history/history-store.js';
import { NoopMetrics } from '../src/metrics/metrics.js';
import { DEFAULT_LIMITS } from '../src/limits/resolved-limits.js';
import type { ChannelRule } from '../src/hub/channel.js';
import { systemClock } from '../src/util/clock.js';
import type { Clock } from '../src/util/clock.js';
import type { PreparedFrame, TransportSocket } from '../src/transports/transport.js';
import { MAX_BATCH_BYTES, MAX_BATCH_MESSAGES } from '../src/hub/channel-batcher.js';
import { FakeClock } from './fake-clock.js';

const EPOCH = 'e1';

/** One WebSocket message as a connection would get it: its frames' texts. */
type Sent = { connection: string; lines: string[]; ephemeral: boolean };

/** What a harness may change: the server's batch delay, channel rules, and the clock. */
interface HarnessOptions {
  readonly batchDelayMs?: number;
  readonly rules?: readonly ChannelRule[];
  readonly clock?: Clock;
}

function harness(options: HarnessOptions = {}): {
  registry: ChannelRegistry;
  sent: Sent[];
  tallies: DeliveryTally[];
  /** Every shared frame written, to whom: to see which recipients got the very same frame. */
  prepared: { connection: string; frame: PreparedFrame }[];
  connection: (id: string, batch: boolean, encoding?: FrameEncoding) => Connection;
  positionGate: () => (position: StreamPosition) => void;
  publish: (id: number | undefined, data: unknown, extra?: Partial<Publication>) => void;
  turn: () => Promise<void>;
  linesOf: (connection: string) => string[];
} {
  const sent: Sent[] = [];
  const tallies: DeliveryTally[] = [];
  const prepared: { connection: string; frame: PreparedFrame }[] = [];
  const gates: ((position: StreamPosition) => void)[] = [];
  const counters = { recoveries: 0, recoveryFailures: 0, streamResets: 0 } as HubCounters;
  const delivery: ChannelWriter = {
    write(connection, frame, ephemeral) {
      sent.push({ connection: connection.id, lines: frame.toString().split('\n'), ephemeral });
      return true;
    },
    writePrepared(connection, frame: PreparedFrame, ephemeral, tally) {
      prepared.push({ connection: connection.id, frame });
      const lines = frame.binary
        ? decodeServerFramesMsgpack(frame.payload).map((f) => JSON.stringify(f))
        : frame.payload.toString().split('\n');
      sent.push({ connection: connection.id, lines, ephemeral });
      tally.delivered += tally.weight;
    },
    settle(tally) {
      tallies.push(tally);
    },
    writeFrame() {},
    delivered() {},
  };
  const broker = {
    subscribe: () => Promise.resolve(),
    unsubscribe: () => Promise.resolve(),
  } as unknown as Broker;
  const history = {
    position: () => new Promise<StreamPosition>((resolve) => gates.push(resolve)),
    hold: () => {},
    release: () => {},
  } as unknown as HistoryStore;
  const registry = new ChannelRegistry({
    limits: { ...DEFAULT_LIMITS, batchDelayMs: options.batchDelayMs ?? 0 },
    rules: options.rules ?? [],
    delivery,
    close() {},
    broker,
    history,
    presence: {} as PresenceTracker,
    tracing: new Tracing('test'),
    counters,
    metrics: new NoopMetrics(),
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    clock: options.clock ?? systemClock,
  });
  return {
    registry,
    sent,
    tallies,
    prepared,
    connection: (id, batch, encoding = 'json') => {
      const socket = { encoding } as TransportSocket;
      const c = new Connection(id, null, 'v1', socket, '127.0.0.1', 0, undefined);
      c.batch = batch;
      return c;
    },
    positionGate: () => {
      const gate = gates.shift();
      assert.ok(gate !== undefined, 'a join is waiting for its position');
      return gate;
    },
    publish: (id, data, extra = {}) =>
      registry.onPublication({
        channel: 'c',
        json: JSON.stringify(data),
        time: 1,
        ephemeral: id === undefined,
        ...(id === undefined ? {} : { id, epoch: EPOCH }),
        ...extra,
      }),
    turn: () => new Promise((r) => setImmediate(r)),
    linesOf: (id) => sent.filter((s) => s.connection === id).flatMap((s) => s.lines),
  };
}

/** Join `connection` to channel `c` at `offset`, as the hub does (join, then release). */
async function join(h: ReturnType<typeof harness>, connection: Connection, offset: number): Promise<void> {
  const joining = h.registry.join(connection, 'c', undefined);
  await Promise.resolve();
  await Promise.resolve();
  h.positionGate()({ offset, epoch: EPOCH });
  const outcome = await joining;
  assert.ok(outcome.ok);
  h.registry.release(connection, 'c', outcome.value.position.offset, outcome.value.hold);
}

const ids = (lines: string[]): unknown[] =>
  lines
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .map((m) => m['id'] ?? (m['data'] as { e: number }).e);

describe('ChannelRegistry batching', () => {
  it("coalesces a turn's publications into one frame for batching members only", async () => {
    const h = harness();
    const a = h.connection('a', true);
    const b = h.connection('b', true);
    const plain = h.connection('p', false);
    for (const c of [a, b, plain]) await join(h, c, 0);
    for (let id = 1; id <= 3; id++) h.publish(id, { n: id });
    assert.equal(h.linesOf('a').length, 0, 'nothing before the end of the turn');
    assert.deepEqual(ids(h.linesOf('p')), [1, 2, 3]);
    await h.turn();
    const forA = h.sent.filter((s) => s.connection === 'a');
    assert.equal(forA.length, 1);
    assert.deepEqual(ids(forA[0]?.lines ?? []), [1, 2, 3]);
    assert.deepEqual(ids(h.linesOf('b')), [1, 2, 3]);
    assert.equal(h.sent.filter((s) => s.connection === 'p').length, 3);
    const batchTally = h.tallies.at(-1);
    assert.equal(batchTally?.weight, 3);
    assert.equal(batchTally?.delivered, 6, 'two members, three messages each');
  });

  it('renders each encoding once: one shared frame for every JSON member, one for every MessagePack member', async () => {
    const h = harness();
    const members = [
      h.connection('j1', true),
      h.connection('j2', true),
      h.connection('m1', true, 'msgpack'),
      h.connection('m2', true, 'msgpack'),
      h.connection('mp', false, 'msgpack'),
    ];
    for (const c of members) await join(h, c, 0);
    for (let id = 1; id <= 3; id++) h.publish(id, { n: id, bytes: { $base64: 'AQ==' } });
    // The plain MessagePack member got each message at once, one shared frame per message.
    assert.deepEqual(ids(h.linesOf('mp')), [1, 2, 3]);
    await h.turn();
    const frameOf = (id: string): PreparedFrame[] =>
      h.prepared.filter((p) => p.connection === id).map((p) => p.frame);
    const [json] = frameOf('j1');
    const [msgpack] = frameOf('m1');
    assert.ok(json !== undefined && msgpack !== undefined);
    assert.equal(frameOf('j2')[0], json, 'the JSON members share one frame');
    assert.equal(frameOf('m2')[0], msgpack, 'the MessagePack members share one frame');
    assert.deepEqual([json.binary, msgpack.binary], [false, true]);
    for (const id of ['j1', 'm1']) assert.deepEqual(ids(h.linesOf(id)), [1, 2, 3]);
    // Bytes travel as bin to MessagePack members and as their JSON form to JSON ones.
    const [first] = decodeServerFramesMsgpack(msgpack.payload);
    assert.ok(first?.type === 'message');
    assert.deepEqual(first.data, { n: 1, bytes: new Uint8Array([1]) });
    assert.match(json.payload.toString(), /"bytes":\{"\$base64":"AQ=="\}/);
  });

  it('a member whose join completes in the same turn gets a message once: from its hold, not the batch', async () => {
    const h = harness();
    const early = h.connection('early', true);
    await join(h, early, 0);
    const late = h.connection('late', true);
    const joining = h.registry.join(late, 'c', undefined);
    await Promise.resolve();
    await Promise.resolve();
    h.publish(1, { n: 1 }); // held for `late`, batched for `early`
    h.positionGate()({ offset: 0, epoch: EPOCH });
    const outcome = await joining;
    assert.ok(outcome.ok);
    h.registry.release(late, 'c', 0, outcome.value.hold);
    h.publish(2, { n: 2 });
    await h.turn();
    assert.deepEqual(ids(h.linesOf('late')), [1, 2]);
    assert.deepEqual(ids(h.linesOf('early')), [1, 2]);
  });

  it('a message that must travel alone (an exclusion) sends the waiting batch first', async () => {
    const h = harness();
    const a = h.connection('a', true);
    const b = h.connection('b', true);
    for (const c of [a, b]) await join(h, c, 0);
    h.publish(1, { n: 1 });
    h.publish(2, { n: 2 }, { exclude: { connectionId: 'b' } });
    h.publish(3, { n: 3 });
    await h.turn();
    assert.deepEqual(ids(h.linesOf('a')), [1, 2, 3]);
    assert.deepEqual(ids(h.linesOf('b')), [1, 3]);
  });

  it('a payload holding a raw newline is never batched', async () => {
    const h = harness();
    const a = h.connection('a', true);
    await join(h, a, 0);
    h.publish(1, { n: 1 });
    h.registry.onPublication({
      channel: 'c',
      json: '{\n"n":2}',
      time: 1,
      ephemeral: false,
      id: 2,
      epoch: EPOCH,
    });
    h.publish(3, { n: 3 });
    await h.turn();
    const frames = h.sent.filter((s) => s.connection === 'a').map((s) => s.lines.join('\n'));
    assert.equal(frames.length, 3);
    assert.ok(frames[1]?.includes('{\n"n":2}'), 'sent alone, as it is');
  });

  it('splits a batch into runs of reliable and ephemeral messages, in order', async () => {
    const h = harness();
    const a = h.connection('a', true);
    await join(h, a, 0);
    h.publish(1, { n: 1 });
    h.publish(2, { n: 2 });
    h.publish(undefined, { e: 10 });
    h.publish(undefined, { e: 11 });
    h.publish(3, { n: 3 });
    await h.turn();
    const frames = h.sent.filter((s) => s.connection === 'a');
    assert.deepEqual(
      frames.map((s) => [s.ephemeral, ids(s.lines)]),
      [
        [false, [1, 2]],
        [true, [10, 11]],
        [false, [3]],
      ],
    );
  });

  it('an unsubscribing member still gets what was published before it left', async () => {
    const h = harness();
    const a = h.connection('a', true);
    const b = h.connection('b', true);
    for (const c of [a, b]) await join(h, c, 0);
    h.publish(1, { n: 1 });
    h.registry.unsubscribe(a, 'c');
    h.publish(2, { n: 2 });
    await h.turn();
    assert.deepEqual(ids(h.linesOf('a')), [1]);
    assert.deepEqual(ids(h.linesOf('b')), [1, 2]);
  });

  it("a leaving batching member's position excludes the batch it was never written", async () => {
    const h = harness();
    const a = h.connection('a', true);
    const plain = h.connection('p', false);
    for (const c of [a, plain]) await join(h, c, 0);
    h.publish(1, { n: 1 });
    await h.turn();
    h.publish(2, { n: 2 });
    h.publish(3, { n: 3 });
    a.state = 'closing';
    plain.state = 'closing';
    assert.deepEqual(h.registry.leaveAll(a).get('c'), { offset: 1, epoch: EPOCH });
    assert.deepEqual(h.registry.leaveAll(plain).get('c'), { offset: 3, epoch: EPOCH });
  });
});

describe('ChannelRegistry batching with a batch delay', () => {
  const DELAY = 100;

  /** A harness on a fake clock with `c` delayed, and members joined at offset 0. */
  async function delayed(
    members: [string, boolean][],
    options: HarnessOptions = {},
  ): Promise<{ h: ReturnType<typeof harness>; clock: FakeClock; connections: Connection[] }> {
    const clock = new FakeClock();
    const h = harness({ batchDelayMs: DELAY, clock, ...options });
    const connections: Connection[] = [];
    for (const [id, batch] of members) {
      const connection = h.connection(id, batch);
      await join(h, connection, 0);
      connections.push(connection);
    }
    return { h, clock, connections };
  }

  /** The WebSocket messages `id` got, each as the ids of its frames. */
  const messagesOf = (h: ReturnType<typeof harness>, id: string): unknown[][] =>
    h.sent.filter((s) => s.connection === id).map((s) => ids(s.lines));

  it('writes a batch the delay after its first message, across turns; others get each message at once', async () => {
    const { h, clock } = await delayed([
      ['a', true],
      ['p', false],
    ]);
    h.publish(1, { n: 1 });
    await h.turn();
    clock.advance(60);
    h.publish(2, { n: 2 });
    await h.turn();
    clock.advance(DELAY - 60 - 1);
    assert.deepEqual(messagesOf(h, 'a'), [], 'nothing before the delay is up');
    assert.deepEqual(messagesOf(h, 'p'), [[1], [2]]);
    clock.advance(1);
    assert.deepEqual(messagesOf(h, 'a'), [[1, 2]], 'timed from the first message, not the last');
    assert.equal(clock.active.length, 0);
    h.publish(3, { n: 3 });
    clock.advance(DELAY);
    assert.deepEqual(messagesOf(h, 'a'), [[1, 2], [3]], 'the next message starts a new batch');
  });

  it('a rule overrides the server default, either way', async () => {
    const slow = harness({ rules: [{ pattern: 'c', batchDelayMs: DELAY }], clock: new FakeClock() });
    assert.equal(slow.registry.settings('c').batchDelayMs, DELAY);
    assert.equal(slow.registry.settings('other').batchDelayMs, 0);
    const fast = await delayed([['a', true]], { rules: [{ pattern: 'c', batchDelayMs: 0 }] });
    assert.equal(fast.h.registry.settings('c').batchDelayMs, 0);
    fast.h.publish(1, { n: 1 });
    fast.h.publish(2, { n: 2 });
    await fast.h.turn();
    assert.deepEqual(messagesOf(fast.h, 'a'), [[1, 2]], 'at the end of the turn');
    assert.equal(fast.clock.active.length, 0);
  });

  it(`a batch is written at once when it holds ${MAX_BATCH_MESSAGES} messages`, async () => {
    const { h, clock } = await delayed([['a', true]]);
    for (let id = 1; id <= MAX_BATCH_MESSAGES + 5; id++) h.publish(id, { n: id });
    const early = messagesOf(h, 'a');
    assert.equal(early.length, 1);
    assert.equal(early[0]?.length, MAX_BATCH_MESSAGES);
    assert.equal(early[0]?.[0], 1);
    clock.advance(DELAY);
    assert.deepEqual(
      messagesOf(h, 'a')[1],
      Array.from({ length: 5 }, (_, i) => MAX_BATCH_MESSAGES + 1 + i),
    );
  });

  it(`a batch is written at once when its frames reach ${MAX_BATCH_BYTES} bytes, the last one included`, async () => {
    const { h, clock } = await delayed([['a', true]]);
    const text = 'x'.repeat(100 * 1024);
    for (let id = 1; id <= 4; id++) h.publish(id, { text });
    assert.deepEqual(messagesOf(h, 'a'), [[1, 2, 3]], 'the third message crosses the limit');
    clock.advance(DELAY);
    assert.deepEqual(messagesOf(h, 'a'), [[1, 2, 3], [4]]);
  });

  it('a join writes the waiting batch to the members first; the newcomer gets only later messages', async () => {
    const { h, clock } = await delayed([['early', true]]);
    h.publish(1, { n: 1 });
    h.publish(2, { n: 2 });
    const late = h.connection('late', true);
    await join(h, late, 2);
    assert.deepEqual(messagesOf(h, 'early'), [[1, 2]], 'written at the join, before the delay');
    h.publish(3, { n: 3 });
    clock.advance(DELAY);
    assert.deepEqual(messagesOf(h, 'early'), [[1, 2], [3]]);
    assert.deepEqual(messagesOf(h, 'late'), [[3]]);
  });

  it('the last member leaving gets what it was owed and leaves no timer behind', async () => {
    const { h, clock, connections } = await delayed([['a', true]]);
    const [a] = connections;
    assert.ok(a !== undefined);
    h.publish(1, { n: 1 });
    assert.equal(clock.active.length, 1, 'one timer for the waiting batch');
    h.registry.unsubscribe(a, 'c');
    assert.equal(h.registry.size, 0, 'the channel is gone');
    assert.equal(clock.active.length, 0, 'and its timer with it');
    assert.deepEqual(messagesOf(h, 'a'), [[1]]);
    clock.advance(10 * DELAY);
    assert.equal(h.sent.length, 1);
  });

  it('a message that must travel alone sends the waiting batch first and cancels its timer', async () => {
    const { h, clock } = await delayed([
      ['a', true],
      ['b', true],
    ]);
    h.publish(1, { n: 1 });
    h.publish(2, { n: 2 }, { exclude: { connectionId: 'b' } });
    assert.equal(clock.active.length, 0);
    assert.deepEqual(messagesOf(h, 'a'), [[1], [2]]);
    assert.deepEqual(messagesOf(h, 'b'), [[1]]);
  });

  it('flushBatches writes every waiting batch now and cancels the timers', async () => {
    const { h, clock } = await delayed([['a', true]]);
    h.publish(1, { n: 1 });
    h.publish(2, { n: 2 });
    h.registry.flushBatches();
    assert.deepEqual(messagesOf(h, 'a'), [[1, 2]]);
    assert.equal(clock.active.length, 0);
  });
});
