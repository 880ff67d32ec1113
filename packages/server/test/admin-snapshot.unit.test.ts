/**
 * The admin dashboard's data, pure parts: a node's snapshot and its rates from counter deltas, the book
 * of snapshots (this node's last 150, every live node's latest), search and user detail over a node's
 * connections and their merge across nodes, and questions to the other nodes with a deadline (`partial`).
 * Time comes from a fake clock.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { IDLE_HISTORY_READS } from '../src/history/history-read-pacing.js';
import { AdminTally } from '../src/admin/admin-tally.js';
import { SnapshotTaker } from '../src/admin/node-snapshot.js';
import type { NodeSnapshot, SnapshotSources, StatsView } from '../src/admin/node-snapshot.js';
import { HISTORY_KEPT, SnapshotBook } from '../src/admin/snapshot-book.js';
import { mergeSearch, readSearchResult, searchLocal, userConnections } from '../src/admin/local-directory.js';
import type { LocalConnection } from '../src/admin/local-directory.js';
import { ADMIN_CALLS_CHANNEL, AdminCalls, adminAnswersChannel } from '../src/admin/admin-calls.js';
import type { AdminQuestion } from '../src/admin/admin-calls.js';
import { silentLogger } from '../src/util/logger.js';
import { FakeClock } from './fake-clock.js';

/** Counters a test moves between snapshots. */
function stats(
  over: Partial<StatsView['messages']> & { errors?: number; accepted?: number } = {},
): StatsView {
  return {
    state: 'running',
    connections: 3,
    users: 2,
    channels: { total: 12, list: Array.from({ length: 12 }, (_, i) => channel(`c${i}`, 12 - i)) },
    messages: { received: 0, published: 0, delivered: 0, dropped: 0, ...over },
    errors: over.errors ?? 0,
    connectionsAccepted: over.accepted ?? 0,
    recentErrors: Array.from({ length: 15 }, (_, i) => ({ code: `e${i}`, time: i })),
    historyReads: IDLE_HISTORY_READS,
  };
}

function channel(name: string, members: number) {
  return { name, members, messagesInPerSecond: 1, messagesOutPerSecond: members };
}

describe('node snapshots', () => {
  it('rates are counter deltas over the time since the previous snapshot; totals since start', () => {
    const clock = new FakeClock();
    const tally = new AdminTally();
    let current = stats();
    let cpu = 0;
    const sources: SnapshotSources = {
      nodeId: 'n1',
      intervalMs: 2000,
      startedAt: () => 5,
      stats: () => current,
      readiness: () => ({ ready: false, reason: 'redis unreachable' }),
      health: () => ({
        status: 'degraded',
        reasons: [{ message: 'event loop delay p99 300 ms over 200 ms' }],
        memory: { rssBytes: 100, heapUsedBytes: 50 },
      }),
      loopDelay: () => ({ p50Ms: 1, p99Ms: 300, maxMs: 400 }),
      latency: () => ({ samples: 4, values: [1, 5, 10] }),
      engineHealth: () => ({ ready: false, reason: 'redis unreachable', details: { lastProbeRttMs: 3 } }),
      tally,
      cpuUsage: () => ({ user: cpu, system: 0 }),
    };
    const taker = new SnapshotTaker(sources, clock.now());
    clock.advance(2000);
    current = stats({ received: 10, published: 4, delivered: 40, dropped: 2, errors: 1, accepted: 6 });
    tally.opened('websocket');
    tally.opened('sse');
    tally.closed('websocket', 4000, 'server');
    tally.closed('polling', 4001, 'server');
    tally.closed('sse', 1006, 'client');
    cpu = 1_000_000; // one second of CPU in two of wall time
    const s = taker.take(clock.now());
    assert.deepEqual(s.rates, {
      inPerSec: 5,
      outPerSec: 20,
      publishedPerSec: 2,
      droppedPerSec: 1,
      errorsPerSec: 0.5,
      acceptedPerSec: 3,
      heartbeatEvictionsPerSec: 0.5,
      slowConsumersPerSec: 0.5,
    });
    assert.equal(s.cpuPercent, 50);
    assert.deepEqual(s.transports, { websocket: 0, sse: 0, polling: 0 });
    assert.deepEqual(s.closeCodes, { 1006: 1, 4000: 1, 4001: 1 });
    assert.deepEqual(s.latencyMs, { p50: 1, p95: 5, p99: 10 });
    assert.deepEqual(s.redis, { ready: false, reason: 'redis unreachable', probeRttMs: 3 });
    assert.equal(s.historyReads, null, 'memory engine: reads are not paced');
    assert.deepEqual(s.health, { status: 'degraded', reasons: ['event loop delay p99 300 ms over 200 ms'] });
    assert.deepEqual([s.ready, s.readyReason], [false, 'redis unreachable']);
    assert.equal(s.topChannels.length, 10);
    assert.deepEqual(s.topChannels[0], { name: 'c0', members: 12, inPerSec: 1, outPerSec: 12 });
    assert.deepEqual(
      s.recentErrors.map((e) => e.code),
      ['e5', 'e6', 'e7', 'e8', 'e9', 'e10', 'e11', 'e12', 'e13', 'e14'],
    );
    // The next interval: nothing happened, every rate is 0 and the totals stay.
    clock.advance(1000);
    const next = taker.take(clock.now());
    assert.ok(Object.values(next.rates).every((r) => r === 0));
    assert.equal(next.totals.received, 10);
    assert.equal(JSON.parse(JSON.stringify(next)).nodeId, 'n1', 'a snapshot is plain JSON');
  });
});

