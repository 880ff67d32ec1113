/**
 * Storm: N connections subscribed in rooms of k; the target process is killed (SIGKILL, a crash) and
 * a new one started on the same port at once. Every client reconnects with full-jitter backoff
 * (100 ms doubling to 3 s) and resubscribes. Reports the time from the kill until every client is
 * back and subscribed, the peak reconnect rate, and the attempts it took. Messages are not published
 * across the restart: every target here keeps its state in memory, so what a crash loses is known
 * (everything in flight) and not worth measuring until a shared engine (Redis) is in the comparison.
 */
import type { BenchOptions } from '../options.js';
import type { RunResult } from '../report/result.js';
import { peakPerSecond, sleep } from './measure.js';
import type { Scenario, ScenarioContext } from './scenario.js';

const BACKOFF = { minDelayMs: 100, maxDelayMs: 3000 };
const RECOVERY_LIMIT_MS = 60_000;

/** The storm workload after defaults. */
export function stormParams(options: BenchOptions): { connections: number; roomSize: number } {
  const roomSize = options.roomSize;
  const requested = options.connections ?? (options.quick ? 500 : 5000);
  return { connections: Math.max(roomSize, Math.floor(requested / roomSize) * roomSize), roomSize };
}

async function run(context: ScenarioContext): Promise<RunResult> {
  const params = stormParams(context.options);
  const rooms = { kind: 'groups', prefix: 'storm-', size: params.roomSize } as const;
  const first = await context.startTarget();
  const fleet = await context.startFleet(first, params.connections);
  context.progress(`connecting ${params.connections}`);
  const wave = await fleet.connect(params.connections, context.options.concurrency, 60_000);
  if (wave.failed > 0) throw new Error(`${wave.failed} connections failed`);
  await fleet.subscribe(wave.range, rooms, 60_000);
  await fleet.reconnect({ enabled: true, ...BACKOFF, rooms });

  context.progress('killing the target and starting a new one on the same port');
  const killedAt = Date.now();
  await first.kill();
  const second = await context.startTarget(first.port);
  const restartMs = Date.now() - killedAt;
  let status = await fleet.reconnectStatus();
  while (status.ready < params.connections && Date.now() - killedAt < RECOVERY_LIMIT_MS) {
    context.progress(`${status.ready}/${params.connections} back after ${Date.now() - killedAt} ms`);
    await sleep(250);
    status = await fleet.reconnectStatus();
  }
  await fleet.reconnect({ enabled: false, ...BACKOFF, rooms: null });
  const notes: string[] = [];
  if (status.ready < params.connections) {
    notes.push(
      `${params.connections - status.ready} clients were not back after ${RECOVERY_LIMIT_MS / 1000} s`,
    );
  }
  const targetCount = (await second.stats(false)).connections;
  if (Number.isFinite(targetCount) && targetCount !== status.ready)
    notes.push(`the new target counts ${targetCount} connections`);
  return {
    metrics: {
      allBackMs: status.ready < params.connections ? NaN : status.lastBackAt - killedAt,
      restartMs,
      peakRate: peakPerSecond(status.backPer100Ms),
      attemptsPerClient: status.reconnects / params.connections,
      back: status.ready,
    },
    series: { timeline: status.backPer100Ms.map((n, i) => ({ x: (i + 1) / 10, y: n * 10 })) },
    notes,
  };
}

/** The storm scenario. */
export const storm: Scenario = {
  name: 'storm',
  description: 'the target crashes and restarts under N connections: time until every client is back',
  metrics: [
    {
      key: 'allBackMs',
      label: 'kill → every client back and subscribed',
      unit: 'ms',
      better: 'lower',
      digits: 0,
    },
    { key: 'restartMs', label: 'kill → new target listening', unit: 'ms', better: 'lower', digits: 0 },
    { key: 'peakRate', label: 'peak reconnect rate (best second)', unit: '/s', better: 'higher', digits: 0 },
    { key: 'attemptsPerClient', label: 'connect attempts per client', unit: '', better: 'lower', digits: 2 },
    { key: 'back', label: 'clients back', unit: '', better: 'higher', digits: 0 },
  ],
  charts: [
    {
      key: 'timeline',
      title: 'Storm: clients back per second after the crash',
      xLabel: 's',
      yLabel: 'clients/s',
    },
  ],
  params: (options) => ({ ...stormParams(options), ...BACKOFF }),
  run,
};
