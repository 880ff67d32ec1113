/**
 * Failover (issue 15): a node holding N clients crashes and the survivors take the storm. Node A is the
 * `switchboard` CLI with `--workers` (20,000 clients need two processes under a 20,000 open-file limit);
 * the survivors (B, C, ...; --survivors) each admit at most --accept-budget new connections per second
 * and carry chat traffic of their own all along (--chat-clients in rooms of 10, --member-rate msgs/s
 * each), whose latency is taken in one-second windows. The N clients (several generator processes, each
 * under ~10,000 sockets, on source addresses of their own) know [A, then the survivors in an order of their
 * own] and subscribe to rooms that a publisher feeds with numbered messages through B. Then A and its
 * workers are killed at once (SIGKILL). The clients reconnect as the SDK does (generator/roam-policy.ts):
 * their own URL first, then the next, full-jitter backoff from 500 ms up to 20 s; the survivors refuse
 * what is over budget with 503. Reported: the time until every client is back and subscribed, the
 * survivors' admissions against their budget, refusals, the chat latency before, during and after the
 * storm, and what the recovering subscribers lost.
 */
import { randomBytes } from 'node:crypto';
import { SDK_BACKOFF } from '../generator/roam-policy.js';
import type { BenchOptions } from '../options.js';
import type { RunResult } from '../report/result.js';
import { Fleet } from '../run/fleet.js';
import { listenOverflows } from '../run/netstat.js';
import type { SwitchboardNode } from '../run/nodes.js';
import { RoamingFleet } from '../run/roaming-fleet.js';
import { peakInWindow } from '../stats/windows.js';
import { WindowSampler, phaseOf, summarizeWindows } from './latency-windows.js';
import { lossPercent, sleep } from './measure.js';
import { acceptBurstOf, receivingFlags, startRoamCluster } from './roam-setup.js';
import { ROAM_METRICS, acceptSeries, roamMetrics, roamNotes } from './roam-figures.js';
import type { Scenario, ScenarioContext } from './scenario.js';

const CHAT_ROOM_SIZE = 10;
/** Chat traffic measured before the kill, and after every client is back (--quick: 2 s each). */
const BEFORE_MS = 5000;
const AFTER_MS = 5000;
const QUICK_PHASE_MS = 2000;
/** How long after the kill the clients have to be back before the run gives up on them. */
const RECOVERY_LIMIT_MS = 180_000;

/** The failover workload after defaults. */
export function failoverParams(options: BenchOptions): {
  connections: number;
  roomSize: number;
  rooms: number;
  survivors: number;
  workers: number;
  acceptBudget: number;
  acceptBurst: number;
  publishRate: number;
  chatPerSurvivor: number;
  memberRate: number;
} {
  const roomSize = options.roomSize;
  const requested = options.connections ?? (options.quick ? 2000 : 20_000);
  const connections = Math.max(roomSize, Math.floor(requested / roomSize) * roomSize);
  const survivors = options.survivors;
  const chat = options.chatClients ?? (options.quick ? 200 : 1000);
  return {
    connections,
    roomSize,
    rooms: connections / roomSize,
    survivors,
    workers: options.workers,
    acceptBudget: options.acceptBudget ?? (options.quick ? 500 : 1000),
    acceptBurst: acceptBurstOf(options),
    publishRate: options.publishRate ?? 100,
    chatPerSurvivor: Math.floor(chat / survivors / CHAT_ROOM_SIZE) * CHAT_ROOM_SIZE,
    memberRate: options.memberRate,
  };
}

/**
 * Connect `count` chat clients to `node` within its accept budget (`burst` at once, `perSecond` a second),
 * and subscribe them.
 */
