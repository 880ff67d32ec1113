/**
 * Fan-out: one room of N subscribers and one publisher (a separate connection, not a member).
 *
 * 1. CPU phase, the figure to track: a warm-up (excluded), a full GC, then a fixed number of messages
 *    at a fixed rate well below saturation; server CPU per delivery = the target's cpuUsage delta /
 *    deliveries, also split into user and kernel time.
 *    The generators share the two cores, so throughput figures depend on them; this one does not.
 * 2. Rate steps: the publish rate is stepped up; each step reports delivered msgs/s, publish→receipt
 *    latency percentiles, loss and CPU per delivery. The highest rate whose p99 stayed under the
 *    threshold with no loss is the "rate held". Stepping stops at the first step that fails.
 */
import type { BenchOptions } from '../options.js';
import type { Point, RunResult } from '../report/result.js';
import { Histogram } from '../stats/histogram.js';
import type { IndexRange, PayloadShape, RoomSpec } from '../generator/plan.js';
import type { Fleet } from '../run/fleet.js';
import type { TargetProcess } from '../run/target-process.js';
import { cpuMicros, drain, lossPercent, ms, unexpectedNotes, userCpuMicros } from './measure.js';
import type { Scenario, ScenarioContext } from './scenario.js';

const ROOM = { kind: 'fixed', room: 'fanout' } as const;

/** Deliveries per second of the default rate steps (divided by N to get publish rates). */
const DELIVERY_STEPS = [10_000, 25_000, 50_000, 75_000, 100_000, 150_000, 200_000, 300_000, 400_000];
/** Deliveries per second of the CPU phase: well below any target's saturation on this machine. */
const CPU_PHASE_DELIVERIES = 40_000;

/** The fan-out workload after defaults. */
export interface FanoutParams {
  readonly subscribers: number;
  readonly rates: readonly number[];
  readonly stepMs: number;
  readonly thresholdMs: number;
  readonly cpuRate: number;
  readonly cpuMessages: number;
  readonly warmupMessages: number;
  readonly payloadBytes: number;
  readonly payloadShape: PayloadShape;
}

/** Defaults: rates and the CPU phase scale with the room size. */
export function fanoutParams(options: BenchOptions): FanoutParams {
  const subscribers = options.connections ?? (options.quick ? 500 : 5000);
  const round = (x: number): number => Math.max(1, Math.round(x * 10) / 10);
  const cpuRate = options.cpuRate ?? round(CPU_PHASE_DELIVERIES / subscribers);
  const cpuSeconds = options.quick ? 2 : 10;
  return {
    subscribers,
    rates:
      options.rates ??
      DELIVERY_STEPS.slice(0, options.quick ? 3 : undefined).map((d) => round(d / subscribers)),
    stepMs: options.stepMs ?? (options.quick ? 1000 : 3000),
    thresholdMs: options.thresholdMs ?? 250,
    cpuRate,
    cpuMessages: options.cpuMessages ?? Math.max(5, Math.round(cpuRate * cpuSeconds)),
    warmupMessages: Math.max(3, Math.round(cpuRate * (options.quick ? 0.5 : 2))),
    payloadBytes: options.payloadBytes,
    payloadShape: options.payloadShape,
  };
}

interface Step {
  readonly rate: number;
  readonly published: number;
  readonly received: number;
  /** Messages per WebSocket message the subscribers read (above 1 when the target batched). */
  readonly perWsMessage: number;
  readonly loss: number;
  /** Bytes the subscribers read per delivery (frames, headers, pings: the wire's TCP payload). */
  readonly wireBytesPerDelivery: number;
  readonly latency: Histogram;
  readonly deliveredPerSecond: number;
  readonly cpuPerDelivery: number;
  /** The user-space part of {@link cpuPerDelivery}; the rest is kernel time. */
  readonly userCpuPerDelivery: number;
  readonly held: boolean;
  /** What the generators did not expect during the step (closes, stray frames). */
  readonly unexpected: readonly string[];
}

