/**
 * From snapshots to what the page draws: chart series aligned on one time axis (uPlot's `AlignedData`
 * shape: x in seconds, then one array per line, null for a gap) and the cluster-wide tables (totals,
 * close codes, top channels, recent errors). Pure: no DOM, no clock.
 *
 * Nodes publish on their own phase, so their snapshots never share timestamps: each snapshot falls in a
 * bucket of one interval (`round(time / intervalMs)`), and a node missing from a bucket lends its last
 * value for `carry` buckets. A node gone longer stops counting, and a bucket no node filled is a gap.
 */
import type { RecentError, Snapshot, TopChannel } from './snapshot.js';
import type { Timeline } from './timeline.js';

/** A number read from a snapshot; null when the snapshot has none (a node without latency samples). */
export type Metric = (snapshot: Snapshot) => number | null;

/** How nodes' values combine: `sum` for counts and rates, `max` for latencies (the worst node). */
export type Aggregate = 'sum' | 'max';

/** One line of a cluster chart. */
export interface LineSpec {
  readonly label: string;
  readonly metric: Metric;
  readonly aggregate: Aggregate;
}

/** Series aligned on `x`: `ys[i][j]` is line i at `x[j]`. */
export interface AlignedSeries {
  /** Unix time in seconds (uPlot's default time scale). */
  readonly x: number[];
  readonly ys: (number | null)[][];
}

/** Series per node on one time axis: `ys[i]` is node `nodes[i]`. */
export interface NodeSeries extends AlignedSeries {
  readonly nodes: string[];
}

/** How the series are cut. */
export interface SeriesOptions {
  /** The nodes' publishing interval (ms). */
  readonly intervalMs: number;
  /** At most this many buckets, the newest. Default 300. */
  readonly window?: number;
  /** How many buckets a node's last value stands in for a missing one. Default 2. */
  readonly carry?: number;
}

/** Each node's values per bucket, after carrying; and the buckets, sorted, cut to the window. */
function bucketed(timeline: Timeline, metric: Metric, options: SeriesOptions) {
  const { intervalMs } = options;
  const window = options.window ?? 300;
  const carry = options.carry ?? 2;
  const perNode = new Map<string, Map<number, number | null>>();
  const all = new Set<number>();
  for (const id of timeline.nodeIds()) {
    const buckets = new Map<number, number | null>();
    // Oldest first, so the newest snapshot of a bucket wins.
    for (const snapshot of timeline.history(id)) {
      const bucket = Math.round(snapshot.time / intervalMs);
      buckets.set(bucket, metric(snapshot));
      all.add(bucket);
    }
    perNode.set(id, buckets);
  }
  const buckets = [...all].sort((a, b) => a - b).slice(-window);
  const values = new Map<string, (number | null)[]>();
  for (const [id, own] of perNode) {
    const row: (number | null)[] = [];
    let lastValue: number | null = null;
    let lastBucket = -Infinity;
    for (const bucket of buckets) {
      if (own.has(bucket)) {
        lastValue = own.get(bucket) ?? null;
        lastBucket = bucket;
        row.push(lastValue);
      } else if (bucket - lastBucket <= carry) {
        row.push(lastValue);
      } else {
        row.push(null);
      }
    }
    values.set(id, row);
  }
  return { buckets, values, x: buckets.map((b) => (b * intervalMs) / 1000) };
}

function combine(values: readonly (number | null)[], aggregate: Aggregate): number | null {
  let out: number | null = null;
  for (const v of values) {
    if (v === null) continue;
    out = out === null ? v : aggregate === 'sum' ? out + v : Math.max(out, v);
  }
  return out;
}

/** Cluster-wide lines: each line's metric combined over the nodes at every bucket. */
export function clusterSeries(
  timeline: Timeline,
  lines: readonly LineSpec[],
  options: SeriesOptions,
): AlignedSeries {
  let x: number[] = [];
  const ys = lines.map((line) => {
    const { values, x: times, buckets } = bucketed(timeline, line.metric, options);
    x = times;
    const rows = [...values.values()];
    return buckets.map((_, j) =>
      combine(
        rows.map((row) => row[j] ?? null),
        line.aggregate,
      ),
    );
  });
  return { x, ys };
}

