/**
 * Deliver: guaranteed delivery's round trip, deliver -> handler -> ack, per inbox store, beside plain
 * `server.sendToUser` in the same run.
 *
 * N users, each one authenticated connection with its inbox open as one device (prefetch 10, the
 * default); the generators ack every inbox push at once (generator/inbox-dialect.ts). The target's
 * in-process driver (targets/delivery-driver.ts) calls `server.deliver` round robin over the users at a
 * fixed rate per step. Each step reports the acked deliveries/s (acks the server counted, over the time
 * from the first call to the last ack), deliver -> handler latency (the payload's send time to its
 * receipt), the `deliver()` call's own time (until the store holds the message), push -> ack as the
 * server saw it, and CPU per acked delivery of the server, the store (redis-server) and the generators.
 * `send-to-user` takes the same steps with `server.sendToUser` (no store, no ack: "acked" is received).
 *
 * A step holds when every call resolved on time, every message was acked (none lost), p99 deliver ->
 * handler stayed under --threshold-ms (default 50) and the acked rate reached 90% of the offered one.
 * Steps go through --rates, or with --max from its first rate up by ×1.5, and stop at the first step that
 * does not hold. The first step is the reference rate (default 1,000/s) whose latency is reported apart.
 */
import type { BenchOptions } from '../options.js';
import type { Point, RunResult } from '../report/result.js';
import type { Fleet } from '../run/fleet.js';
import type { TargetProcess } from '../run/target-process.js';
import { Histogram } from '../stats/histogram.js';
import type { DriveResult, ServerDeliveries } from '../targets/target.js';
import { cpuMicros, ms, sleep, unexpectedNotes } from './measure.js';
import type { Scenario, ScenarioContext } from './scenario.js';

/** The device every user's connection opens its inbox as. */
const DEVICE = { kind: 'fixed', room: 'bench' } as const;
/** The highest rate --max tries (msgs/s). */
const MAX_RATE = 1_000_000;
/** Growth of the rate from one --max step to the next. */
const MAX_GROWTH = 1.5;
/** Share of the offered rate a step's acked rate must reach to hold. */
const KEEP_UP = 0.9;

/** The deliver workload after defaults. */
export interface DeliverParams {
  readonly users: number;
  /** The rates to step through (with `max`, the first one is where the search starts). */
  readonly rates: readonly number[];
  readonly max: boolean;
  readonly stepMs: number;
  readonly warmupMs: number;
  readonly thresholdMs: number;
  readonly payloadBytes: number;
}

/**
 * Driver calls unresolved at once at most at `rate`: as many as stay unresolved for 4× the threshold on
 * average. Past it the step cannot hold anyway; the bound keeps a store that cannot keep up from piling up
 * calls (and garbage) without end, which would make the server's CPU per delivery the driver's doing.
 */
export function maxInFlight(params: DeliverParams, rate: number): number {
  return Math.max(100, Math.ceil((rate * params.thresholdMs * 4) / 1000));
}

/** Defaults. */
export function deliverParams(options: BenchOptions): DeliverParams {
  return {
    users: options.connections ?? (options.quick ? 100 : 1000),
    rates: options.rates ?? (options.quick ? [500, 1000] : [1000, 2500, 5000, 10_000, 15_000, 20_000]),
    max: options.max,
    stepMs: options.stepMs ?? (options.quick ? 1000 : 5000),
    warmupMs: options.quick ? 300 : 1000,
    thresholdMs: options.thresholdMs ?? 50,
    payloadBytes: options.payloadBytes,
  };
}

/** The rate of step `i` (0-based), or undefined when there is none. */
export function rateOf(params: DeliverParams, i: number): number | undefined {
  if (!params.max) return params.rates[i];
  const first = params.rates[0] ?? 1000;
  const rate = Math.round(first * MAX_GROWTH ** i);
  return rate > MAX_RATE ? undefined : rate;
}

interface Step {
  readonly rate: number;
  readonly drive: DriveResult;
  /** Acked (send-to-user: received) of the messages the step delivered. */
  readonly acked: number;
  readonly lost: number;
  readonly ackedPerSecond: number;
  /** Payload send time to its receipt by the generator. */
  readonly latency: Histogram;
  readonly pushToAck: Histogram;
  readonly repushed: number;
  /** CPU per acked delivery (µs) of the server process, the store's processes (NaN: not measured), the generators. */
  readonly serverCpu: number;
  readonly storeCpu: number;
  readonly generatorCpu: number;
  /** The same as percent of one core over the step. */
  /** Store commands per acked delivery, by command (Redis only; empty otherwise). */
  readonly commands: Readonly<Record<string, number>>;
  readonly serverCpuPercent: number;
  /** The server's event-loop delay p99 over the step (ms). */
  readonly loopDelayP99: number;
  readonly storeCpuPercent: number;
  readonly generatorCpuPercent: number;
  readonly held: boolean;
  readonly why: string;
  readonly unexpected: readonly string[];
}

