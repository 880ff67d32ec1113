/**
 * "Never lose a message across reconnects", end to end. A publisher sends thousands of messages on one
 * channel (plus some on a second) while clients are cut off at random moments (seeded), for real: each
 * client talks to the server through its own TCP proxy, which destroys the client's side (sometimes
 * leaving the server's side up for a while, so a resume replaces a connection the server still holds),
 * turns reconnects away for a while, or the server kicks the connection with 4002. Some clients resume
 * their session, some do not; two are cut before their first message.
 *
 * Every client must end with the full sequence 1..N of both channels, in order, without duplicates. With
 * a history large enough to cover every outage, nothing may be reported lost; with a tiny history and
 * long outages, losses must be reported, each exactly where the history window was exceeded, and each
 * client must continue in order from the position it was given.
 *
 * Replay a failure with SWITCHBOARD_SEED=<the seed in the failure message>.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SwitchboardClient } from '../src/index.js';
import type { StateLostEvent, Subscription } from '../src/index.js';
import { startServer } from './helpers.js';
import type { TestServer } from './helpers.js';
import { seededRandom, testSeed } from './seeded-random.js';
import { spy } from './socket-spy.js';
import type { Spy } from './socket-spy.js';
import { TcpProxy } from './tcp-proxy.js';

const CHANNELS = { main: 'stream:main', side: 'stream:side' } as const;
type ChannelKey = keyof typeof CHANNELS;

/** What one subscription delivered, in order: messages and state losses. */
type LogEntry =
  | { readonly kind: 'message'; readonly id: number }
  | { readonly kind: 'lost'; readonly event: StateLostEvent };

interface Scenario {
  readonly name: string;
  readonly clients: number;
  /** Messages on the main channel; every tenth also goes to the side channel. */
  readonly messages: number;
  readonly historySize: number;
  /** Chance per batch that one random client is cut. */
  readonly cutChance: number;
  /** Chance that a cut is a long outage (reconnects refused for 5 to 15 batches). */
  readonly longChance: number;
}

interface Subject {
  readonly index: number;
  readonly client: SwitchboardClient;
  readonly proxy: TcpProxy;
  readonly wire: Spy;
  readonly logs: Record<ChannelKey, LogEntry[]>;
  readonly last: Record<ChannelKey, number>;
  connects: number;
  resumes: number;
  /** The latest state changes of the client and its subscriptions, for a failure message. */
  readonly trace: string[];
  refusedUntilBatch: number;
}

