/**
 * Drain (issue 15): two `switchboard` CLI nodes, A and B, over one redis-server of their own. N clients
 * connect to A, each knowing the URL list [A, B], and subscribe to rooms of --room-size; a publisher sends
 * numbered messages to every room through B for the whole run; B admits at most --accept-budget new
 * connections per second (`--connection-rate`). Then A gets SIGTERM: it answers new connections 503 and
 * closes its clients in jittered batches over --drain-ms with 1012 `retry after <n> ms`. The clients
 * reconnect as the SDK does (generator/roam-policy.ts): after the hinted delay, to the next URL; a refused
 * attempt (503 + Retry-After) backs off with full jitter and tries the next URL. On B they resubscribe
 * from their last position. Reported: A's exit code and time to exit, when every client was back on B,
 * B's admissions per second against its budget, refusals and retries, and what the recovering subscribers
 * lost (must be nothing).
 */
import { randomBytes } from 'node:crypto';
import { SDK_BACKOFF } from '../generator/roam-policy.js';
import type { BenchOptions } from '../options.js';
import type { RunResult } from '../report/result.js';
import { listenOverflows } from '../run/netstat.js';
import { sampleSum } from '../run/nodes.js';
import type { Samples } from '../run/nodes.js';
import { RoamingFleet } from '../run/roaming-fleet.js';
import { sleep } from './measure.js';
import { acceptBurstOf, receivingFlags, startRoamCluster } from './roam-setup.js';
import { ROAM_METRICS, acceptSeries, roamMetrics, roamNotes } from './roam-figures.js';
import type { Scenario, ScenarioContext } from './scenario.js';

/** How long after the drain window the clients have to be back before the run gives up on them. */
const RECOVERY_LIMIT_MS = 60_000;
/** Publishing before the signal, and after every client is back. */
const WARM_MS = 2000;
const AFTER_MS = 2000;

/** The drain workload after defaults. */
export function drainParams(options: BenchOptions): {
  connections: number;
  roomSize: number;
  rooms: number;
  drainMs: number;
  acceptBudget: number;
  acceptBurst: number;
  publishRate: number;
} {
  const roomSize = options.roomSize;
  const requested = options.connections ?? (options.quick ? 500 : 5000);
  const connections = Math.max(roomSize, Math.floor(requested / roomSize) * roomSize);
  const rooms = connections / roomSize;
  return {
    connections,
    roomSize,
    rooms,
    drainMs: options.drainMs ?? (options.quick ? 3000 : 10_000),
    acceptBudget: options.acceptBudget ?? (options.quick ? 100 : 400),
    acceptBurst: acceptBurstOf(options),
    publishRate: options.publishRate ?? rooms,
  };
}

/** B's counters that the report compares with what the clients saw. */
function serverCounts(samples: Samples): { accepted: number; refusedBudget: number; refusedLoop: number } {
  return {
    accepted: sampleSum(samples, 'switchboard_connections_opened_total'),
    refusedBudget: sampleSum(samples, 'switchboard_admission_refused_total', 'reason="accept_budget"'),
    refusedLoop: sampleSum(samples, 'switchboard_admission_refused_total', 'reason="event_loop_delay"'),
  };
}