/** Publish `messages` at `rate`, wait for the deliveries, and measure. */
async function step(
  fleet: Fleet,
  target: TargetProcess,
  publisher: { first: number; count: number },
  params: FanoutParams,
  rate: number,
  messages: number,
  collectFirst = false,
): Promise<Step> {
  // The connect phase leaves garbage (thousands of handshakes); collecting it first keeps a major GC
  // of it out of the measured window.
  if (collectFirst) await target.gc();
  await fleet.counters(true, false);
  const before = await target.stats(true);
  const started = performance.now();
  const published = await fleet.publish(
    publisher,
    ROOM,
    rate,
    messages,
    params.payloadBytes,
    1,
    params.payloadShape,
  );
  const expected = published * params.subscribers;
  await drain(fleet, expected);
  const seconds = (performance.now() - started) / 1000;
  const after = await target.stats(true);
  const counters = await fleet.counters(true, true);
  const latency = counters.latency === null ? new Histogram() : Histogram.from(counters.latency);
  const loss = lossPercent(expected, counters.received);
  return {
    rate,
    published,
    received: counters.received,
    perWsMessage: counters.carriers === 0 ? NaN : counters.received / counters.carriers,
    loss,
    wireBytesPerDelivery: counters.received === 0 ? NaN : counters.bytesRead / counters.received,
    latency,
    deliveredPerSecond: counters.received / seconds,
    cpuPerDelivery: counters.received === 0 ? NaN : cpuMicros(before, after) / counters.received,
    userCpuPerDelivery: counters.received === 0 ? NaN : userCpuMicros(before, after) / counters.received,
    held: loss === 0 && ms(latency.percentile(99)) <= params.thresholdMs && published === messages,
    unexpected: unexpectedNotes(counters),
  };
}

/**
 * Start the target and a fleet holding one room of `subscribers` members and one publisher (a separate
 * connection, not a member); the subscribe phase's surprises go to `notes`. Fanout's and burst's set-up.
 */
export async function openRoom(
  context: ScenarioContext,
  room: RoomSpec,
  subscribers: number,
  notes: string[],
): Promise<{ target: TargetProcess; fleet: Fleet; publisher: { readonly range: IndexRange } }> {
  const target = await context.startTarget();
  const fleet = await context.startFleet(target, subscribers + 1);
  context.progress(`connecting ${subscribers} subscribers`);
  const members = await fleet.connect(subscribers, context.options.concurrency, 60_000);
  if (members.failed > 0) throw new Error(`${members.failed} subscribers failed to connect`);
  const publisher = await fleet.connect(1, 1, 10_000);
  if (publisher.failed > 0) throw new Error('the publisher failed to connect');
  await fleet.subscribe(members.range, room, 60_000);
  notes.push(...unexpectedNotes(await fleet.counters(true, false)).map((n) => `subscribe phase: ${n}`));
  return { target, fleet, publisher };
}

async function run(context: ScenarioContext): Promise<RunResult> {
  const params = fanoutParams(context.options);
  const notes: string[] = [];
  const { target, fleet, publisher } = await openRoom(context, ROOM, params.subscribers, notes);

  context.progress(`CPU phase: warm-up ${params.warmupMessages} messages at ${params.cpuRate}/s`);
  await step(fleet, target, publisher.range, params, params.cpuRate, params.warmupMessages);
  context.progress(`CPU phase: ${params.cpuMessages} messages at ${params.cpuRate}/s`);
  const cpu = await step(fleet, target, publisher.range, params, params.cpuRate, params.cpuMessages, true);
  if (cpu.loss > 0) notes.push(`CPU phase lost ${cpu.loss.toFixed(3)}% of deliveries`);

  const steps: Step[] = [];
  for (const rate of params.rates) {
    const messages = Math.max(1, Math.round((rate * params.stepMs) / 1000));
    context.progress(
      `step ${steps.length + 1}/${params.rates.length}: ${rate} msgs/s × ${params.subscribers}`,
    );
    const result = await step(fleet, target, publisher.range, params, rate, messages);
    steps.push(result);
    context.progress(
      `step ${steps.length}: ${rate} msgs/s → ${Math.round(result.deliveredPerSecond)} deliveries/s, ` +
        `p99 ${ms(result.latency.percentile(99)).toFixed(1)} ms, loss ${result.loss.toFixed(2)}%`,
    );
    if (!result.held) break;
  }
  const held = steps.filter((s) => s.held);
  const best = held[held.length - 1];
  const failed = steps.find((s) => !s.held);
  if (failed !== undefined) {
    notes.push(
      `stopped at ${failed.rate} msgs/s: p99 ${ms(failed.latency.percentile(99)).toFixed(1)} ms, ` +
        `loss ${failed.loss.toFixed(2)}%`,
    );
  } else notes.push('every rate step held; raise --rates to find the limit');
  for (const s of [cpu, ...steps]) notes.push(...s.unexpected.map((n) => `at ${s.rate} msgs/s: ${n}`));

  const series = (f: (s: Step) => number): Point[] => steps.map((s) => ({ x: s.rate, y: f(s) }));
  return {
    metrics: {
      cpuPerDelivery: cpu.cpuPerDelivery,
      userCpuPerDelivery: cpu.userCpuPerDelivery,
      kernelCpuPerDelivery: cpu.cpuPerDelivery - cpu.userCpuPerDelivery,
      wireBytesPerDelivery: cpu.wireBytesPerDelivery,
      cpuPhaseP50: ms(cpu.latency.percentile(50)),
      cpuPhaseP99: ms(cpu.latency.percentile(99)),
      cpuPhaseLoss: cpu.loss,
      cpuPhasePerWsMessage: cpu.perWsMessage,
      cpuPhaseWsMessagesPerSecond: cpu.deliveredPerSecond / cpu.perWsMessage,
      rateHeld: best?.rate ?? 0,
      deliveriesHeld: best === undefined ? 0 : best.rate * params.subscribers,
      peakDelivered: Math.max(0, ...steps.map((s) => s.deliveredPerSecond)),
      heldP50: best === undefined ? NaN : ms(best.latency.percentile(50)),
      heldP95: best === undefined ? NaN : ms(best.latency.percentile(95)),
      heldP99: best === undefined ? NaN : ms(best.latency.percentile(99)),
      heldMax: best === undefined ? NaN : ms(best.latency.max),
      heldLoss: held.reduce((a, s) => a + (s.published * params.subscribers - s.received), 0),
      heldPerWsMessage: best?.perWsMessage ?? NaN,
    },
    series: {
      p99: series((s) => ms(s.latency.percentile(99))),
      cpu: series((s) => s.cpuPerDelivery),
      delivered: series((s) => s.deliveredPerSecond),
    },
    notes,
  };
}