/**
 * Poll `count` until it reaches `expected`, or stops moving for `quietMs`, at most `maxMs`; resolves with
 * the last count and when it last changed (performance.now()).
 */
async function settle(
  count: () => Promise<number>,
  expected: number,
  quietMs = 2000,
  maxMs = 30_000,
): Promise<{ count: number; at: number }> {
  const started = performance.now();
  let last = await count();
  let changedAt = performance.now();
  while (last < expected && performance.now() - started < maxMs && performance.now() - changedAt < quietMs) {
    await sleep(20);
    const now = await count();
    if (now !== last) changedAt = performance.now();
    last = now;
  }
  return { count: last, at: last >= expected ? performance.now() : changedAt };
}

async function step(
  fleet: Fleet,
  target: TargetProcess,
  users: { first: number; count: number },
  params: DeliverParams,
  rate: number,
  durationMs: number,
): Promise<Step> {
  const messages = Math.max(1, Math.round((rate * durationMs) / 1000));
  const startCounters = await fleet.counters(true, false);
  const startServer = await target.deliveries(true);
  const before = await target.stats(true);
  const started = performance.now();
  const drive = await target.drive({
    ...users,
    ratePerSecond: rate,
    messages,
    payloadBytes: params.payloadBytes,
    maxInFlight: maxInFlight(params, rate),
  });
  const acks = drive.api === 'deliver';
  const done = await settle(
    async () =>
      acks ? (await target.deliveries(false)).acked : (await fleet.counters(false, false)).received,
    drive.resolved,
  );
  const seconds = Math.max(drive.elapsedMs, done.at - started) / 1000;
  const after = await target.stats(true);
  const counters = await fleet.counters(true, true);
  const server: ServerDeliveries = await target.deliveries(true);
  const latency = counters.latency === null ? new Histogram() : Histogram.from(counters.latency);
  const acked = acks ? server.acked : counters.received;
  const lost = Math.max(0, drive.resolved - acked);
  const ackedPerSecond = acked / seconds;
  const wallMicros = seconds * 1e6;
  const serverMicros = cpuMicros(before, after);
  const storeMicros = server.storeCpuMicros - startServer.storeCpuMicros;
  const generatorMicros = counters.cpuMicros - startCounters.cpuMicros;
  const p99 = ms(latency.percentile(99));
  const why =
    drive.refused > 0
      ? `${drive.refused} calls refused, the first: ${drive.firstRefusal}`
      : drive.resolved < messages
        ? `${messages - drive.resolved} calls not made or not resolved`
        : lost > 0
          ? `${lost} messages not ${acks ? 'acked' : 'received'}`
          : p99 > params.thresholdMs
            ? `p99 ${p99.toFixed(1)} ms over ${params.thresholdMs} ms`
            : ackedPerSecond < rate * KEEP_UP
              ? `${Math.round(ackedPerSecond)} acked/s, under ${KEEP_UP * 100}% of ${rate}/s` +
                (drive.stalls > 0
                  ? ` (the driver waited on ${maxInFlight(params, rate)} unresolved calls)`
                  : '')
              : '';
  const perAcked = (micros: number): number => (acked === 0 ? NaN : micros / acked);
  const commands: Record<string, number> = {};
  for (const [name, calls] of Object.entries(server.storeCommands)) {
    const delta = calls - (startServer.storeCommands[name] ?? 0);
    if (delta > 0) commands[name] = perAcked(delta);
  }
  return {
    rate,
    drive,
    acked,
    lost,
    ackedPerSecond,
    latency,
    pushToAck: Histogram.from(server.pushToAck),
    repushed: server.repushed,
    serverCpu: perAcked(serverMicros),
    storeCpu: perAcked(storeMicros),
    generatorCpu: perAcked(generatorMicros),
    commands,
    serverCpuPercent: (serverMicros / wallMicros) * 100,
    loopDelayP99: after.loopDelayP99Ms,
    storeCpuPercent: (storeMicros / wallMicros) * 100,
    generatorCpuPercent: (generatorMicros / wallMicros) * 100,
    held: why === '',
    why,
    unexpected: unexpectedNotes(counters),
  };
}

/** Total store commands per acked delivery (NaN when the store's are not counted). */
function commandTotal(s: Step): number {
  const all = Object.values(s.commands);
  return all.length === 0 ? NaN : all.reduce((a, b) => a + b, 0);
}

/** `evalsha 3.00, publish 1.00, ...`, most first. */
function commandList(s: Step): string {
  return Object.entries(s.commands)
    .sort((a, b) => b[1] - a[1])
    .map(([name, n]) => `${name} ${n.toFixed(2)}`)
    .join(', ');
}