async function run(context: ScenarioContext): Promise<RunResult> {
  if (context.target.name !== 'switchboard-nodes') throw new Error('drain runs on switchboard-nodes only');
  const { options } = context;
  const params = drainParams(options);
  const jwtSecret = randomBytes(32).toString('hex');
  const cluster = await startRoamCluster(context, jwtSecret);
  context.progress('starting nodes A and B');
  const loopFlags = receivingFlags(options);
  const a = await cluster.add({
    name: 'A',
    workers: 1,
    connectionRate: 0,
    flags: [['--drain-ms', params.drainMs]],
  });
  const b = await cluster.add({
    name: 'B',
    workers: 1,
    connectionRate: params.acceptBudget,
    flags: loopFlags,
  });
  const fleet = await RoamingFleet.start({
    clients: params.connections,
    minimum: options.generators,
    nodes: [a.url, b.url],
    jwtSecret,
    roomPrefix: 'drain-',
    roomSize: params.roomSize,
    backoff: SDK_BACKOFF,
    niceness: options.clientsNice,
  });
  context.defer(() => fleet.stop());

  context.progress(`connecting ${params.connections} clients to A`);
  const wave = await fleet.connect(params.connections, 0, [1], options.concurrency, 120_000);
  if (wave.failed > 0) throw new Error(`${wave.failed} clients could not connect to A and subscribe`);
  await fleet.startPublisher({
    node: 1,
    rooms: params.rooms,
    ratePerSecond: params.publishRate,
    payloadBytes: options.payloadBytes,
  });
  await sleep(WARM_MS);

  const before = serverCounts(await b.metrics());
  await fleet.mark();
  const cpuBefore = b.cpuMicros();
  const overflowsBefore = listenOverflows();
  const signalledAt = Date.now();
  context.progress('SIGTERM to A');
  a.signal('SIGTERM');
  const deadline = signalledAt + params.drainMs + RECOVERY_LIMIT_MS;
  let progress = await fleet.progress();
  while (
    (progress.back < params.connections || progress.readyByNode[1] !== params.connections) &&
    Date.now() < deadline
  ) {
    context.progress(
      `${progress.readyByNode[1] ?? 0}/${params.connections} on B after ${Date.now() - signalledAt} ms`,
    );
    await sleep(250);
    progress = await fleet.progress();
  }
  const cpuB = ((b.cpuMicros() - cpuBefore) / ((Date.now() - signalledAt) * 1000)) * 100;
  const overflows = listenOverflows() - overflowsBefore;
  const exit = await Promise.race([a.exited, sleep(Math.max(0, deadline - Date.now())).then(() => null)]);
  await sleep(AFTER_MS);
  const published = await fleet.stopPublisher();
  const after = serverCounts(await b.metrics());
  context.progress('checking every subscriber against the last ids');
  const report = await fleet.report(published.lastIds, 10_000);
  const roam = {
    eventAt: signalledAt,
    survivors: [1],
    budget: params.acceptBudget,
    burst: params.acceptBurst,
    gone: 0,
  };
  const notes = roamNotes(report, published);
  if (exit === null) notes.push(`A had not exited ${deadline - signalledAt} ms after SIGTERM`);
  else if (exit.code !== 0) notes.push(`A exited with ${exit.signal ?? exit.code}: ${a.lastOutput()}`);
  return {
    metrics: {
      exitCode: exit?.code ?? NaN,
      exitMs: exit === null ? NaN : exit.at - signalledAt,
      drainMs: params.drainMs,
      ...roamMetrics(report, published, roam),
      cpuB,
      listenOverflows: overflows,
      serverAccepted: after.accepted - before.accepted,
      serverRefusedBudget: after.refusedBudget - before.refusedBudget,
      serverRefusedLoop: after.refusedLoop - before.refusedLoop,
    },
    series: { accepts: acceptSeries(report, roam) },
    notes,
  };
}

/** The drain scenario. */
export const drain: Scenario = {
  name: 'drain',
  description:
    'SIGTERM a node holding N clients: it drains them (1012 + retry hint) to the other node, which admits them under its accept budget; recovery loses nothing',
  metrics: [
    { key: 'exitCode', label: "A's exit code (must be 0)", unit: '', better: 'lower', digits: 0 },
    { key: 'exitMs', label: 'SIGTERM → A exited', unit: 'ms', better: 'lower', digits: 0 },
    { key: 'drainMs', label: "A's drain window", unit: 'ms', better: 'lower', digits: 0 },
    ...ROAM_METRICS,
    {
      key: 'cpuB',
      label: "B's CPU from SIGTERM to every client back",
      unit: '%',
      better: 'lower',
      digits: 0,
    },
    {
      key: 'listenOverflows',
      label: 'accept-queue overflows during the drain (the whole machine: TcpExt ListenOverflows)',
      unit: '',
      better: 'lower',
      digits: 0,
    },
    {
      key: 'serverAccepted',
      label: "B's connections_opened_total during the drain",
      unit: '',
      better: 'higher',
      digits: 0,
    },
    {
      key: 'serverRefusedBudget',
      label: "B's admission_refused_total{accept_budget} during the drain",
      unit: '',
      better: 'lower',
      digits: 0,
    },
    {
      key: 'serverRefusedLoop',
      label: "B's admission_refused_total{event_loop_delay} during the drain",
      unit: '',
      better: 'lower',
      digits: 0,
    },
  ],
  charts: [
    {
      key: 'accepts',
      title: 'Drain: admissions on B per second after SIGTERM',
      xLabel: 's',
      yLabel: 'accepts/s',
    },
  ],
  params: (options) => ({
    ...drainParams(options),
    minDelayMs: SDK_BACKOFF.minDelayMs,
    maxDelayMs: SDK_BACKOFF.maxDelayMs,
  }),
  run,
};
