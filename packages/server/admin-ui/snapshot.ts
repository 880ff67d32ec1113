/**
 * A node's snapshot as published on `$admin:nodes` and listed by `GET /admin/api/overview`
 * (docs/admin.md), read defensively: a field of the wrong type becomes null or zero rather than breaking
 * the page, so a node running another version still shows what it shares. Pure: no DOM.
 */

/** Messages and events per second, from the node's counter deltas over its interval. */
export interface Rates {
  readonly inPerSec: number;
  readonly outPerSec: number;
  readonly publishedPerSec: number;
  readonly droppedPerSec: number;
  readonly errorsPerSec: number;
  readonly acceptedPerSec: number;
  readonly heartbeatEvictionsPerSec: number;
  readonly slowConsumersPerSec: number;
}

/** The Redis engine's health on a node; null on the memory engine. */
export interface RedisHealth {
  readonly ready: boolean;
  readonly reason: string | null;
  readonly probeRttMs: number | null;
}

/** A busy channel on a node. */
export interface TopChannel {
  readonly name: string;
  readonly members: number;
  readonly inPerSec: number;
  readonly outPerSec: number;
}

/** An error a node recorded recently. */
export interface RecentError {
  readonly time: number;
  readonly code: string;
  readonly message: string | null;
}

/** One node's state at `time`. */
export interface Snapshot {
  readonly nodeId: string;
  readonly time: number;
  readonly startedAt: number | null;
  readonly state: string;
  readonly ready: boolean;
  readonly readyReason: string | null;
  readonly health: { readonly status: string; readonly reasons: readonly string[] };
  readonly eventLoopDelayMs: {
    readonly p50: number | null;
    readonly p99: number | null;
    readonly max: number | null;
  };
  readonly memory: { readonly rssBytes: number | null; readonly heapUsedBytes: number | null };
  readonly cpuPercent: number | null;
  readonly connections: number;
  readonly users: number;
  readonly channels: number;
  readonly transports: Readonly<Record<string, number>>;
  readonly rates: Rates;
  readonly latencyMs: {
    readonly p50: number | null;
    readonly p95: number | null;
    readonly p99: number | null;
  } | null;
  readonly closeCodes: Readonly<Record<string, number>>;
  readonly redis: RedisHealth | null;
  /** History-read pacing: whatever numeric or text fields the node reports; null when it has none. */
  readonly historyReads: Readonly<Record<string, number | string | boolean>> | null;
  readonly topChannels: readonly TopChannel[];
  readonly recentErrors: readonly RecentError[];
}

type Obj = Record<string, unknown>;

const isObj = (value: unknown): value is Obj =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const num = (value: unknown): number | null =>
  typeof value === 'number' && Number.isFinite(value) ? value : null;
const count = (value: unknown): number => num(value) ?? 0;
const str = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const obj = (value: unknown): Obj => (isObj(value) ? value : {});

/** The numeric fields of `value` (for close codes and transports). */
function numbers(value: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, v] of Object.entries(obj(value))) {
    const n = num(v);
    if (n !== null) out[key] = n;
  }
  return out;
}

function rates(value: unknown): Rates {
  const r = obj(value);
  return {
    inPerSec: count(r['inPerSec']),
    outPerSec: count(r['outPerSec']),
    publishedPerSec: count(r['publishedPerSec']),
    droppedPerSec: count(r['droppedPerSec']),
    errorsPerSec: count(r['errorsPerSec']),
    acceptedPerSec: count(r['acceptedPerSec']),
    heartbeatEvictionsPerSec: count(r['heartbeatEvictionsPerSec']),
    slowConsumersPerSec: count(r['slowConsumersPerSec']),
  };
}

function historyReads(value: unknown): Snapshot['historyReads'] {
  if (!isObj(value)) return null;
  const out: Record<string, number | string | boolean> = {};
  for (const [key, v] of Object.entries(value)) {
    if (typeof v === 'string' || typeof v === 'boolean' || num(v) !== null)
      out[key] = v as number | string | boolean;
  }
  return out;
}

/** A snapshot from `value`, or null when it is not one (no node id or time). */
export function parseSnapshot(value: unknown): Snapshot | null {
  if (!isObj(value)) return null;
  const nodeId = str(value['nodeId']);
  const time = num(value['time']);
  if (nodeId === null || nodeId === '' || time === null) return null;
  const health = obj(value['health']);
  const loop = obj(value['eventLoopDelayMs']);
  const memory = obj(value['memory']);
  const latency = value['latencyMs'];
  const redis = value['redis'];
  return {
    nodeId,
    time,
    startedAt: num(value['startedAt']),
    state: str(value['state']) ?? 'unknown',
    ready: value['ready'] === true,
    readyReason: str(value['readyReason']),
    health: {
      status: str(health['status']) ?? 'unknown',
      reasons: Array.isArray(health['reasons'])
        ? health['reasons'].filter((r): r is string => typeof r === 'string')
        : [],
    },
    eventLoopDelayMs: { p50: num(loop['p50']), p99: num(loop['p99']), max: num(loop['max']) },
    memory: { rssBytes: num(memory['rssBytes']), heapUsedBytes: num(memory['heapUsedBytes']) },
    cpuPercent: num(value['cpuPercent']),
    connections: count(value['connections']),
    users: count(value['users']),
    channels: count(value['channels']),
    transports: numbers(value['transports']),
    rates: rates(value['rates']),
    latencyMs: isObj(latency)
      ? { p50: num(latency['p50']), p95: num(latency['p95']), p99: num(latency['p99']) }
      : null,
    closeCodes: numbers(value['closeCodes']),
    redis: isObj(redis)
      ? {
          ready: redis['ready'] === true,
          reason: str(redis['reason']),
          probeRttMs: num(redis['probeRttMs']),
        }
      : null,
    historyReads: historyReads(value['historyReads']),
    topChannels: (Array.isArray(value['topChannels']) ? value['topChannels'] : [])
      .filter(isObj)
      .filter((c) => typeof c['name'] === 'string')
      .map((c) => ({
        name: c['name'] as string,
        members: count(c['members']),
        inPerSec: count(c['inPerSec']),
        outPerSec: count(c['outPerSec']),
      })),
    recentErrors: (Array.isArray(value['recentErrors']) ? value['recentErrors'] : [])
      .filter(isObj)
      .map((e) => ({
        time: count(e['time']),
        code: str(e['code']) ?? 'unknown',
        message: str(e['message']),
      })),
  };
}

/** Snapshots from a list, skipping what is not one. */
export function parseSnapshots(value: unknown): Snapshot[] {
  if (!Array.isArray(value)) return [];
  return value.map(parseSnapshot).filter((s): s is Snapshot => s !== null);
}