/** One line per node for `metric` (for example its event-loop delay), nodes sorted by id. */
export function nodeSeries(timeline: Timeline, metric: Metric, options: SeriesOptions): NodeSeries {
  const { values, x } = bucketed(timeline, metric, options);
  const nodes = [...values.keys()].sort();
  return { x, nodes, ys: nodes.map((id) => values.get(id) ?? []) };
}

/** Cluster totals from each node's newest snapshot. */
export interface ClusterSummary {
  readonly nodes: number;
  readonly degraded: number;
  readonly notReady: number;
  readonly connections: number;
  readonly users: number;
  readonly channels: number;
  readonly inPerSec: number;
  readonly outPerSec: number;
  readonly droppedPerSec: number;
  readonly errorsPerSec: number;
  /** The worst node's delivery latency p99; null when no node has a sample. */
  readonly latencyP99: number | null;
}

/** Totals over `snapshots` (users and channels are summed per node: one on two nodes counts twice). */
export function summarize(snapshots: readonly Snapshot[]): ClusterSummary {
  const sum = (f: (s: Snapshot) => number): number => snapshots.reduce((t, s) => t + f(s), 0);
  return {
    nodes: snapshots.length,
    degraded: snapshots.filter((s) => s.health.status !== 'ok').length,
    notReady: snapshots.filter((s) => !s.ready).length,
    connections: sum((s) => s.connections),
    users: sum((s) => s.users),
    channels: sum((s) => s.channels),
    inPerSec: sum((s) => s.rates.inPerSec),
    outPerSec: sum((s) => s.rates.outPerSec),
    droppedPerSec: sum((s) => s.rates.droppedPerSec),
    errorsPerSec: sum((s) => s.rates.errorsPerSec),
    latencyP99: combine(
      snapshots.map((s) => s.latencyMs?.p99 ?? null),
      'max',
    ),
  };
}

/** Close codes summed over the nodes, most frequent first (then by code). */
export function mergeCloseCodes(snapshots: readonly Snapshot[]): { code: string; count: number }[] {
  const totals = new Map<string, number>();
  for (const s of snapshots)
    for (const [code, n] of Object.entries(s.closeCodes)) totals.set(code, (totals.get(code) ?? 0) + n);
  return [...totals]
    .map(([code, count]) => ({ code, count }))
    .sort((a, b) => b.count - a.count || Number(a.code) - Number(b.code) || a.code.localeCompare(b.code));
}

/** The busiest channels over the cluster: a channel's members and rates summed over its nodes. */
export function mergeTopChannels(snapshots: readonly Snapshot[], limit = 10): TopChannel[] {
  const byName = new Map<string, { name: string; members: number; inPerSec: number; outPerSec: number }>();
  for (const s of snapshots) {
    for (const c of s.topChannels) {
      const entry = byName.get(c.name) ?? { name: c.name, members: 0, inPerSec: 0, outPerSec: 0 };
      entry.members += c.members;
      entry.inPerSec += c.inPerSec;
      entry.outPerSec += c.outPerSec;
      byName.set(c.name, entry);
    }
  }
  return [...byName.values()]
    .sort(
      (a, b) =>
        b.inPerSec + b.outPerSec - (a.inPerSec + a.outPerSec) ||
        b.members - a.members ||
        (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
    )
    .slice(0, limit);
}

/** A recent error and the node that recorded it. */
export interface NodeError extends RecentError {
  readonly nodeId: string;
}

/** Every node's recent errors, newest first. */
export function mergeRecentErrors(snapshots: readonly Snapshot[], limit = 20): NodeError[] {
  return snapshots
    .flatMap((s) => s.recentErrors.map((e) => ({ ...e, nodeId: s.nodeId })))
    .sort((a, b) => b.time - a.time)
    .slice(0, limit);
}
