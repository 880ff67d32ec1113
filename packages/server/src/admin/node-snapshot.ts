/**
 * One node's snapshot for the admin dashboard (docs/admin.md, "Snapshots"): what it holds, how it is,
 * and its rates, computed from the difference of its counters since the previous snapshot. Pure: the
 * sources are read through {@link SnapshotSources}, the time comes from the caller.
 */
import type { EngineHealth } from '../broker/broker.js';
import type { HistoryReadStats } from '../history/history-read-pacing.js';
import type { AdminTally } from './admin-tally.js';

/** Counters summed since the node started. */
export interface SnapshotTotals {
  readonly received: number;
  readonly published: number;
  readonly delivered: number;
  readonly dropped: number;
  readonly errors: number;
  readonly accepted: number;
  readonly heartbeatEvictions: number;
  readonly slowConsumers: number;
}

/** One node as the dashboard shows it; published to `$admin:nodes` every interval. */
export interface NodeSnapshot {
  readonly nodeId: string;
  /** When it was taken (ms since the Unix epoch). */
  readonly time: number;
  /** How often this node takes one (ms): a node silent for three intervals is gone. */
  readonly intervalMs: number;
  readonly startedAt: number;
  readonly state: string;
  readonly ready: boolean;
  readonly readyReason?: string;
  readonly health: { readonly status: 'ok' | 'degraded'; readonly reasons: readonly string[] };
  readonly eventLoopDelayMs: { readonly p50: number; readonly p99: number; readonly max: number };
  readonly memory: { readonly rssBytes: number; readonly heapUsedBytes: number };
  readonly cpuPercent: number;
  readonly connections: number;
  readonly users: number;
  readonly channels: number;
  readonly transports: { readonly websocket: number; readonly sse: number; readonly polling: number };
  readonly rates: {
    readonly inPerSec: number;
    readonly outPerSec: number;
    readonly publishedPerSec: number;
    readonly droppedPerSec: number;
    readonly errorsPerSec: number;
    readonly acceptedPerSec: number;
    readonly heartbeatEvictionsPerSec: number;
    readonly slowConsumersPerSec: number;
  };
  readonly totals: SnapshotTotals;
  /** Broker accepted -> written to the subscribers' sockets, every channel, last 5 to 10 s; null: none. */
  readonly latencyMs: {
    readonly p50: number | null;
    readonly p95: number | null;
    readonly p99: number | null;
  } | null;
  readonly closeCodes: Readonly<Record<string, number>>;
  /** The shared backend; null with the memory engine. */
  readonly redis: { readonly ready: boolean; readonly reason?: string; readonly probeRttMs?: number } | null;
  /** The engine's paced history reads; null when it does not pace them (memory). */
  readonly historyReads: {
    readonly running: number;
    readonly waiting: number;
    readonly refused: number;
    readonly refusedPerSec: number;
    readonly concurrency: number | null;
    readonly queueSize: number | null;
  } | null;
  readonly topChannels: readonly {
    readonly name: string;
    readonly members: number;
    readonly inPerSec: number;
    readonly outPerSec: number;
  }[];
  readonly recentErrors: readonly { readonly time: number; readonly code: string }[];
}

/** The part of /stats a snapshot reads (largest channels first, errors oldest first). */
export interface StatsView {
  readonly state: string;
  readonly connections: number;
  readonly users: number;
  readonly channels: {
    readonly total: number;
    readonly list: readonly {
      readonly name: string;
      readonly members: number;
      readonly messagesInPerSecond: number;
      readonly messagesOutPerSecond: number;
    }[];
  };
  readonly messages: {
    readonly received: number;
    readonly published: number;
    readonly delivered: number;
    readonly dropped: number;
  };
  readonly errors: number;
  readonly connectionsAccepted: number;
  readonly recentErrors: readonly { readonly code: string; readonly time: number }[];
  readonly historyReads: HistoryReadStats;
}

/** Where a snapshot's figures come from. */
export interface SnapshotSources {
  readonly nodeId: string;
  readonly intervalMs: number;
  startedAt(): number;
  stats(): StatsView;
  readiness(): { readonly ready: boolean; readonly reason?: string };
  health(): {
    readonly status: 'ok' | 'degraded';
    readonly reasons: readonly { readonly message: string }[];
    readonly memory: { readonly rssBytes: number; readonly heapUsedBytes: number };
  };
  loopDelay(): { readonly p50Ms: number; readonly p99Ms: number; readonly maxMs: number };
  /** Node-wide delivery latency quantiles (ChannelActivity.quantiles). */
  latency(qs: readonly number[]): { samples: number; values: (number | null)[] };
  /** The engine's health; null when it has no shared backend (memory). */
  engineHealth(): EngineHealth | null;
  readonly tally: AdminTally;
  /** Process CPU time so far (µs): `process.cpuUsage()`. */
  cpuUsage(): { readonly user: number; readonly system: number };
}