function describe(s: Step): string {
  return (
    `${s.rate}/s → ${Math.round(s.ackedPerSecond)} acked/s, p99 ${ms(s.latency.percentile(99)).toFixed(1)} ms, ` +
    `loop delay p99 ${s.loopDelayP99.toFixed(1)} ms, CPU server ${s.serverCpuPercent.toFixed(0)}%` +
    (Number.isNaN(s.storeCpuPercent) ? '' : ` store ${s.storeCpuPercent.toFixed(0)}%`) +
    ` generators ${s.generatorCpuPercent.toFixed(0)}%`
  );
}

async function run(context: ScenarioContext): Promise<RunResult> {
  const params = deliverParams(context.options);
  const notes: string[] = [];
  const target = await context.startTarget();
  const fleet = await context.startFleet(target, params.users);
  context.progress(`connecting ${params.users} users`);
  const connected = await fleet.connect(params.users, context.options.concurrency, 60_000);
  if (connected.failed > 0) throw new Error(`${connected.failed} users failed to connect`);
  await fleet.subscribe(connected.range, DEVICE, 60_000);
  notes.push(...unexpectedNotes(await fleet.counters(true, false)).map((n) => `inbox phase: ${n}`));
  const users = connected.range;

  const first = rateOf(params, 0) ?? 1000;
  context.progress(`warm-up: ${params.warmupMs} ms at ${first}/s`);
  const warmup = await step(fleet, target, users, params, first, params.warmupMs);
  if (warmup.lost > 0) notes.push(`warm-up: ${warmup.lost} messages not acked`);

  const steps: Step[] = [];
  for (let i = 0; ; i++) {
    const rate = rateOf(params, i);
    if (rate === undefined) break;
    context.progress(`step ${i + 1}: ${rate}/s over ${params.users} users`);
    const result = await step(fleet, target, users, params, rate, params.stepMs);
    steps.push(result);
    context.progress(`step ${i + 1}: ${describe(result)}`);
    if (!result.held) break;
  }
  const held = steps.filter((s) => s.held);
  const best = held[held.length - 1];
  const last = steps[steps.length - 1];
  const failed = steps.find((s) => !s.held);
  if (failed !== undefined) notes.push(`stopped at ${failed.rate}/s: ${failed.why}`);
  else notes.push('every rate step held; raise --rates (or use --max) to find the limit');
  for (const s of steps) notes.push(`step ${describe(s)}`);
  for (const s of [steps[0], last]) {
    if (s !== undefined && Number.isFinite(commandTotal(s)))
      notes.push(`at ${s.rate}/s, Redis commands per acked delivery: ${commandList(s)}`);
    if (s === last) break;
  }
  for (const s of [warmup, ...steps]) notes.push(...s.unexpected.map((n) => `at ${s.rate}/s: ${n}`));

  const ref = steps[0];
  const all = [warmup, ...steps];
  const series = (f: (s: Step) => number): Point[] => steps.map((s) => ({ x: s.rate, y: f(s) }));
  const at = (s: Step | undefined, f: (s: Step) => number): number => (s === undefined ? NaN : f(s));
  return {
    metrics: {
      refRate: at(ref, (s) => s.rate),
      refAckedPerSecond: at(ref, (s) => s.ackedPerSecond),
      refP50: at(ref, (s) => ms(s.latency.percentile(50))),
      refP99: at(ref, (s) => ms(s.latency.percentile(99))),
      refCallP99: at(ref, (s) => ms(Histogram.from(s.drive.callTimes).percentile(99))),
      refPushToAckP99: at(ref, (s) => (s.pushToAck.count === 0 ? NaN : ms(s.pushToAck.percentile(99)))),
      refServerCpu: at(ref, (s) => s.serverCpu),
      refLoopDelayP99: at(ref, (s) => s.loopDelayP99),
      refStoreCpu: at(ref, (s) => s.storeCpu),
      refGeneratorCpu: at(ref, (s) => s.generatorCpu),
      refStoreCommands: at(ref, commandTotal),
      rateHeld: best?.rate ?? 0,
      ackedHeld: best?.ackedPerSecond ?? 0,
      peakAcked: Math.max(0, ...steps.map((s) => s.ackedPerSecond)),
      heldP50: at(best, (s) => ms(s.latency.percentile(50))),
      heldP99: at(best, (s) => ms(s.latency.percentile(99))),
      lastServerCpuPercent: at(last, (s) => s.serverCpuPercent),
      lastStoreCpuPercent: at(last, (s) => s.storeCpuPercent),
      lastGeneratorCpuPercent: at(last, (s) => s.generatorCpuPercent),
      delivered: all.reduce((a, s) => a + s.drive.resolved, 0),
      lost: all.reduce((a, s) => a + s.lost, 0),
      redelivered: all.reduce((a, s) => a + s.repushed, 0),
      refused: all.reduce((a, s) => a + s.drive.refused, 0),
    },
    series: {
      p99: series((s) => ms(s.latency.percentile(99))),
      acked: series((s) => s.ackedPerSecond),
    },
    notes,
  };
}

