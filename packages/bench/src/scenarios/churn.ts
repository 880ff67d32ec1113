/**
 * Churn: N stable members in rooms of k exchange messages (as in chat) while other connections open,
 * join one of those rooms and close again at --churn-rate per second (each lives about a second).
 * Reports the churn achieved, its connect times, and what it did to the stable members' latency and
 * loss and to the target's CPU.
 */
import type { BenchOptions } from '../options.js';
import type { RunResult } from '../report/result.js';
import { Histogram } from '../stats/histogram.js';
import { roomTraffic } from './chat.js';
import { cpuPercent, drain, lossPercent, ms } from './measure.js';
import type { Scenario, ScenarioContext } from './scenario.js';

/** The churn workload after defaults: chat's rooms and traffic, plus the churn rate. */
export function churnParams(options: BenchOptions): ReturnType<typeof roomTraffic> & { churnRate: number } {
  return { ...roomTraffic(options), churnRate: options.churnRate };
}

async function run(context: ScenarioContext): Promise<RunResult> {
  const params = churnParams(context.options);
  const rooms = { kind: 'groups', prefix: 'chat-', size: params.roomSize } as const;
  const roomCount = params.members / params.roomSize;
  const target = await context.startTarget();
  const fleet = await context.startFleet(target, params.members + params.churnRate * 2);
  context.progress(`connecting ${params.members} stable members`);
  const members = await fleet.connect(params.members, context.options.concurrency, 60_000);
  if (members.failed > 0) throw new Error(`${members.failed} members failed to connect`);
  await fleet.subscribe(members.range, rooms, 60_000);
  const rate = params.members * params.memberRate;
  const messages = Math.round((rate * params.durationMs) / 1000);
  context.progress(`${rate} msgs/s while ${params.churnRate} connections/s churn`);
  await fleet.counters(true, false);
  const before = await target.stats(true);
  const [published, churned] = await Promise.all([
    fleet.publish(members.range, rooms, rate, messages, params.payloadBytes),
    fleet.churn({
      ratePerSecond: params.churnRate,
      durationMs: params.durationMs,
      poolSize: Math.max(1, Math.round(params.churnRate)),
      rooms: { kind: 'spread', prefix: 'chat-', rooms: roomCount },
    }),
  ]);
  const expected = published * params.roomSize;
  await drain(fleet, expected);
  const after = await target.stats(true);
  const counters = await fleet.counters(true, true);
  const latency = counters.latency === null ? new Histogram() : Histogram.from(counters.latency);
  const connectTimes = Histogram.from(churned.connectTimes);
  const seconds = params.durationMs / 1000;
  const notes: string[] = [];
  if (churned.failed > 0) notes.push(`${churned.failed} churn connections failed`);
  if (counters.unexpectedCloses > 0) notes.push(`${counters.unexpectedCloses} stable connections closed`);
  return {
    metrics: {
      connectsPerSecond: churned.connected / seconds,
      disconnectsPerSecond: churned.disconnected / seconds,
      failed: churned.failed,
      connectP50: ms(connectTimes.percentile(50)),
      connectP99: ms(connectTimes.percentile(99)),
      p50: ms(latency.percentile(50)),
      p99: ms(latency.percentile(99)),
      loss: lossPercent(expected, counters.received),
      cpuPercent: cpuPercent(before, after),
    },
    series: {},
    notes,
  };
}

/** The churn scenario. */
export const churn: Scenario = {
  name: 'churn',
  description: 'connections opening, joining a busy room and closing at a fixed rate under chat traffic',
  metrics: [
    {
      key: 'connectsPerSecond',
      label: 'connects (ready + subscribed)',
      unit: '/s',
      better: 'higher',
      digits: 0,
    },
    { key: 'disconnectsPerSecond', label: 'disconnects', unit: '/s', better: 'higher', digits: 0 },
    { key: 'failed', label: 'failed churn connections', unit: '', better: 'lower', digits: 0 },
    { key: 'connectP50', label: 'connect + subscribe p50', unit: 'ms', better: 'lower', digits: 1 },
    { key: 'connectP99', label: 'connect + subscribe p99', unit: 'ms', better: 'lower', digits: 1 },
    { key: 'p50', label: 'message latency p50 (stable members)', unit: 'ms', better: 'lower', digits: 2 },
    { key: 'p99', label: 'message latency p99 (stable members)', unit: 'ms', better: 'lower', digits: 2 },
    { key: 'loss', label: 'loss (stable members)', unit: '%', better: 'lower', digits: 3 },
    { key: 'cpuPercent', label: 'server CPU', unit: '% of a core', better: 'lower', digits: 1 },
  ],
  charts: [],
  params: (options) => ({ ...churnParams(options) }),
  run,
};