async function startChat(
  context: ScenarioContext,
  node: SwitchboardNode,
  count: number,
  budget: { readonly perSecond: number; readonly burst: number },
  jwtSecret: string,
  prefix: string,
): Promise<Fleet> {
  const fleet = await Fleet.start({
    planned: count,
    minimum: 1,
    dialect: 'switchboard',
    deflate: false,
    url: node.url,
    jwtSecret,
  });
  context.defer(() => fleet.stop());
  const rooms = { kind: 'groups', prefix, size: CHAT_ROOM_SIZE } as const;
  for (let done = 0; done < count;) {
    const wave = Math.min(
      count - done,
      Math.max(1, Math.floor(Math.min(budget.perSecond / 2, budget.burst))),
    );
    const started = Date.now();
    const result = await fleet.connect(wave, context.options.concurrency, 60_000);
    if (result.failed > 0)
      throw new Error(`${result.failed} chat clients could not connect to ${node.spec.name}`);
    await fleet.subscribe(result.range, rooms, 60_000);
    done += wave;
    // The bucket refills `wave` tokens in wave / perSecond seconds; twice that leaves room for the others.
    if (done < count) await sleep(Math.max(0, (2000 * wave) / budget.perSecond - (Date.now() - started)));
  }
  return fleet;
}

