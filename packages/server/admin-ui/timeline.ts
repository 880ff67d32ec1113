/**
 * The snapshots the page holds: a bounded history per node, backfilled from the overview and grown by
 * the live channel. Pure: the caller passes the time. Staleness is judged by when the page RECEIVED a
 * node's snapshot, on the browser's clock, never by comparing the node's clock with the browser's.
 */
import { RingBuffer } from './ring-buffer.js';
import type { Snapshot } from './snapshot.js';

/** Default of the `capacity` of a {@link Timeline}: 300 snapshots, ten minutes at the default 2 s. */
export const DEFAULT_TIMELINE_CAPACITY = 300;

/** A node's newest snapshot, and whether it is overdue. */
export interface NodeView {
  readonly snapshot: Snapshot;
  /** No snapshot for more than the stale threshold: the node may be gone, or its link to the broker. */
  readonly stale: boolean;
  /** When the page received it (browser clock). */
  readonly receivedAt: number;
}

/** Snapshots per node, oldest first, each node's history bounded. */
export class Timeline {
  private readonly byNode = new Map<string, RingBuffer<Snapshot>>();
  /** When the page last received a snapshot of each node (browser clock). */
  private readonly seen = new Map<string, number>();

  /** A timeline keeping at most `capacity` snapshots per node. */
  constructor(readonly capacity: number = DEFAULT_TIMELINE_CAPACITY) {}

  /**
   * Add `snapshot`; false (and nothing changes) when its node already has one as new: a repeat, or one
   * arriving out of order, which the charts could not place. `receivedAt` is the browser's clock.
   */
  add(snapshot: Snapshot, receivedAt: number): boolean {
    let ring = this.byNode.get(snapshot.nodeId);
    if (ring === undefined) {
      ring = new RingBuffer<Snapshot>(this.capacity);
      this.byNode.set(snapshot.nodeId, ring);
    }
    const last = ring.last();
    if (last !== undefined && snapshot.time <= last.time) return false;
    ring.push(snapshot);
    this.seen.set(snapshot.nodeId, receivedAt);
    return true;
  }

  /** Add every snapshot of `snapshots`, in time order; returns how many were new. */
  addAll(snapshots: readonly Snapshot[], receivedAt: number): number {
    let added = 0;
    for (const snapshot of [...snapshots].sort((a, b) => a.time - b.time))
      if (this.add(snapshot, receivedAt)) added++;
    return added;
  }

  /** The node ids, sorted. */
  nodeIds(): string[] {
    return [...this.byNode.keys()].sort();
  }

  /** A node's snapshots, oldest first (empty for an unknown node). */
  history(nodeId: string): Snapshot[] {
    return this.byNode.get(nodeId)?.toArray() ?? [];
  }

  /**
   * Every node's newest snapshot, sorted by node id; `stale` when the page received nothing from the node
   * for more than `staleAfterMs` before `now`.
   */
  latest(now: number, staleAfterMs: number): NodeView[] {
    const out: NodeView[] = [];
    for (const id of this.nodeIds()) {
      const snapshot = this.byNode.get(id)?.last();
      const seen = this.seen.get(id) ?? -Infinity;
      if (snapshot !== undefined) out.push({ snapshot, stale: now - seen > staleAfterMs, receivedAt: seen });
    }
    return out;
  }

  /** Forget nodes the page received nothing from for more than `maxAgeMs` before `now`; returns their ids. */
  prune(now: number, maxAgeMs: number): string[] {
    const gone: string[] = [];
    for (const id of this.byNode.keys()) {
      if (now - (this.seen.get(id) ?? -Infinity) > maxAgeMs) gone.push(id);
    }
    for (const id of gone) {
      this.byNode.delete(id);
      this.seen.delete(id);
    }
    return gone;
  }

  /** Forget everything (signing out). */
  clear(): void {
    this.byNode.clear();
    this.seen.clear();
  }
}
