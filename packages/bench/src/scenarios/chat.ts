/**
 * Chat: N members in rooms of k (N rounded down to a multiple of k), publishing to their rooms for
 * --duration-ms at --member-rate msgs/s per member on average; every member receives every message of
 * its room, its own included. Publishers take turns room by room (the first member of every room, then
 * the second, ...), so with a low member rate only a fraction of the members publish, spread over every
 * room.
 *
 * Built to run at scale (50,000+ connections over several generator processes): the members connect
 * first (at most --concurrency handshakes in flight, paced at --connect-rate per second if given) and
 * subscribe; traffic and every figure are measured only once all are in. Reported: latency percentiles
 * over every delivery, loss, the target's CPU, its memory per connection (RSS over the baseline
 * before connecting; the whole process tree for multi-process targets, without GC), connections held at
 * the end, failures, unexpected closes and heartbeat pings answered.
 */
import type { BenchOptions } from '../options.js';
import type { RunResult } from '../report/result.js';
import { Histogram } from '../stats/histogram.js';
import { cpuMicros, cpuPercent, drain, lossPercent, ms, unexpectedNotes, sleep } from './measure.js';
import type { Scenario, ScenarioContext } from './scenario.js';

const KB = 1024;

/** Rooms of `--room-size` members exchanging messages: what chat and churn share, after defaults. */
export function roomTraffic(options: BenchOptions): {
  members: number;
  roomSize: number;
  memberRate: number;
  durationMs: number;
  payloadBytes: number;
} {
  const roomSize = options.roomSize;
  const requested = options.connections ?? (options.quick ? 200 : 2000);
  return {
    members: Math.max(roomSize, Math.floor(requested / roomSize) * roomSize),
    roomSize,
    memberRate: options.memberRate,
    durationMs: options.durationMs ?? (options.quick ? 3000 : 10_000),
    payloadBytes: options.payloadBytes,
  };
}

/** The chat workload after defaults. */
export function chatParams(options: BenchOptions): ReturnType<typeof roomTraffic> & { connectRate: number } {
  return { ...roomTraffic(options), connectRate: options.connectRate ?? 0 };
}

/**
 * Connect `members` in steps of one second's worth at `connectRate` (0: all at once, bounded only by
 * `concurrency`); returns how many are ready and how many failed.
 */
async function connectMembers(
  context: ScenarioContext,
  fleet: Awaited<ReturnType<ScenarioContext['startFleet']>>,
  members: number,
  connectRate: number,
): Promise<{ ready: number; failed: number; seconds: number }> {
  const started = performance.now();
  const step = connectRate > 0 ? Math.max(1, Math.round(connectRate)) : members;
  let ready = 0;
  let failed = 0;
  for (let done = 0; done < members; done += step) {
    const count = Math.min(step, members - done);
    const stepStarted = performance.now();
    const result = await fleet.connect(count, context.options.concurrency, 120_000);
    ready += result.ready;
    failed += result.failed;
    context.progress(`connected ${ready} of ${members}${failed > 0 ? ` (${failed} failed)` : ''}`);
    if (connectRate > 0) await sleep(Math.max(0, 1000 - (performance.now() - stepStarted)));
  }
  return { ready, failed, seconds: (performance.now() - started) / 1000 };
}