async function run(context: ScenarioContext): Promise<RunResult> {
  if (context.target.name !== 'switchboard-nodes') throw new Error('failover runs on switchboard-nodes only');
  const { options } = context;
  const params = failoverParams(options);
  const jwtSecret = randomBytes(32).toString('hex');
  const cluster = await startRoamCluster(context, jwtSecret);
  context.progress(`starting node A (${params.workers} workers) and ${params.survivors} survivors`);
  const a = await cluster.add({ name: 'A', workers: params.workers, connectionRate: 0, flags: [] });
  const loopFlags = receivingFlags(options);
  const survivors: SwitchboardNode[] = [];
  for (let i = 0; i < params.survivors; i++) {
    const name = String.fromCharCode(66 + i);
    survivors.push(
      await cluster.add({ name, workers: 1, connectionRate: params.acceptBudget, flags: loopFlags }),
    );
  }
  const survivorIndices = survivors.map((_, i) => i + 1);

  context.progress(`connecting ${params.chatPerSurvivor} chat clients to each survivor`);
  const chats: Fleet[] = [];
  for (const [i, node] of survivors.entries()) {
    if (params.chatPerSurvivor === 0) break;
    chats.push(
      await startChat(
        context,
        node,
        params.chatPerSurvivor,
        { perSecond: params.acceptBudget, burst: params.acceptBurst },
        jwtSecret,
        `chat${i}-`,
      ),
    );
  }

  const roaming = await RoamingFleet.start({
    clients: params.connections,
    minimum: options.generators,
    nodes: [a.url, ...survivors.map((n) => n.url)],
    jwtSecret,
    roomPrefix: 'storm-',
    roomSize: params.roomSize,
    backoff: SDK_BACKOFF,
    niceness: options.clientsNice,
  });
  context.defer(() => roaming.stop());
  context.progress(`connecting ${params.connections} clients to A (${roaming.size} generators)`);
  const wave = await roaming.connect(params.connections, 0, survivorIndices, options.concurrency, 300_000);
  if (wave.failed > 0) throw new Error(`${wave.failed} clients could not connect to A and subscribe`);

  await roaming.startPublisher({
    node: 1,
    rooms: params.rooms,
    ratePerSecond: params.publishRate,
    payloadBytes: options.payloadBytes,
  });
  const chatRate = params.chatPerSurvivor * params.memberRate;
  const horizonS = (BEFORE_MS + RECOVERY_LIMIT_MS + AFTER_MS) / 1000 + 60;
  // The sampler first: its first counter reset reaches each generator before the publish does.
  const sampler = new WindowSampler(chats, survivors);
  const publishing = Promise.all(
    chats.map((fleet, i) =>
      fleet.publish(
        { first: 0, count: params.chatPerSurvivor },
        { kind: 'groups', prefix: `chat${i}-`, size: CHAT_ROOM_SIZE },
        chatRate,
        Math.ceil(chatRate * horizonS),
        options.payloadBytes,
      ),
    ),
  );
  // Awaited below; a run that fails before must not leave it rejected unhandled.
  publishing.catch(() => undefined);
  context.defer(async () => {
    await Promise.all(chats.map((f) => f.stopPublishing().catch(() => undefined)));
    await sampler.stop();
  });
  // The busiest survivor's CPU (% of one core) over a phase, from /proc.
  const cpuNow = (): { at: number; micros: number[] } => ({
    at: Date.now(),
    micros: survivors.map((n) => n.cpuMicros()),
  });
  const busiest = (from: { at: number; micros: number[] }, to: { at: number; micros: number[] }): number =>
    Math.max(...to.micros.map((m, i) => ((m - (from.micros[i] ?? 0)) / ((to.at - from.at) * 1000)) * 100));
  const cpuStart = cpuNow();
  context.progress('chat traffic before the crash');
  // One-second windows: at least this many before the kill and after the last client is back.
  await sampler.until((options.quick ? QUICK_PHASE_MS : BEFORE_MS) / 1000, 60_000);

  await roaming.mark();
  const cpuKill = cpuNow();
  const overflowsBefore = listenOverflows();
  const killedAt = Date.now();
  context.progress('SIGKILL to A and its workers');
  a.killTree();
  const onSurvivors = (p: { readyByNode: readonly number[] }): number =>
    survivorIndices.reduce((sum, i) => sum + (p.readyByNode[i] ?? 0), 0);
  let progress = await roaming.progress();
  while (
    (progress.back < params.connections || onSurvivors(progress) !== params.connections) &&
    Date.now() - killedAt < RECOVERY_LIMIT_MS
  ) {
    context.progress(`${onSurvivors(progress)}/${params.connections} back after ${Date.now() - killedAt} ms`);
    await sleep(250);
    progress = await roaming.progress();
  }
  const settledAt = Date.now();
  const cpuSettled = cpuNow();
  const overflows = listenOverflows() - overflowsBefore;
  context.progress('chat traffic after the storm');
  // Whole windows after the last client is back (the one under way may still hold some of the storm).
  await sampler.until(sampler.taken.length + 1 + (options.quick ? QUICK_PHASE_MS : AFTER_MS) / 1000, 60_000);
  await Promise.all(chats.map((f) => f.stopPublishing()));
  await publishing;
  const published = await roaming.stopPublisher();
  // Deliveries still on their way land in the last windows.
  await sleep(2000);
  const windows = await sampler.stop();

  const report = await roaming.report(published.lastIds, 10_000);
  const backTimes = report.backAt.filter((t) => t > 0);
  const stormEnd = backTimes.length === params.connections ? Math.max(...backTimes) : settledAt;
  const phase = (name: string): typeof windows =>
    windows.filter((w) => phaseOf(w, killedAt, stormEnd) === name);
  const before = summarizeWindows(phase('before'));
  const storm = summarizeWindows(phase('storm'));
  const after = summarizeWindows(phase('after'));
  const chatPublished = windows.reduce((a, w) => a + w.published, 0);
  const chatReceived = windows.reduce((a, w) => a + w.received, 0);
  const roam = {
    eventAt: killedAt,
    survivors: survivorIndices,
    budget: params.acceptBudget,
    burst: params.acceptBurst,
    gone: 0,
  };
  // A crash closes every client's connection with 1006 (no close frame): that is the event, not a fault.
  const notes = roamNotes(report, published, 1006);
  if (sampler.failure !== null) notes.push(`latency sampling stopped early: ${sampler.failure}`);
  const counters = await Promise.all(chats.map((f) => f.counters(false, false)));
  const closes = counters.reduce((n, c) => n + c.unexpectedCloses, 0);
  if (closes > 0) notes.push(`${closes} chat connections closed unexpectedly`);
  return {
    metrics: {
      ...roamMetrics(report, published, roam),
      totalPeakAcceptRate: peakInWindow(
        survivorIndices.flatMap((i) => report.acceptedAt[i] ?? []),
        1000,
      ),
      ...Object.fromEntries(
        survivorIndices.map((i) => [`onNode${i}`, report.node.filter((n) => n === i).length]),
      ),
      chatBeforeP50: before.p50,
      chatBeforeP99: before.p99,
      chatBeforeMax: before.max,
      chatStormP50: storm.p50,
      chatStormP99: storm.p99,
      chatStormMax: storm.max,
      chatAfterP50: after.p50,
      chatAfterP99: after.p99,
      chatAfterMax: after.max,
      chatStormDeliveries: storm.count,
      chatLoss: lossPercent(chatPublished * CHAT_ROOM_SIZE, chatReceived),
      listenOverflows: overflows,
      cpuBefore: busiest(cpuStart, cpuKill),
      cpuStorm: busiest(cpuKill, cpuSettled),
      loopBeforeP99: before.loopP99Ms,
      loopStormP99: storm.loopP99Ms,
    },
    series: {
      accepts: acceptSeries(report, roam),
      chatP99: windows.map((w) => ({
        x: (w.end - killedAt) / 1000,
        y: summarizeWindows([w]).p99,
      })),
    },
    notes,
  };
}

