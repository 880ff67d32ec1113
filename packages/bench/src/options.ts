/** Command-line options of `switchboard-bench`: parsing and validation, no I/O. */
import { parseArgs } from 'node:util';
import type { PayloadShape } from './generator/plan.js';

/** Every scenario name the CLI accepts. */
export const SCENARIO_NAMES = [
  'idle',
  'fanout',
  'burst',
  'chat',
  'connect',
  'churn',
  'storm',
  'deliver',
  'drain',
  'failover',
  'all',
  'micro',
] as const;

/** A scenario name. */
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

/** The tool's options after defaults. Scenario-specific sizes left undefined take the scenario's default. */
export interface BenchOptions {
  readonly scenario: ScenarioName;
  /** Targets, in report order. */
  readonly targets: readonly string[];
  /** Connections (subscribers for fanout; members for chat). Default: per scenario. */
  readonly connections: number | undefined;
  /** Runs of each target; the report gives the median and the range. Default 1. */
  readonly repeat: number;
  /** Small sizes and short steps, for a smoke run (`npm run bench`). */
  readonly quick: boolean;
  /** Where results/<scenario>-<timestamp>.{json,md,svg} go. */
  readonly outDir: string;
  /** Heartbeat interval of every target (ms). Default 15000 (Switchboard's default). */
  readonly heartbeatMs: number;
  /** Fan-out publish rates to step through (msgs/s). */
  readonly rates: readonly number[] | undefined;
  /** Length of each rate step (ms). */
  readonly stepMs: number | undefined;
  /** p99 latency a rate step must stay under to "hold" (ms). Default: fanout 250, deliver 50. */
  readonly thresholdMs: number | undefined;
  /** Deliver: step the rate up from the first of --rates (×1.5 a step) until a step does not hold. */
  readonly max: boolean;
  /** Fan-out CPU phase: publish rate (msgs/s) and message count. */
  readonly cpuRate: number | undefined;
  readonly cpuMessages: number | undefined;
  /** Burst: publishes sent back to back in one write. Default 8. */
  readonly burst: number;
  /** Chat: members per room, and messages per second per member. */
  readonly roomSize: number;
  readonly memberRate: number;
  /** Chat: connections opened per second while connecting (in one-second steps); undefined: no pacing. */
  readonly connectRate: number | undefined;
  /** Chat and churn: how long traffic runs (ms). */
  readonly durationMs: number | undefined;
  /** Churn: connections opened (and closed) per second. */
  readonly churnRate: number;
  /** Idle: how long the connections are held idle while CPU is measured (ms). Default: one heartbeat interval. */
  readonly idleMs: number | undefined;
  /** Bytes of the `data` payload of each message. Default 100. */
  readonly payloadBytes: number;
  /** What fills the payload: `padded` (default) or `ticker` (realistic JSON; see PayloadShape). */
  readonly payloadShape: PayloadShape;
  /** At least this many generator processes (more when connections need them). Default 1. */
  readonly generators: number;
  /** Handshakes in flight at once, over all generators. Default 100. */
  readonly concurrency: number;
  /** Hard limit of one run (one target, one repetition), seconds. Default 180. */
  readonly timeoutS: number;
  /** Longest wait for the machine to be quiet before each run (s); 0 starts at once. Default 30. */
  readonly quietWaitS: number;
  /** Server processes of multi-process targets (`switchboard-workers`). Default 2. */
  readonly workers: number;
  /** Messages kept per channel by Switchboard. Default 100. */
  readonly historySize: number;
  /** Switchboard's batch delay (`batchDelayMs`, ms) on the Switchboard targets. Default 0 (one turn). */
  readonly batchDelayMs: number;
  /** Where the target processes write V8 CPU profiles (`--cpu-prof`), or undefined: not profiled. */
  readonly cpuProfileDir: string | undefined;
  /** Drain and failover: the surviving nodes' accept budget (`connectionRate`, new connections/s). */
  readonly acceptBudget: number | undefined;
  /** Drain and failover: the roaming clients' generator processes' niceness (0 to 19). Default 0. */
  readonly clientsNice: number;
  /** Drain and failover: the surviving nodes' accept burst (`connectionBurst`). Default: the server's. */
  readonly acceptBurst: number | undefined;
  /** Drain: node A's drain window (`--drain-ms` of the CLI). */
  readonly drainMs: number | undefined;
  /** Drain and failover: numbered messages per second the publisher sends to the clients' rooms. */
  readonly publishRate: number | undefined;
  /** Failover: chat clients on the surviving nodes, whose latency is measured through the storm. */
  readonly chatClients: number | undefined;
  /** Failover: surviving nodes. Default 2. */
  readonly survivors: number;
  /** Drain and failover: the surviving nodes' `admissionLoopDelayMs` (0: off). Default 0. */
  readonly admissionLoopDelayMs: number;
  /** Micro-benchmarks: only those whose name contains this. */
  readonly filter: string | undefined;
  readonly help: boolean;
}