function snapshot(nodeId: string, time: number, intervalMs = 1000): NodeSnapshot {
  return { nodeId, time, intervalMs } as NodeSnapshot;
}

describe('the snapshot book', () => {
  it(`keeps this node's last ${HISTORY_KEPT} and every live node's latest; a node silent for 3 intervals is gone`, () => {
    const book = new SnapshotBook('a');
    for (let i = 0; i < HISTORY_KEPT + 5; i++) book.recordOwn(snapshot('a', i), 0);
    assert.equal(book.history().length, HISTORY_KEPT);
    assert.equal(book.history()[0]?.time, 5, 'oldest first');
    book.recordPublished(JSON.stringify(snapshot('b', 1)), 0);
    book.recordPublished(JSON.stringify(snapshot('b', 2)), 1000);
    book.recordPublished(JSON.stringify(snapshot('a', 99)), 1000); // its own, heard on the channel: ignored
    for (const junk of ['nope', '{}', '{"nodeId":"c","time":1}', '[]', 'null'])
      book.recordPublished(junk, 1000);
    assert.deepEqual(
      book.nodes(1000).map((s) => [s.nodeId, s.time]),
      [
        ['a', HISTORY_KEPT + 4],
        ['b', 2],
      ],
    );
    assert.deepEqual(book.others(1000), ['b']);
    assert.deepEqual(book.others(4001), [], 'b: no snapshot for more than 3 of its intervals');
  });
});

function conn(id: string, userId: string | null, channels: string[], connectedAt = 1): LocalConnection {
  return {
    id,
    userId,
    transport: 'websocket',
    remoteAddress: '10.0.0.1',
    connectedAt,
    channels: () => channels,
  };
}