/** The failover scenario. */
export const failover: Scenario = {
  name: 'failover',
  description:
    'SIGKILL a node (its workers too) holding N clients: the survivors admit the storm under their accept budget while their own chat traffic keeps its latency',
  metrics: [
    ...ROAM_METRICS,
    {
      key: 'totalPeakAcceptRate',
      label: 'all survivors: peak admissions in 1 s',
      unit: '/s',
      better: 'lower',
      digits: 0,
    },
    { key: 'onNode1', label: 'clients on B in the end', unit: '', better: 'higher', digits: 0 },
    { key: 'onNode2', label: 'clients on C in the end', unit: '', better: 'higher', digits: 0 },
    {
      key: 'chatBeforeP50',
      label: 'chat latency before the crash, p50',
      unit: 'ms',
      better: 'lower',
      digits: 2,
    },
    {
      key: 'chatBeforeP99',
      label: 'chat latency before the crash, p99',
      unit: 'ms',
      better: 'lower',
      digits: 2,
    },
    {
      key: 'chatBeforeMax',
      label: 'chat latency before the crash, max',
      unit: 'ms',
      better: 'lower',
      digits: 1,
    },
    {
      key: 'chatStormP50',
      label: 'chat latency during the storm, p50',
      unit: 'ms',
      better: 'lower',
      digits: 2,
    },
    {
      key: 'chatStormP99',
      label: 'chat latency during the storm, p99 (target < 100)',
      unit: 'ms',
      better: 'lower',
      digits: 2,
    },
    {
      key: 'chatStormMax',
      label: 'chat latency during the storm, max',
      unit: 'ms',
      better: 'lower',
      digits: 1,
    },
    {
      key: 'chatAfterP50',
      label: 'chat latency after the storm, p50',
      unit: 'ms',
      better: 'lower',
      digits: 2,
    },
    {
      key: 'chatAfterP99',
      label: 'chat latency after the storm, p99',
      unit: 'ms',
      better: 'lower',
      digits: 2,
    },
    {
      key: 'chatAfterMax',
      label: 'chat latency after the storm, max',
      unit: 'ms',
      better: 'lower',
      digits: 1,
    },
    {
      key: 'chatStormDeliveries',
      label: 'chat deliveries measured during the storm',
      unit: '',
      better: 'higher',
      digits: 0,
    },
    { key: 'chatLoss', label: 'chat loss', unit: '%', better: 'lower', digits: 3 },
    {
      key: 'listenOverflows',
      label: 'accept-queue overflows during the storm (the whole machine: TcpExt ListenOverflows)',
      unit: '',
      better: 'lower',
      digits: 0,
    },
    {
      key: 'cpuBefore',
      label: 'busiest survivor CPU before the crash',
      unit: '%',
      better: 'lower',
      digits: 0,
    },
    {
      key: 'cpuStorm',
      label: 'busiest survivor CPU during the storm',
      unit: '%',
      better: 'lower',
      digits: 0,
    },
    {
      key: 'loopBeforeP99',
      label: "survivors' event-loop lag p99 before (worst second)",
      unit: 'ms',
      better: 'lower',
      digits: 1,
    },
    {
      key: 'loopStormP99',
      label: "survivors' event-loop lag p99 during the storm (worst second)",
      unit: 'ms',
      better: 'lower',
      digits: 1,
    },
  ],
  charts: [
    {
      key: 'accepts',
      title: 'Failover: admissions on the survivors per second after the crash',
      xLabel: 's',
      yLabel: 'accepts/s',
    },
    {
      key: 'chatP99',
      title: 'Failover: chat latency p99 per second (0 = the crash)',
      xLabel: 's',
      yLabel: 'ms',
    },
  ],
  params: (options) => ({
    ...failoverParams(options),
    admissionLoopDelayMs: options.admissionLoopDelayMs,
    minDelayMs: SDK_BACKOFF.minDelayMs,
    maxDelayMs: SDK_BACKOFF.maxDelayMs,
  }),
  run,
};