/** The outcome of parsing: options, or the reason they were refused. */
export type ParseResult = { ok: true; options: BenchOptions } | { ok: false; error: string };

const NUMBER_OPTIONS = {
  connections: { min: 1, max: 200_000 },
  repeat: { min: 1, max: 20 },
  'heartbeat-ms': { min: 10, max: 3_600_000 },
  'step-ms': { min: 200, max: 600_000 },
  'threshold-ms': { min: 0.1, max: 60_000 },
  'cpu-rate': { min: 0.1, max: 1_000_000 },
  'cpu-messages': { min: 1, max: 10_000_000 },
  burst: { min: 1, max: 1000 },
  'room-size': { min: 1, max: 100_000 },
  'member-rate': { min: 0.001, max: 10_000 },
  'duration-ms': { min: 100, max: 3_600_000 },
  'connect-rate': { min: 1, max: 1_000_000 },
  'churn-rate': { min: 1, max: 100_000 },
  'idle-ms': { min: 100, max: 3_600_000 },
  'payload-bytes': { min: 16, max: 1_000_000 },
  generators: { min: 1, max: 64 },
  concurrency: { min: 1, max: 100_000 },
  'timeout-s': { min: 5, max: 3600 },
  'history-size': { min: 0, max: 100_000 },
  'batch-delay-ms': { min: 0, max: 1000 },
  'quiet-wait-s': { min: 0, max: 3600 },
  workers: { min: 1, max: 64 },
  'accept-budget': { min: 1, max: 1_000_000 },
  'accept-burst': { min: 1, max: 1_000_000 },
  'clients-nice': { min: 0, max: 19 },
  'drain-ms': { min: 0, max: 600_000 },
  'publish-rate': { min: 0.1, max: 100_000 },
  'chat-clients': { min: 0, max: 100_000 },
  survivors: { min: 1, max: 8 },
  'admission-loop-delay-ms': { min: 0, max: 60_000 },
} as const;

type NumberOption = keyof typeof NUMBER_OPTIONS;

