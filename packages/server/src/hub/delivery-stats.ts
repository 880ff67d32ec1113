/**
 * The `delivery` block of /stats: this node's open inbox devices and in-flight inbox messages, its queues
 * with local consumers, and guaranteed delivery's counters since the server started. The counters are
 * kept by {@link DeliveryTally}, which sees the same calls as the Metrics seam (`tallyMetrics`), so any
 * Metrics implementation (Prometheus, Noop, yours) leaves them right.
 */
import type { DeadLetterReason } from '../inbox/inbox-store.js';
import type { Metrics, QueueNackReason } from '../metrics/metrics.js';
import { overlayMetrics } from '../metrics/metrics-overlay.js';

/** One queue with consumers on this node. */
export interface QueueStats {
  readonly queue: string;
  /** Consumers on this node (connections and server-side workers). */
  readonly consumers: number;
  /** Jobs they hold unacked. */
  readonly inFlight: number;
}

/** Guaranteed delivery on this node, as /stats shows it. */
export interface DeliveryStats {
  readonly inbox: {
    /** Devices with an open inbox on this node's connections. */
    readonly devices: number;
    /** Messages pushed to them and not acked yet. */
    readonly inFlight: number;
  };
  /** Queues with consumers on this node, by name. */
  readonly queues: readonly QueueStats[];
  /** Counts since the server started (this node). */
  readonly counters: DeliveryCounts;
}

/** Guaranteed delivery's counts on this node. */
export interface DeliveryCounts {
  /** Inbox messages stored (not duplicates) and jobs enqueued. */
  readonly stored: { readonly inbox: number; readonly queue: number };
  /** Acks of messages and jobs held on this node. */
  readonly acked: { readonly inbox: number; readonly queue: number };
  /** Messages and jobs given back for redelivery (nacks, ack timeouts, departed consumers). */
  readonly nacked: { readonly inbox: number; readonly queue: number };
  /** Dead letters this node moved. */
  readonly deadLettered: { readonly inbox: number; readonly queue: number };
}

/** Counts guaranteed delivery's events (the calls {@link tallyMetrics} forwards). */
export class DeliveryTally {
  private readonly counts = {
    stored: { inbox: 0, queue: 0 },
    acked: { inbox: 0, queue: 0 },
    nacked: { inbox: 0, queue: 0 },
    deadLettered: { inbox: 0, queue: 0 },
  };

  /** A copy of the counts. */
  snapshot(): DeliveryCounts {
    const c = this.counts;
    return {
      stored: { ...c.stored },
      acked: { ...c.acked },
      nacked: { ...c.nacked },
      deadLettered: { ...c.deadLettered },
    };
  }

  inboxStored(): void {
    this.counts.stored.inbox++;
  }
  queueEnqueued(): void {
    this.counts.stored.queue++;
  }
  inboxAcked(): void {
    this.counts.acked.inbox++;
  }
  queueAcked(): void {
    this.counts.acked.queue++;
  }
  inboxNacked(): void {
    this.counts.nacked.inbox++;
  }
  queueNacked(count: number): void {
    this.counts.nacked.queue += count;
  }
  deadLettered(kind: 'inbox' | 'queue'): void {
    this.counts.deadLettered[kind]++;
  }
}

/** `base` with guaranteed delivery's calls also counted in `tally` (metrics/metrics-overlay.ts). */
export function tallyMetrics(base: Metrics, tally: DeliveryTally): Metrics {
  const counted: Pick<
    Metrics,
    | 'inboxStored'
    | 'queueEnqueued'
    | 'inboxAcked'
    | 'queueAcked'
    | 'inboxNacked'
    | 'queueNacked'
    | 'deadLettered'
  > = {
    inboxStored: () => {
      tally.inboxStored();
      base.inboxStored();
    },
    queueEnqueued: () => {
      tally.queueEnqueued();
      base.queueEnqueued();
    },
    inboxAcked: (latencyMs: number | null) => {
      tally.inboxAcked();
      base.inboxAcked(latencyMs);
    },
    queueAcked: () => {
      tally.queueAcked();
      base.queueAcked();
    },
    inboxNacked: (reason: 'nack' | 'timeout') => {
      tally.inboxNacked();
      base.inboxNacked(reason);
    },
    queueNacked: (reason: QueueNackReason, count: number) => {
      tally.queueNacked(count);
      base.queueNacked(reason, count);
    },
    deadLettered: (kind: 'inbox' | 'queue', reason: DeadLetterReason) => {
      tally.deadLettered(kind);
      base.deadLettered(kind, reason);
    },
  };
  return overlayMetrics(base, counted);
}