/** The fan-out scenario. */
export const fanout: Scenario = {
  name: 'fanout',
  description:
    'one room of N subscribers; server CPU per delivery at a fixed rate, then the publish rate stepped up',
  metrics: [
    { key: 'cpuPerDelivery', label: 'server CPU per delivery', unit: 'µs', better: 'lower', digits: 2 },
    {
      key: 'userCpuPerDelivery',
      label: 'server CPU per delivery, user space',
      unit: 'µs',
      better: 'lower',
      digits: 2,
    },
    {
      key: 'kernelCpuPerDelivery',
      label: 'server CPU per delivery, kernel',
      unit: 'µs',
      better: 'lower',
      digits: 2,
    },
    {
      key: 'wireBytesPerDelivery',
      label: 'wire bytes per delivery (CPU phase)',
      unit: 'B',
      better: 'lower',
      digits: 0,
    },
    { key: 'cpuPhaseP50', label: 'latency p50 (CPU phase)', unit: 'ms', better: 'lower', digits: 2 },
    { key: 'cpuPhaseP99', label: 'latency p99 (CPU phase)', unit: 'ms', better: 'lower', digits: 2 },
    { key: 'cpuPhaseLoss', label: 'loss (CPU phase)', unit: '%', better: 'lower', digits: 3 },
    {
      // For switchboard-poll, deliveries per poll answer (a poll request that carried messages).
      key: 'cpuPhasePerWsMessage',
      label: 'messages per WebSocket message or poll answer (CPU phase)',
      unit: '',
      better: 'higher',
      digits: 2,
    },
    {
      key: 'cpuPhaseWsMessagesPerSecond',
      label: 'WebSocket messages or poll answers carrying messages (CPU phase)',
      unit: '/s',
      better: 'lower',
      digits: 0,
    },
    { key: 'rateHeld', label: 'highest publish rate held', unit: 'msgs/s', better: 'higher' },
    { key: 'deliveriesHeld', label: 'deliveries/s at that rate', unit: '/s', better: 'higher', digits: 0 },
    { key: 'peakDelivered', label: 'peak delivered', unit: 'msgs/s', better: 'higher', digits: 0 },
    { key: 'heldP50', label: 'latency p50 at rate held', unit: 'ms', better: 'lower', digits: 2 },
    { key: 'heldP95', label: 'latency p95 at rate held', unit: 'ms', better: 'lower', digits: 2 },
    { key: 'heldP99', label: 'latency p99 at rate held', unit: 'ms', better: 'lower', digits: 2 },
    { key: 'heldMax', label: 'latency max at rate held', unit: 'ms', better: 'lower', digits: 1 },
    { key: 'heldLoss', label: 'messages lost in held steps', unit: '', better: 'lower', digits: 0 },
    {
      key: 'heldPerWsMessage',
      label: 'messages per WebSocket message at rate held',
      unit: '',
      better: 'higher',
      digits: 2,
    },
  ],
  charts: [
    {
      key: 'p99',
      title: 'Fan-out: p99 latency vs publish rate',
      xLabel: 'publish rate (msgs/s)',
      yLabel: 'p99 (ms)',
    },
    {
      key: 'cpu',
      title: 'Fan-out: server CPU per delivery vs publish rate',
      xLabel: 'publish rate (msgs/s)',
      yLabel: 'CPU per delivery (µs)',
    },
    {
      key: 'delivered',
      title: 'Fan-out: delivered messages/s vs publish rate',
      xLabel: 'publish rate (msgs/s)',
      yLabel: 'delivered (msgs/s)',
    },
  ],
  params: (options) => {
    const p = fanoutParams(options);
    return { ...p, rates: p.rates.join(','), heartbeatMs: options.heartbeatMs };
  },
  run,
};
