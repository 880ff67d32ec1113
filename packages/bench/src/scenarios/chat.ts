/**
 * Chat: N members in rooms of k (N rounded down to a multiple of k), every member publishing to its
 * room at --member-rate msgs/s for --duration-ms; every member receives every message of its room,
 * its own included. Latency percentiles over every delivery, loss, and the target's CPU.
 */
import type { BenchOptions } from '../options.js';
import type { RunResult } from '../report/result.js';
import { Histogram } from '../stats/histogram.js';
import { cpuMicros, cpuPercent, drain, lossPercent, ms } from './measure.js';
import type { Scenario, ScenarioContext } from './scenario.js';

/** The chat workload after defaults. */
export function chatParams(options: BenchOptions): {
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

async function run(context: ScenarioContext): Promise<RunResult> {
  const params = chatParams(context.options);
  const rooms = { kind: 'groups', prefix: 'chat-', size: params.roomSize } as const;
  const target = await context.startTarget();
  const fleet = await context.startFleet(target, params.members);
  context.progress(`connecting ${params.members} members`);
  const members = await fleet.connect(params.members, context.options.concurrency, 60_000);
  if (members.failed > 0) throw new Error(`${members.failed} members failed to connect`);
  await fleet.subscribe(members.range, rooms, 60_000);
  const rate = params.members * params.memberRate;
  const messages = Math.round((rate * params.durationMs) / 1000);
  context.progress(
    `${params.members / params.roomSize} rooms of ${params.roomSize}, ${rate} msgs/s in total`,
  );
  await fleet.counters(true, false);
  const before = await target.stats(true);
  const started = performance.now();
  const published = await fleet.publish(members.range, rooms, rate, messages, params.payloadBytes);
  const expected = published * params.roomSize;
  await drain(fleet, expected);
  const seconds = (performance.now() - started) / 1000;
  const after = await target.stats(true);
  const counters = await fleet.counters(true, true);
  const latency = counters.latency === null ? new Histogram() : Histogram.from(counters.latency);
  const notes: string[] = [];
  if (published < messages) notes.push(`published ${published} of ${messages} messages`);
  if (counters.unexpectedCloses > 0)
    notes.push(`${counters.unexpectedCloses} connections closed unexpectedly`);
  return {
    metrics: {
      delivered: counters.received / seconds,
      p50: ms(latency.percentile(50)),
      p95: ms(latency.percentile(95)),
      p99: ms(latency.percentile(99)),
      max: ms(latency.max),
      loss: lossPercent(expected, counters.received),
      cpuPercent: cpuPercent(before, after),
      cpuPerDelivery: counters.received === 0 ? NaN : cpuMicros(before, after) / counters.received,
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
    { key: 'delivered', label: 'delivered', unit: 'msgs/s', better: 'higher', digits: 0 },
    { key: 'p50', label: 'latency p50', unit: 'ms', better: 'lower', digits: 2 },
    { key: 'p95', label: 'latency p95', unit: 'ms', better: 'lower', digits: 2 },
    { key: 'p99', label: 'latency p99', unit: 'ms', better: 'lower', digits: 2 },
    { key: 'max', label: 'latency max', unit: 'ms', better: 'lower', digits: 1 },
    { key: 'loss', label: 'loss', unit: '%', better: 'lower', digits: 3 },
    { key: 'cpuPercent', label: 'server CPU', unit: '% of a core', better: 'lower', digits: 1 },
    {
      key: 'cpuPerDelivery',
      label: 'server CPU per delivery (publish handling included)',
      unit: 'µs',
      better: 'lower',
      digits: 2,
    },
  ],
  charts: [],
  params: (options) => ({ ...chatParams(options) }),
  run,
};