/** Channels a snapshot lists. */
const TOP_CHANNELS = 10;
/** Errors a snapshot lists. */
const RECENT_ERRORS = 10;
const QUANTILES = [0.5, 0.95, 0.99] as const;

/** Takes snapshots; each one's rates cover the time since the one before (since the start, for the first). */
export class SnapshotTaker {
  private previous: { time: number; totals: SnapshotTotals; refused: number; cpu: number };

  constructor(
    private readonly sources: SnapshotSources,
    startedAt: number,
  ) {
    const zero = { received: 0, published: 0, delivered: 0, dropped: 0, errors: 0, accepted: 0 };
    const totals = { ...zero, heartbeatEvictions: 0, slowConsumers: 0 };
    this.previous = { time: startedAt, totals, refused: 0, cpu: cpuMicros(sources.cpuUsage()) };
  }

  /** A snapshot at `now`. */
  take(now: number): NodeSnapshot {
    const s = this.sources;
    const stats = s.stats();
    const { tally } = s;
    const totals: SnapshotTotals = {
      received: stats.messages.received,
      published: stats.messages.published,
      delivered: stats.messages.delivered,
      dropped: stats.messages.dropped,
      errors: stats.errors,
      accepted: stats.connectionsAccepted,
      heartbeatEvictions: tally.heartbeatEvictions,
      slowConsumers: tally.slowConsumers,
    };
    const prev = this.previous;
    const seconds = Math.max(now - prev.time, 1) / 1000;
    const rate = (value: number, before: number): number => round(Math.max(0, value - before) / seconds);
    const delta = (name: keyof SnapshotTotals): number => rate(totals[name], prev.totals[name]);
    const reads = stats.historyReads;
    const refused = reads.refused.queueFull + reads.refused.waitedTooLong;
    const cpu = cpuMicros(s.cpuUsage());
    this.previous = { time: now, totals, refused, cpu };
    const readiness = s.readiness();
    const health = s.health();
    const loop = s.loopDelay();
    const latency = s.latency(QUANTILES);
    const [p50 = null, p95 = null, p99 = null] = latency.values;
    return {
      nodeId: s.nodeId,
      time: now,
      intervalMs: s.intervalMs,
      startedAt: s.startedAt(),
      state: stats.state,
      ready: readiness.ready,
      ...(readiness.reason === undefined ? {} : { readyReason: readiness.reason }),
      health: { status: health.status, reasons: health.reasons.map((r) => r.message) },
      eventLoopDelayMs: { p50: loop.p50Ms, p99: loop.p99Ms, max: loop.maxMs },
      memory: { rssBytes: health.memory.rssBytes, heapUsedBytes: health.memory.heapUsedBytes },
      // CPU time (µs) per wall time (ms): a process using one core fully is at 100.
      cpuPercent: round((cpu - prev.cpu) / 10 / (seconds * 1000)),
      connections: stats.connections,
      users: stats.users,
      channels: stats.channels.total,
      transports: { ...tally.transports },
      rates: {
        inPerSec: delta('received'),
        outPerSec: delta('delivered'),
        publishedPerSec: delta('published'),
        droppedPerSec: delta('dropped'),
        errorsPerSec: delta('errors'),
        acceptedPerSec: delta('accepted'),
        heartbeatEvictionsPerSec: delta('heartbeatEvictions'),
        slowConsumersPerSec: delta('slowConsumers'),
      },
      totals,
      latencyMs: latency.samples === 0 ? null : { p50, p95, p99 },
      closeCodes: tally.closeCodes(),
      redis: redisOf(s.engineHealth()),
      historyReads:
        reads.limits === null
          ? null
          : {
              running: reads.running,
              waiting: reads.waiting,
              refused,
              refusedPerSec: rate(refused, prev.refused),
              concurrency: reads.limits.concurrency,
              queueSize: reads.limits.queueSize,
            },
      topChannels: stats.channels.list.slice(0, TOP_CHANNELS).map((c) => ({
        name: c.name,
        members: c.members,
        inPerSec: c.messagesInPerSecond,
        outPerSec: c.messagesOutPerSecond,
      })),
      recentErrors: stats.recentErrors.slice(-RECENT_ERRORS).map(({ time, code }) => ({ time, code })),
    };
  }
}

function redisOf(health: EngineHealth | null): NodeSnapshot['redis'] {
  if (health === null) return null;
  const rtt = health.details?.['lastProbeRttMs'];
  return {
    ready: health.ready,
    ...(health.reason === undefined ? {} : { reason: health.reason }),
    ...(typeof rtt === 'number' ? { probeRttMs: rtt } : {}),
  };
}

function cpuMicros(usage: { readonly user: number; readonly system: number }): number {
  return usage.user + usage.system;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