/** The deliver scenario. */
export const deliver: Scenario = {
  name: 'deliver',
  description:
    'N users with their inbox open; server.deliver at stepped rates, every push acked, beside server.sendToUser',
  metrics: [
    { key: 'refRate', label: 'reference rate (the first step)', unit: 'msgs/s', better: 'higher', digits: 0 },
    {
      key: 'refAckedPerSecond',
      label: 'acked at the reference rate',
      unit: '/s',
      better: 'higher',
      digits: 0,
    },
    {
      key: 'refP50',
      label: 'deliver → handler p50 at the reference rate',
      unit: 'ms',
      better: 'lower',
      digits: 2,
    },
    {
      key: 'refP99',
      label: 'deliver → handler p99 at the reference rate',
      unit: 'ms',
      better: 'lower',
      digits: 2,
    },
    {
      key: 'refCallP99',
      label: 'deliver() call → resolved (stored) p99 at the reference rate',
      unit: 'ms',
      better: 'lower',
      digits: 2,
    },
    {
      key: 'refPushToAckP99',
      label: 'push → ack seen by the server p99 at the reference rate',
      unit: 'ms',
      better: 'lower',
      digits: 2,
    },
    {
      key: 'refServerCpu',
      label: 'server CPU per acked delivery at the reference rate',
      unit: 'µs',
      better: 'lower',
      digits: 1,
    },
    {
      key: 'refLoopDelayP99',
      label: "server's event-loop delay p99 at the reference rate",
      unit: 'ms',
      better: 'lower',
      digits: 1,
    },
    {
      key: 'refStoreCpu',
      label: 'redis-server CPU per acked delivery at the reference rate',
      unit: 'µs',
      better: 'lower',
      digits: 1,
    },
    {
      key: 'refStoreCommands',
      label: 'Redis commands per acked delivery at the reference rate',
      unit: '',
      better: 'lower',
      digits: 2,
    },
    {
      key: 'refGeneratorCpu',
      label: 'generator CPU per acked delivery at the reference rate',
      unit: 'µs',
      better: 'lower',
      digits: 1,
    },
    { key: 'rateHeld', label: 'highest rate held', unit: 'msgs/s', better: 'higher', digits: 0 },
    {
      key: 'ackedHeld',
      label: 'acked deliveries/s sustained (at that rate)',
      unit: '/s',
      better: 'higher',
      digits: 0,
    },
    {
      key: 'peakAcked',
      label: 'peak acked deliveries/s (any step)',
      unit: '/s',
      better: 'higher',
      digits: 0,
    },
    { key: 'heldP50', label: 'deliver → handler p50 at rate held', unit: 'ms', better: 'lower', digits: 2 },
    { key: 'heldP99', label: 'deliver → handler p99 at rate held', unit: 'ms', better: 'lower', digits: 2 },
    {
      key: 'lastServerCpuPercent',
      label: 'server CPU in the last step',
      unit: '%',
      better: 'lower',
      digits: 0,
    },
    {
      key: 'lastStoreCpuPercent',
      label: 'redis-server CPU in the last step',
      unit: '%',
      better: 'lower',
      digits: 0,
    },
    {
      key: 'lastGeneratorCpuPercent',
      label: 'generators CPU in the last step',
      unit: '%',
      better: 'lower',
      digits: 0,
    },
    {
      key: 'delivered',
      label: 'messages delivered (warm-up and steps)',
      unit: '',
      better: 'higher',
      digits: 0,
    },
    {
      key: 'lost',
      label: 'delivered but never acked (received, send-to-user)',
      unit: '',
      better: 'lower',
      digits: 0,
    },
    { key: 'redelivered', label: 'pushes again (redeliveries)', unit: '', better: 'lower', digits: 0 },
    { key: 'refused', label: 'calls refused', unit: '', better: 'lower', digits: 0 },
  ],
  charts: [
    {
      key: 'p99',
      title: 'Deliver: p99 deliver → handler vs offered rate',
      xLabel: 'offered rate (msgs/s)',
      yLabel: 'p99 (ms)',
    },
    {
      key: 'acked',
      title: 'Deliver: acked deliveries/s vs offered rate',
      xLabel: 'offered rate (msgs/s)',
      yLabel: 'acked (/s)',
    },
  ],
  params: (options) => {
    const p = deliverParams(options);
    return { ...p, rates: p.rates.join(','), heartbeatMs: options.heartbeatMs };
  },
  run,
};