describe('search and user detail', () => {
  const directory = {
    connections: [
      conn('n-1', 'alice', ['chat:1']),
      conn('n-2', 'alice', []),
      conn('n-3', 'malice', []),
      conn('n-4', null, ['$admin:nodes']),
    ],
    channels: () => [
      { name: 'chat:1', members: 1 },
      { name: 'chat:2', members: 5 },
      { name: '$admin:nodes', members: 1 },
    ],
  };

  it('a case-sensitive substring of channel names and user ids; reserved channels never listed', () => {
    assert.deepEqual(searchLocal(directory, 'lice'), {
      channels: [],
      users: [
        { userId: 'alice', connections: 2 },
        { userId: 'malice', connections: 1 },
      ],
    });
    assert.deepEqual(searchLocal(directory, 'chat').channels, [
      { name: 'chat:2', members: 5 },
      { name: 'chat:1', members: 1 },
    ]);
    assert.deepEqual(searchLocal(directory, 'Chat'), { channels: [], users: [] });
    assert.deepEqual(searchLocal(directory, 'admin'), { channels: [], users: [] });
    assert.equal(searchLocal(directory, 'c', 1).channels.length, 1);
  });

  it("several nodes' answers merge: members and connections summed, at most the limit", () => {
    const merged = mergeSearch([
      { channels: [{ name: 'x', members: 2 }], users: [{ userId: 'u', connections: 1 }] },
      {
        channels: [
          { name: 'x', members: 3 },
          { name: 'y', members: 1 },
        ],
        users: [{ userId: 'u', connections: 2 }],
      },
    ]);
    assert.deepEqual(merged, {
      channels: [
        { name: 'x', members: 5 },
        { name: 'y', members: 1 },
      ],
      users: [{ userId: 'u', connections: 3 }],
    });
    assert.equal(readSearchResult({ channels: [{ name: 1 }], users: [] }), null);
    assert.equal(readSearchResult('x'), null);
  });

  it("a user's connections list their node, transport, address, start and channels (not reserved ones)", () => {
    assert.deepEqual(userConnections([conn('n-1', 'alice', ['chat:1', '$admin:x'], 7)], 'n'), [
      {
        id: 'n-1',
        nodeId: 'n',
        transport: 'websocket',
        address: '10.0.0.1',
        connectedAt: 7,
        channels: ['chat:1'],
      },
    ]);
  });
});

/** The node `id` of a test cluster. */
function node(nodes: ReadonlyMap<string, AdminCalls>, id: string): AdminCalls {
  const calls = nodes.get(id);
  if (calls === undefined) throw new Error(`no node ${id}`);
  return calls;
}

describe('questions to the other nodes', () => {
  /** Nodes wired to one in-memory "broker": what one publishes, every other one hears. */
  function cluster(ids: string[], clock: FakeClock, answering = new Set(ids)) {
    const nodes = new Map<string, AdminCalls>();
    const published: string[] = [];
    for (const id of ids) {
      nodes.set(
        id,
        new AdminCalls({
          nodeId: id,
          publish: (channel, json) => {
            published.push(channel);
            for (const [other, calls] of nodes) {
              if (channel === ADMIN_CALLS_CHANNEL && answering.has(other)) calls.onQuestion(json);
              if (channel === adminAnswersChannel(other)) calls.onAnswer(json);
            }
            return Promise.resolve();
          },
          answer: (q: AdminQuestion) => `${id}:${q.op}`,
          deadlineMs: 1000,
          clock,
          logger: silentLogger,
        }),
      );
    }
    return { nodes, published };
  }

  it('every expected node answers: no wait, not partial', async () => {
    const clock = new FakeClock();
    const { nodes } = cluster(['a', 'b', 'c'], clock);
    const gathered = await node(nodes, 'a').ask({ op: 'search', q: 'x' }, ['b', 'c']);
    assert.equal(gathered.partial, false);
    assert.deepEqual(Object.fromEntries(gathered.answers), { a: 'a:search', b: 'b:search', c: 'c:search' });
  });

  it('a node that does not answer: the deadline ends the wait, with what came, partial', async () => {
    const clock = new FakeClock();
    const { nodes } = cluster(['a', 'b', 'c'], clock, new Set(['a', 'b']));
    const asked = node(nodes, 'a').ask({ op: 'user', userId: 'u' }, ['b', 'c']);
    clock.advance(1000);
    const gathered = await asked;
    assert.equal(gathered.partial, true);
    assert.deepEqual([...gathered.answers.keys()].sort(), ['a', 'b']);
  });

  it('alone (the memory engine): answered at once, nothing published', async () => {
    const clock = new FakeClock();
    const { nodes, published } = cluster(['a'], clock);
    const gathered = await node(nodes, 'a').ask({ op: 'search', q: 'x' }, []);
    assert.deepEqual([gathered.partial, published], [false, []]);
  });
});
