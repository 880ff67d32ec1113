/**
 * Burst: fan-out at a high message rate, where several messages of a room land in one event-loop turn
 * of the server. One room of N subscribers (default 1,000) and one publisher (not a member) that sends
 * `--burst` publishes back to back in one TCP write (default 8), `--cpu-rate` messages per second in
 * total (default 200: 200 messages per second per subscriber, 200,000 deliveries/s).
 *
 * The figure is the target's CPU time per delivered message: a server that batches (Switchboard with
 * clients that ask for `?batch=1`) writes one WebSocket message per subscriber per burst; the others
 * write one per message. Also: messages per WebSocket message as the clients received them, latency,
 * loss. A warm-up (excluded) and a full GC come first, as in fanout's CPU phase.
 */
import type { BenchOptions } from '../options.js';
import type { RunResult } from '../report/result.js';
import { Histogram } from '../stats/histogram.js';
import { cpuMicros, cpuPercent, drain, lossPercent, ms, unexpectedNotes } from './measure.js';
import { openRoom } from './fanout.js';
import type { Scenario, ScenarioContext } from './scenario.js';

const ROOM = { kind: 'fixed', room: 'burst' } as const;

/** The burst workload after defaults. */
export interface BurstParams {
  readonly subscribers: number;
  readonly rate: number;
  readonly burst: number;
  readonly messages: number;
  readonly warmupMessages: number;
  readonly payloadBytes: number;
}

/** Defaults: 1,000 subscribers, 200 msgs/s in bursts of 8, 10 s of traffic (2 s with --quick). */
export function burstParams(options: BenchOptions): BurstParams {
  const rate = options.cpuRate ?? 200;
  const burst = options.burst;
  const seconds = options.quick ? 2 : 10;
  const whole = (n: number): number => Math.max(burst, Math.round(n / burst) * burst);
  return {
    subscribers: options.connections ?? (options.quick ? 200 : 1000),
    rate,
    burst,
    messages: options.cpuMessages ?? whole(rate * seconds),
    warmupMessages: whole(rate * (options.quick ? 0.5 : 2)),
    payloadBytes: options.payloadBytes,
  };
}

async function run(context: ScenarioContext): Promise<RunResult> {
  const params = burstParams(context.options);
  const notes: string[] = [];
  const { target, fleet, publisher } = await openRoom(context, ROOM, params.subscribers, notes);

  const send = (messages: number): Promise<number> =>
    fleet.publish(publisher.range, ROOM, params.rate, messages, params.payloadBytes, params.burst);
  context.progress(`warm-up: ${params.warmupMessages} messages`);
  await fleet.counters(true, false);
  const warm = await send(params.warmupMessages);
  await drain(fleet, warm * params.subscribers);
  await target.gc();

  context.progress(
    `${params.messages} messages at ${params.rate}/s in bursts of ${params.burst} to ${params.subscribers}`,
  );
  await fleet.counters(true, false);
  const before = await target.stats(true);
  const started = performance.now();
  const published = await send(params.messages);
  const expected = published * params.subscribers;
  await drain(fleet, expected);
  const seconds = (performance.now() - started) / 1000;
  const after = await target.stats(true);
  const counters = await fleet.counters(true, true);
  const latency = counters.latency === null ? new Histogram() : Histogram.from(counters.latency);
  if (published < params.messages) notes.push(`published ${published} of ${params.messages} messages`);
  notes.push(...unexpectedNotes(counters));
  const loss = lossPercent(expected, counters.received);
  if (loss > 0) notes.push(`lost ${loss.toFixed(3)}% of deliveries`);
  return {
    metrics: {
      cpuPerMessage: counters.received === 0 ? NaN : cpuMicros(before, after) / counters.received,
      cpuPercent: cpuPercent(before, after),
      delivered: counters.received / seconds,
      perWsMessage: counters.carriers === 0 ? NaN : counters.received / counters.carriers,
      p50: ms(latency.percentile(50)),
      p99: ms(latency.percentile(99)),
      max: ms(latency.max),
      loss,
    },
    series: {},
    notes,
  };
}

/** The burst scenario. */
export const burst: Scenario = {
  name: 'burst',
  description:
    'one room of N subscribers, high message rate, publishes in back-to-back bursts: server CPU per delivered message',
  metrics: [
    {
      key: 'cpuPerMessage',
      label: 'server CPU per delivered message',
      unit: 'µs',
      better: 'lower',
      digits: 2,
    },
    { key: 'cpuPercent', label: 'server CPU', unit: '% of a core', better: 'lower', digits: 1 },
    { key: 'delivered', label: 'delivered', unit: 'msgs/s', better: 'higher', digits: 0 },
    {
      key: 'perWsMessage',
      label: 'messages per WebSocket message received',
      unit: '',
      better: 'higher',
      digits: 2,
    },
    { key: 'p50', label: 'latency p50', unit: 'ms', better: 'lower', digits: 2 },
    { key: 'p99', label: 'latency p99', unit: 'ms', better: 'lower', digits: 2 },
    { key: 'max', label: 'latency max', unit: 'ms', better: 'lower', digits: 1 },
    { key: 'loss', label: 'loss', unit: '%', better: 'lower', digits: 3 },
  ],
  charts: [],
  params: (options) => ({ ...burstParams(options) }),
  run,
};
