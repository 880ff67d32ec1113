/**
 * What a node knows of the cluster's snapshots: its own last {@link HISTORY_KEPT} (to backfill the
 * dashboard's charts), and the latest one of every node heard on `$admin:nodes`. A node counts as live
 * while its latest snapshot is younger than three of its intervals. Pure: the time comes from the caller.
 */
import type { NodeSnapshot } from './node-snapshot.js';

/** This node's snapshots kept for the charts (5 minutes at the default 2 s interval). */
export const HISTORY_KEPT = 150;

/** Nodes remembered at most: a snapshot from an unknown node past it is ignored. */
const MAX_NODES = 1000;

/** Intervals of silence after which a node is gone. */
const LIVE_INTERVALS = 3;

/** A node's latest snapshot and when it arrived (this node's clock: theirs may be off). */
interface Latest {
  readonly snapshot: NodeSnapshot;
  readonly receivedAt: number;
}

/** This node's history and every node's latest snapshot. */
export class SnapshotBook {
  private readonly own: NodeSnapshot[] = [];
  private readonly latest = new Map<string, Latest>();

  constructor(private readonly nodeId: string) {}

  /** This node took a snapshot. */
  recordOwn(snapshot: NodeSnapshot, now: number): void {
    this.own.push(snapshot);
    if (this.own.length > HISTORY_KEPT) this.own.shift();
    this.latest.set(this.nodeId, { snapshot, receivedAt: now });
  }

  /** A snapshot arrived on `$admin:nodes` (this node's own are recorded by {@link recordOwn}). */
  recordPublished(json: string, now: number): void {
    const snapshot = parseSnapshot(json);
    if (snapshot === null || snapshot.nodeId === this.nodeId) return;
    if (!this.latest.has(snapshot.nodeId)) {
      this.forgetGone(now);
      if (this.latest.size >= MAX_NODES) return;
    }
    this.latest.set(snapshot.nodeId, { snapshot, receivedAt: now });
  }

  /** This node's snapshots, oldest first. */
  history(): NodeSnapshot[] {
    return [...this.own];
  }

  /** The latest snapshot of every live node, by node id. */
  nodes(now: number): NodeSnapshot[] {
    this.forgetGone(now);
    return [...this.latest.values()]
      .map((l) => l.snapshot)
      .sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0));
  }

  /** The ids of the live nodes other than this one (who should answer a cluster query). */
  others(now: number): string[] {
    return this.nodes(now)
      .map((s) => s.nodeId)
      .filter((id) => id !== this.nodeId);
  }

  private forgetGone(now: number): void {
    for (const [id, { snapshot, receivedAt }] of this.latest) {
      if (now - receivedAt > LIVE_INTERVALS * snapshot.intervalMs) this.latest.delete(id);
    }
  }
}

/** A published snapshot, checked enough to be kept and shown; null when it is not one. */
function parseSnapshot(json: string): NodeSnapshot | null {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const { nodeId, time, intervalMs } = value as Record<string, unknown>;
  if (typeof nodeId !== 'string' || nodeId === '' || nodeId.length > 200) return null;
  if (typeof time !== 'number' || typeof intervalMs !== 'number' || !(intervalMs > 0)) return null;
  return value as NodeSnapshot;
}