/** Parse `argv` (without node and the script). */
export function parseOptions(argv: readonly string[], defaultOutDir = 'results'): ParseResult {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        targets: { type: 'string' },
        rates: { type: 'string' },
        out: { type: 'string' },
        'cpu-prof': { type: 'string' },
        filter: { type: 'string' },
        quick: { type: 'boolean' },
        'payload-shape': { type: 'string' },
        max: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        ...Object.fromEntries(Object.keys(NUMBER_OPTIONS).map((k) => [k, { type: 'string' as const }])),
      },
    });
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
  const { positionals } = parsed;
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const help = values['help'] === true;
  const scenario = positionals[0] ?? (help ? 'all' : undefined);
  if (scenario === undefined) return { ok: false, error: 'missing scenario' };
  if (!(SCENARIO_NAMES as readonly string[]).includes(scenario)) {
    return { ok: false, error: `unknown scenario ${scenario} (one of ${SCENARIO_NAMES.join(', ')})` };
  }
  if (positionals.length > 1) return { ok: false, error: `unexpected argument ${positionals[1]}` };

  const numbers: Partial<Record<NumberOption, number>> = {};
  for (const [name, bounds] of Object.entries(NUMBER_OPTIONS) as [
    NumberOption,
    { min: number; max: number },
  ][]) {
    const raw = values[name];
    if (typeof raw !== 'string') continue;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < bounds.min || value > bounds.max) {
      return {
        ok: false,
        error: `--${name} must be a number from ${bounds.min} to ${bounds.max}, got ${raw}`,
      };
    }
    numbers[name] = value;
  }
  const batchDelayMs = numbers['batch-delay-ms'] ?? 0;
  if (!Number.isInteger(batchDelayMs)) {
    return { ok: false, error: `--batch-delay-ms must be a whole number of ms, got ${batchDelayMs}` };
  }
  let rates: number[] | undefined;
  if (typeof values['rates'] === 'string') {
    rates = values['rates'].split(',').map(Number);
    if (rates.length === 0 || rates.some((r) => !Number.isFinite(r) || r <= 0)) {
      return {
        ok: false,
        error: `--rates must be positive numbers separated by commas, got ${values['rates']}`,
      };
    }
  }
  const shape = values['payload-shape'] ?? 'padded';
  if (shape !== 'padded' && shape !== 'ticker') {
    return { ok: false, error: `--payload-shape must be padded or ticker, got ${String(shape)}` };
  }
  const targets =
    typeof values['targets'] === 'string'
      ? values['targets'].split(',').filter((t) => t !== '')
      : scenario === 'deliver'
        ? ['send-to-user', 'inbox-memory', 'inbox-redis', 'inbox-postgres']
        : scenario === 'drain' || scenario === 'failover'
          ? ['switchboard-nodes']
          : ['switchboard', 'ws-frame-once', 'ws-naive', 'socketio'];
  if (targets.length === 0) return { ok: false, error: '--targets names no target' };

  return {
    ok: true,
    options: {
      scenario: scenario as ScenarioName,
      targets,
      connections: numbers.connections,
      repeat: numbers.repeat ?? 1,
      quick: values['quick'] === true,
      outDir: typeof values['out'] === 'string' ? values['out'] : defaultOutDir,
      heartbeatMs: numbers['heartbeat-ms'] ?? 15_000,
      rates,
      stepMs: numbers['step-ms'],
      thresholdMs: numbers['threshold-ms'],
      max: values['max'] === true,
      cpuRate: numbers['cpu-rate'],
      cpuMessages: numbers['cpu-messages'],
      burst: numbers.burst ?? 8,
      roomSize: numbers['room-size'] ?? 20,
      memberRate: numbers['member-rate'] ?? 1,
      durationMs: numbers['duration-ms'],
      connectRate: numbers['connect-rate'],
      churnRate: numbers['churn-rate'] ?? 200,
      idleMs: numbers['idle-ms'],
      payloadBytes: numbers['payload-bytes'] ?? 100,
      payloadShape: shape,
      generators: numbers.generators ?? 1,
      concurrency: numbers.concurrency ?? 100,
      timeoutS: numbers['timeout-s'] ?? 180,
      historySize: numbers['history-size'] ?? 100,
      batchDelayMs,
      quietWaitS: numbers['quiet-wait-s'] ?? 30,
      workers: numbers.workers ?? 2,
      acceptBudget: numbers['accept-budget'],
      acceptBurst: numbers['accept-burst'],
      clientsNice: numbers['clients-nice'] ?? 0,
      drainMs: numbers['drain-ms'],
      publishRate: numbers['publish-rate'],
      chatClients: numbers['chat-clients'],
      survivors: numbers.survivors ?? 2,
      admissionLoopDelayMs: numbers['admission-loop-delay-ms'] ?? 0,
      cpuProfileDir: typeof values['cpu-prof'] === 'string' ? values['cpu-prof'] : undefined,
      filter: typeof values['filter'] === 'string' ? values['filter'] : undefined,
      help,
    },
  };
}

