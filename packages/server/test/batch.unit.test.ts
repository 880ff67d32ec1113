// ChannelRegistry's batching, driven step by step: a fake host records every write, and the history
// store answers only when the test says so, so publications can land in the middle of a join.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { StreamPosition } from '@switchboard/protocol';
import { ChannelRegistry } from '../src/hub/channel-registry.js';
import type { ChannelHost } from '../src/hub/channel-registry.js';
import { Connection } from '../src/hub/connection.js';
import type { Delivery } from '../src/hub/outbound.js';
import type { HubCounters } from '../src/hub/hub-stats.js';
import type { PresenceTracker } from '../src/hub/presence-tracker.js';
import type { Broker, Publication } from '../src/broker/broker.js';
import type { HistoryStore } from '../src/history/history-store.js';
import type { PresenceStore } from '../src/presence/presence-store.js';
import { DEFAULT_LIMITS } from '../src/server-options.js';
import { systemClock } from '../src/util/clock.js';
import type { PreparedFrame, TransportSocket } from '../src/transports/transport.js';

const EPOCH = 'e1';

/** One WebSocket message as a connection would get it: its frames' texts. */
type Sent = { connection: string; lines: string[]; ephemeral: boolean };

function harness(): {
  registry: ChannelRegistry;
  sent: Sent[];
  tallies: Delivery[];
  connection: (id: string, batch: boolean) => Connection;
  positionGate: () => (position: StreamPosition) => void;
  publish: (id: number | undefined, data: unknown, extra?: Partial<Publication>) => void;
  turn: () => Promise<void>;
  linesOf: (connection: string) => string[];
} {
  const sent: Sent[] = [];
  const tallies: Delivery[] = [];
  const gates: ((position: StreamPosition) => void)[] = [];
  const counters = { recoveries: 0, recoveryFailures: 0, streamResets: 0 } as HubCounters;
  const host: ChannelHost = {
    limits: DEFAULT_LIMITS,
    counters,
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    write(connection, frame, ephemeral) {
      sent.push({ connection: connection.id, lines: frame.toString().split('\n'), ephemeral });
      return true;
    },
    writePrepared(connection, frame: PreparedFrame, ephemeral, tally) {
      sent.push({ connection: connection.id, lines: frame.payload.toString().split('\n'), ephemeral });
      tally.delivered += tally.weight;
    },
    settle(tally) {
      tallies.push(tally);
    },
    writeFrame() {},
    close() {},
    delivered() {},
    streamReset() {},
    clock: systemClock,
  };
  const broker = {
    subscribe: () => Promise.resolve(),
    unsubscribe: () => Promise.resolve(),
  } as unknown as Broker;
  const history = {
    position: () => new Promise<StreamPosition>((resolve) => gates.push(resolve)),
  } as unknown as HistoryStore;
  const registry = new ChannelRegistry(host, [], broker, history, {} as PresenceStore, {} as PresenceTracker);
  const socket = {} as TransportSocket;
  return {
    registry,
    sent,
    tallies,
    connection: (id, batch) => {
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