async function run(scenario: Scenario, diagnostic: (message: string) => void): Promise<void> {
  const seed = testSeed();
  const random = seededRandom(seed);
  const tag = `[${scenario.name}, seed ${seed}; replay with SWITCHBOARD_SEED=${seed}]`;
  const started = performance.now();
  const t: TestServer = await startServer({
    heartbeatIntervalMs: 100,
    heartbeatTimeoutMs: 300,
    historySize: scenario.historySize,
    shutdownTimeoutMs: 200,
  });
  const totals: Record<ChannelKey, number> = {
    main: scenario.messages,
    side: Math.floor(scenario.messages / 10),
  };
  const subjects: Subject[] = [];
  const cuts = { cut: 0, orphan: 0, kick: 0, long: 0 };
  let progress = (): void => {};
  try {
    for (let index = 0; index < scenario.clients; index++) {
      const proxy = await TcpProxy.start(t.url);
      const wire = spy();
      const client = new SwitchboardClient(proxy.url(t.url), {
        WebSocket: wire.WebSocket,
        requestTimeoutMs: 3000,
        resume: index % 3 !== 2,
        backoff: { minDelayMs: 5, maxDelayMs: 40, minUptimeMs: 100, random },
      });
      const subject: Subject = {
        index,
        client,
        proxy,
        wire,
        logs: { main: [], side: [] },
        last: { main: 0, side: 0 },
        connects: 0,
        resumes: 0,
        trace: [],
        refusedUntilBatch: -1,
      };
      const note = (line: string): void => {
        subject.trace.push(`${Math.round(performance.now() - started)}ms ${line}`);
        if (subject.trace.length > 60) subject.trace.shift();
      };
      client.on('state', (c) => note(`client ${c.from}>${c.to} ${c.code} ${c.reason}`));
      client.on('connected', (info) => {
        subject.connects += 1;
        if (info.resumed) subject.resumes += 1;
      });
      for (const key of ['main', 'side'] as const) {
        const sub: Subscription<number> = client.subscription<number>(CHANNELS[key]);
        sub.on('state', (c) =>
          note(`${key} ${c.from}>${c.to} ${c.code} ${c.reason} at ${sub.position?.offset ?? '-'}`),
        );
        sub.on('subscribed', (e) => note(`${key} subscribed ${JSON.stringify(e)}`));
        sub.on('stateLost', (e) => note(`${key} stateLost ${JSON.stringify(e)}`));
        sub.subscribe();
        sub.on('message', (m) => {
          if (m.id === undefined) return;
          subject.logs[key].push({ kind: 'message', id: m.id });
          subject.last[key] = m.id;
          progress();
        });
        sub.on('stateLost', (event) => {
          subject.logs[key].push({ kind: 'lost', event });
          subject.last[key] = event.position.offset;
          progress();
        });
      }
      subjects.push(subject);
    }
    await Promise.all(subjects.map((s) => s.client.connect()));
    await Promise.all(
      subjects.flatMap((s) => s.client.subscriptions().map((sub) => sub.ready({ timeoutMs: 5000 }))),
    );

    // Two clients lose their connection before their first message: recovery starts from the position
    // of the subscribe reply (Socket.IO's recovery has nothing to start from in this case).
    for (const s of subjects.slice(0, 2)) s.proxy.cut();

    let batch = 0;
    for (let id = 1; id <= scenario.messages; batch++) {
      const size = 1 + Math.floor(random() * 20);
      for (let i = 0; i < size && id <= scenario.messages; i++, id++) {
        await t.server.publish(CHANNELS.main, id);
        if (id % 10 === 0) await t.server.publish(CHANNELS.side, id / 10);
      }
      for (const s of subjects) {
        if (s.refusedUntilBatch === batch) s.proxy.admit();
      }
      if (random() < scenario.cutChance) {
        const s = subjects[Math.floor(random() * subjects.length)];
        const roll = random();
        if (s === undefined) throw new Error('unreachable');
        if (random() < scenario.longChance && s.refusedUntilBatch < batch) {
          cuts.long += 1;
          s.proxy.refuse();
          s.refusedUntilBatch = batch + 5 + Math.floor(random() * 11);
          s.proxy.cut();
        } else if (roll < 0.5) {
          cuts.cut += 1;
          s.proxy.cut();
        } else if (roll < 0.75) {
          cuts.orphan += 1;
          s.proxy.cut({ orphanMs: 20 + Math.floor(random() * 180) });
        } else {
          const connectionId = s.client.connection?.connectionId;
          if (connectionId !== undefined) {
            cuts.kick += 1;
            await t.server.disconnectConnection(connectionId, { code: 4002, reason: 'rebalance' });
          }
        }
      }
      // Let the sockets move: every batch lands on the wire before the next one is published.
      await new Promise((resolve) => setImmediate(resolve));
    }
    for (const s of subjects) s.proxy.admit();
    const publishedMs = performance.now() - started;

    // Every client catches up (bounded): the last id of both channels, or a loss that jumps past it.
    const done = (): boolean =>
      subjects.every((s) => s.last.main >= totals.main && s.last.side >= totals.side);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        progress = () => {};
        const where = subjects.map(
          (s) =>
            `client ${s.index}: ${s.client.state}, main ${s.last.main}, side ${s.last.side}; ` +
            s.client
              .subscriptions()
              .map((sub) => `${sub.channel} ${sub.state} at ${sub.position?.offset ?? 'none'}`)
              .join(', ') +
            (s.last.main < totals.main || s.last.side < totals.side ? `\n  ${s.trace.join('\n  ')}` : ''),
        );
        reject(new Error(`${tag} clients did not catch up within 20 s:\n${where.join('\n')}`));
      }, 20_000);
      progress = () => {
        if (!done()) return;
        clearTimeout(timer);
        progress = () => {};
        resolve();
      };
      progress();
    });

    let lost = 0;
    for (const s of subjects) {
      for (const key of ['main', 'side'] as const) {
        try {
          lost += check(s.logs[key], totals[key], scenario.historySize, `${tag} client ${s.index} ${key}`);
        } catch (error) {
          throw new Error(
            `${String(error)}\nlatest events of client ${s.index}:\n  ${s.trace.join('\n  ')}`,
            {
              cause: error,
            },
          );
        }
      }
      assert.ok(s.wire.maxLive <= 1, `${tag} client ${s.index} held ${s.wire.maxLive} sockets at once`);
    }
    // A cut in the last batch may land after the client had everything: it still comes back.
    await within(5000, Promise.all(subjects.map((s) => s.client.connect())), `${tag} clients reconnect`);
    const reconnects = subjects.reduce((n, s) => n + s.connects - 1, 0);
    const resumes = subjects.reduce((n, s) => n + s.resumes, 0);
    const elapsed = Math.round(performance.now() - started);
    diagnostic(
      `${scenario.name}: seed ${seed}, ${scenario.clients} clients, ${totals.main} + ${totals.side} messages, ` +
        `history ${scenario.historySize}; cuts ${JSON.stringify(cuts)}; ${reconnects} reconnects ` +
        `(${resumes} resumed); ${lost} state losses; published in ${Math.round(publishedMs)} ms, done in ${elapsed} ms`,
    );
    assert.ok(reconnects >= 2, `${tag} only ${reconnects} reconnects`);
    if (scenario.longChance === 0) assert.equal(lost, 0, `${tag} nothing may be lost with a large history`);
    else assert.ok(lost > 0, `${tag} long outages with a tiny history must report losses`);
  } finally {
    progress = () => {};
    for (const s of subjects) s.client.close();
    await Promise.all(subjects.map((s) => s.proxy.close()));
    await t.stop();
  }
}