async function run(context: ScenarioContext): Promise<RunResult> {
  const params = chatParams(context.options);
  const rooms = { kind: 'groups', prefix: 'chat-', size: params.roomSize } as const;
  const target = await context.startTarget();
  await sleep(300);
  const base = await target.stats(false);
  const fleet = await context.startFleet(target, params.members);
  context.progress(`connecting ${params.members} members over ${fleet.size} generators`);
  const connected = await connectMembers(context, fleet, params.members, params.connectRate);
  if (connected.failed > 0) {
    throw new Error(
      `${connected.failed} of ${params.members} members failed to connect ` +
        `(${connected.ready} ready after ${connected.seconds.toFixed(1)} s)`,
    );
  }
  await fleet.subscribe({ first: 0, count: params.members }, rooms, 120_000);
  // Let the connect and subscribe backlog settle before anything is measured.
  await sleep(1000);
  const setup = await fleet.counters(false, false);
  const loaded = await target.stats(false);
  const rate = params.members * params.memberRate;
  const messages = Math.round((rate * params.durationMs) / 1000);
  context.progress(
    `${params.members / params.roomSize} rooms of ${params.roomSize}, ${rate} msgs/s in total ` +
      `(${rate * params.roomSize} deliveries/s) for ${params.durationMs} ms`,
  );
  await fleet.counters(true, false);
  const before = await target.stats(true);
  const started = performance.now();
  const published = await fleet.publish(
    { first: 0, count: params.members },
    rooms,
    rate,
    messages,
    params.payloadBytes,
  );
  const expected = published * params.roomSize;
  await drain(fleet, expected);
  const seconds = (performance.now() - started) / 1000;
  const after = await target.stats(true);
  const counters = await fleet.counters(true, true);
  const latency = counters.latency === null ? new Histogram() : Histogram.from(counters.latency);
  const notes: string[] = unexpectedNotes(setup).map((n) => `connect and subscribe phase: ${n}`);
  if (published < messages) notes.push(`published ${published} of ${messages} messages`);
  notes.push(...unexpectedNotes(counters));
  if (counters.open < params.members)
    notes.push(`${counters.open} of ${params.members} connections open at the end`);
  return {
    metrics: {
      held: counters.open,
      connectRate: connected.ready / connected.seconds,
      errors: connected.failed + setup.unexpectedCloses + setup.subscribeFailures + counters.unexpectedCloses,
      subscribeErrors: setup.subscribeErrors,
      pings: counters.pings,
      pingsPerSecond: counters.pings / seconds,
      delivered: counters.received / seconds,
      p50: ms(latency.percentile(50)),
      p95: ms(latency.percentile(95)),
      p99: ms(latency.percentile(99)),
      max: ms(latency.max),
      loss: lossPercent(expected, counters.received),
      cpuPercent: cpuPercent(before, after),
      cpuPerDelivery: counters.received === 0 ? NaN : cpuMicros(before, after) / counters.received,
      rssPerConnection: (loaded.rss - base.rss) / params.members / KB,
      rssTotal: after.rss / KB / KB,
    },
    series: {},
    notes,
  };
}

/** The chat scenario. */
export const chat: Scenario = {
  name: 'chat',
  description: 'many rooms of k members, each member publishing at a fixed rate: latency, loss, CPU',
  metrics: [
    { key: 'held', label: 'connections held at the end', unit: '', better: 'higher', digits: 0 },
    { key: 'connectRate', label: 'connect rate (connect phase)', unit: '/s', better: 'higher', digits: 0 },
    {
      key: 'errors',
      label: 'errors (failed connects, subscribes given up, unexpected closes)',
      unit: '',
      better: 'lower',
      digits: 0,
    },
    {
      key: 'subscribeErrors',
      label: 'subscribes refused by the server (then retried)',
      unit: '',
      better: 'lower',
      digits: 0,
    },
    {
      key: 'pings',
      label: 'heartbeat pings answered (traffic phase)',
      unit: '',
      better: 'higher',
      digits: 0,
    },
    { key: 'pingsPerSecond', label: 'heartbeat pings answered', unit: '/s', better: 'higher', digits: 0 },
    { key: 'delivered', label: 'delivered', unit: 'msgs/s', better: 'higher', digits: 0 },
    { key: 'p50', label: 'latency p50', unit: 'ms', better: 'lower', digits: 2 },
    { key: 'p95', label: 'latency p95', unit: 'ms', better: 'lower', digits: 2 },
    { key: 'p99', label: 'latency p99', unit: 'ms', better: 'lower', digits: 2 },
    { key: 'max', label: 'latency max', unit: 'ms', better: 'lower', digits: 1 },
    { key: 'loss', label: 'loss', unit: '%', better: 'lower', digits: 3 },
    { key: 'cpuPercent', label: 'server CPU', unit: '% of a core', better: 'lower', digits: 1 },
    {
      key: 'cpuPerDelivery',
      label: 'server CPU per delivery (publish handling and heartbeats included)',
      unit: 'µs',
      better: 'lower',
      digits: 2,
    },
    { key: 'rssPerConnection', label: 'RSS per connection (no GC)', unit: 'KB', better: 'lower', digits: 2 },
    { key: 'rssTotal', label: 'RSS at the end', unit: 'MB', better: 'lower', digits: 0 },
  ],
  charts: [],
  params: (options) => ({ ...chatParams(options) }),
  run,
};
