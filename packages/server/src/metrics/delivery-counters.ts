/** The Prometheus metrics of guaranteed delivery (inboxes, dead letters), registered in a server's registry. */
import { Counter, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';

/** The inbox and dead-letter counters and the ack latency histogram. */
export class DeliveryCounters {
  readonly stored: Counter;
  readonly pushes: Counter<'attempt'>;
  readonly acks: Counter;
  readonly nacks: Counter<'reason'>;
  readonly refused: Counter<'reason'>;
  readonly deadLetters: Counter<'kind' | 'reason'>;
  readonly deadLettersDropped: Counter;
  readonly ackLatency: Histogram;

  constructor(p: string, registry: Registry) {
    const registers = [registry];
    this.stored = new Counter({
      name: `${p}inbox_stored_total`,
      help: "Messages stored in users' inboxes (deliver, and dead letters redelivered)",
      registers,
    });
    this.pushes = new Counter({
      name: `${p}inbox_pushes_total`,
      help: 'Inbox messages pushed to devices, by attempt (first, or a retry)',
      labelNames: ['attempt'],
      registers,
    });
    this.acks = new Counter({
      name: `${p}inbox_acks_total`,
      help: 'Inbox messages acked by a device',
      registers,
    });
    this.nacks = new Counter({
      name: `${p}inbox_nacks_total`,
      help: 'Inbox messages given back for redelivery, by reason (a nack, or the ack timeout)',
      labelNames: ['reason'],
      registers,
    });
    this.refused = new Counter({
      name: `${p}inbox_refused_total`,
      help: 'Delivers refused (inbox full, payload too large) and nacks refused (rate limited), by reason',
      labelNames: ['reason'],
      registers,
    });
    this.deadLetters = new Counter({
      name: `${p}dead_letters_total`,
      help: 'Inbox messages and queue jobs moved to dead letters, by kind and reason',
      labelNames: ['kind', 'reason'],
      registers,
    });
    this.deadLettersDropped = new Counter({
      name: `${p}dead_letters_dropped_total`,
      help: 'Old dead letters dropped to keep within maxDeadLetters',
      registers,
    });
    this.ackLatency = new Histogram({
      name: `${p}inbox_ack_latency_seconds`,
      help: 'Time from an inbox push to its ack (pushed and acked on this node)',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 30],
      registers,
    });
  }
}