/** The text of --help. */
export const USAGE = `Usage: switchboard-bench <scenario> [options]

Scenarios:
  idle      N idle connections with heartbeats: memory per connection (after GC), idle CPU, sweep cost
  fanout    one room of N subscribers, publish rate stepped up: latency, loss, server CPU per delivery
  burst     one room of N subscribers, --cpu-rate msgs/s in bursts of --burst: server CPU per message
  chat      rooms of --room-size members, each publishing --member-rate msgs/s: latency, loss
  connect   N connections as fast as they come: connect rate and connect-time percentiles
  churn     steady fan-out traffic while connections open and close at --churn-rate/s
  storm     the target is killed and restarted under N connections: time until all are back
  deliver   N users with their inbox open; server.deliver at stepped rates, every push acked:
            acked deliveries/s, deliver -> handler latency, beside server.sendToUser
  drain     two CLI nodes A and B over one Redis, N clients on A knowing [A, B], a numbered publisher
            through B; SIGTERM A (it drains): A's exit, every client back on B, B's accepts against its
            budget, messages lost by recovering subscribers (must be 0)
  failover  a node (A, --workers) holding N clients is killed (SIGKILL); the survivors (B, C) admit the
            storm under their accept budget while carrying chat traffic: its latency before, during
            and after, the time until every client is back
  all       every scenario above but deliver, drain and failover, in turn (with --quick: small sizes,
            for a smoke run)
  micro     micro-benchmarks of hot functions (--filter NAME)

Options:
  --targets a,b        switchboard, ws-frame-once, ws-naive, socketio (default: these four),
                       switchboard-deflate and socketio-deflate (permessage-deflate on, clients offer it),
                       switchboard-workers (the CLI with --workers and Redis), socketio-redis
                       (node:cluster + @socket.io/redis-adapter), switchboard-unbatched (no ?batch=1),
                       switchboard-sse (SSE streams as clients: idle, connect, fanout),
                       switchboard-poll (v1 over long-polling: idle, connect, fanout);
                       deliver: send-to-user, inbox-memory, inbox-redis, inbox-postgres (default: these);
                       drain, failover: switchboard-nodes (the only one)
  --connections N      default: idle 10000, fanout 5000, burst 1000, chat 2000, connect 10000,
                       churn 2000, storm 5000, deliver 1000 (users), drain 5000, failover 20000
  --repeat R           runs per target; reports medians and ranges (default 1)
  --quick              small sizes and short steps
  --out DIR            output folder (default packages/bench/results)
  --heartbeat-ms MS    heartbeat interval of every target (default 15000)
  --rates a,b,c        fanout publish rates, deliver rates (default 1000,2500,5000,10000,15000,20000),
                       msgs/s, to step through
  --step-ms MS         length of a fanout or deliver rate step
  --threshold-ms MS    p99 a fanout step must stay under (default 250), deliver -> handler (default 50)
  --max                deliver: from the first of --rates, ×1.5 a step until one does not hold
  --cpu-rate R         fanout CPU phase rate, msgs/s (default: 40,000 deliveries/s ÷ N); burst rate (200)
  --cpu-messages M     fanout CPU phase message count; burst message count (default: 10 s worth)
  --burst K            burst: publishes sent back to back in one write (default 8)
  --room-size K        chat members per room (default 20)
  --member-rate R      chat msgs/s per member (default 1)
  --duration-ms MS     chat/churn traffic duration
  --connect-rate R     chat: connect at most R per second (one-second steps; default: no pacing)
  --churn-rate R       churn connections per second (default 200)
  --idle-ms MS         idle hold time (default: one heartbeat interval)
  --payload-bytes B    payload size (default 100)
  --payload-shape S    padded (one string of x, the default) or ticker (quotes with repeated keys and
                       varying numbers: what compression should be measured with)
  --generators G       at least G generator processes (default 1; one per 15,000 connections)
  --concurrency C      handshakes in flight (default 100)
  --timeout-s S        hard limit per run (default 180)
  --history-size N     Switchboard history per channel (default 100)
  --batch-delay-ms MS  Switchboard's batch delay for ?batch=1 clients, 0 to 1000 (default 0: the
                       messages of one event-loop turn); no effect on switchboard-unbatched
  --workers N          processes of switchboard-workers and socketio-redis, and of failover's node A
                       (default 2)
  --accept-budget R    drain, failover: the surviving nodes' --connection-rate (default: drain 400,
                       failover 1000; --quick: 100, 500)
  --accept-burst B     drain, failover: the surviving nodes' --connection-burst (default: the
                       server's, 200)
  --clients-nice N     drain, failover: run the roaming clients' generators at niceness N (0-19;
                       default 0), so that on one machine the kernel prefers the servers
  --drain-ms MS        drain: node A's drain window (default 10000; --quick 3000)
  --publish-rate R     drain, failover: numbered messages/s to the roaming clients' rooms (default:
                       drain 1 per room per second, failover 100)
  --chat-clients N     failover: chat clients on the survivors, rooms of 10, --member-rate msgs/s each
                       (default 1000; --quick 200)
  --survivors N        failover: surviving nodes (default 2)
  --admission-loop-delay-ms MS  drain, failover: the survivors' event-loop admission limit (default 0: off)
  --cpu-prof DIR       run each target process under the V8 CPU profiler, profiles written to DIR
                       (in-process targets only: the profile is the host's, with the server in it)
  --quiet-wait-s S     wait up to S s before each run for other work on the machine to stop (default 30)
`;