/** `promise`, or a failure naming `what` after `ms`. */
async function within<T>(ms: number, promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Check one subscription's log: every message is the one after the last (so in order, no duplicates),
 * every loss starts exactly where delivery stopped and skips more than the history held, and the log
 * reaches `total`. Returns the number of losses.
 */
function check(log: readonly LogEntry[], total: number, historySize: number, where: string): number {
  let last = 0;
  let lost = 0;
  for (const [i, entry] of log.entries()) {
    if (entry.kind === 'message') {
      if (entry.id !== last + 1) {
        const context = log
          .slice(Math.max(0, i - 5), i + 3)
          .map((e) => (e.kind === 'message' ? e.id : 'lost'));
        assert.fail(`${where}: message ${entry.id} after ${last} (around: ${JSON.stringify(context)})`);
      }
      last = entry.id;
      continue;
    }
    lost += 1;
    const { since, position } = entry.event;
    assert.equal(since.offset, last, `${where}: a loss must start where delivery stopped`);
    assert.ok(
      position.offset - since.offset > historySize,
      `${where}: reported lost from ${since.offset} to ${position.offset}, within a history of ${historySize}`,
    );
    last = position.offset;
  }
  assert.equal(last, total, `${where}: ended at ${last}, not ${total}`);
  return lost;
}

describe('recovery under random cuts', { timeout: 90_000 }, () => {
  it('8 clients, 3000 + 300 messages, history covering every outage: the full sequence everywhere, nothing lost', async (t) => {
    await run(
      {
        name: 'large history',
        clients: 8,
        messages: 3000,
        historySize: 5000,
        cutChance: 0.15,
        longChance: 0,
      },
      (m) => t.diagnostic(m),
    );
  });

  it('8 clients, 3000 + 300 messages, history of 20 and long outages: losses reported exactly where history ran out', async (t) => {
    await run(
      { name: 'tiny history', clients: 8, messages: 3000, historySize: 20, cutChance: 0.15, longChance: 0.4 },
      (m) => t.diagnostic(m),
    );
  });
});
