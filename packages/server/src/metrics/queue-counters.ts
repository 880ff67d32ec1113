/** The Prometheus counters of work queues (docs/delivery.md, "Work queues"), registered in a server's registry. */
import { Counter } from 'prom-client';
import type { Registry } from 'prom-client';

/** Enqueues, dispatches, acks, nacks and refusals of work-queue jobs. */
export class QueueCounters {
  readonly enqueued: Counter;
  readonly dispatched: Counter<'attempt'>;
  readonly acks: Counter;
  readonly nacks: Counter<'reason'>;
  readonly refused: Counter<'reason'>;

  constructor(p: string, registry: Registry) {
    const registers = [registry];
    this.enqueued = new Counter({
      name: `${p}queue_enqueued_total`,
      help: 'Jobs stored in work queues (a retry with the same idempotency key is not counted)',
      registers,
    });
    this.dispatched = new Counter({
      name: `${p}queue_jobs_dispatched_total`,
      help: 'Jobs handed to consumers, by attempt (first, or a retry)',
      labelNames: ['attempt'],
      registers,
    });
    this.acks = new Counter({
      name: `${p}queue_acks_total`,
      help: 'Jobs acked by their consumer',
      registers,
    });
    this.nacks = new Counter({
      name: `${p}queue_nacks_total`,
      help: 'Jobs given back to their queue, by reason (a nack, the ack timeout, the consumer left)',
      labelNames: ['reason'],
      registers,
    });
    this.refused = new Counter({
      name: `${p}queue_refused_total`,
      help: 'Enqueues, consumes, acks and nacks of work queues refused, by reason',
      labelNames: ['reason'],
      registers,
    });
  }
}
