/**
 * Guaranteed delivery inside the hub: the inbox dispatcher (hub/inbox-dispatcher.ts), the queue runtime
 * (hub/queue-dispatcher.ts, built by `queueRuntime`), the wire commands routed to them, the dead-letter
 * reporter they share and the expiry sweep. Built by the hub, which hands `commands` to the command
 * context, `closed` to the lifecycle and `notifyInbox` / `notifyQueue` to the envelope router.
 */
import type { Authorizer } from '../auth/authorizer.js';
import type { InboxStore } from '../inbox/inbox-store.js';
import type { QueueStore } from '../inbox/queue-store.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import type { Webhooks } from '../webhooks/webhooks.js';
import { DeadLetterReporter } from './dead-letter-reporter.js';
import type { DeliveryStats, DeliveryTally } from './delivery-stats.js';
import type { QueueStats } from './delivery-stats.js';
import type { Delivery } from './delivery.js';
import type { ErrorReplies } from './error-replies.js';
import { GuaranteedCommands } from './guaranteed.js';
import type { QueueRuntime } from './guaranteed.js';
import type { GuaranteedConfig, ResolvedQueueConfig } from './guaranteed-config.js';
import type { ServerHooks } from './hooks.js';
import { InboxDispatcher } from './inbox-dispatcher.js';
import { undeliveredSweepFor } from './undelivered-sweep.js';
import type { UndeliveredSweep } from './undelivered-sweep.js';

/** What the queue runtime is built from (see {@link QueueRuntimeFactory}). */
export interface QueueRuntimeDeps {
  /** This node's id: consumer ids are `<nodeId>.<connectionId>`. */
  readonly nodeId: string;
  readonly store: QueueStore;
  readonly config: ResolvedQueueConfig;
  /** The write path: `writeText` for pushes, `reply` for answers. */
  readonly delivery: Pick<Delivery, 'writeText' | 'reply'>;
  /** Error replies (`send`) and the mapping of a thrown error to one (`failed`). */
  readonly errors: Pick<ErrorReplies, 'send' | 'failed'>;
  /** Who may consume a queue: the operation `consume` on the channel `queue:<name>`. */
  readonly authorizer: Authorizer;
  /** Counts dead letters and runs `onDeadLetter` (kind 'queue'). */
  readonly deadLetters: DeadLetterReporter;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly clock: Clock;
}

/** The queue runtime as the hub runs it: the wire side, plus wake-ups and its timers. */
export interface HubQueueRuntime extends QueueRuntime {
  /** Jobs were enqueued in `queue` (an envelope from any node): claim for local consumers. */
  notify(queue: string): void;
  /** The queues with consumers on this node. */
  queues(): Iterable<string>;
  /** Each queue with consumers on this node, by name: consumers and jobs held (for /stats). */
  stats(): QueueStats[];
  /** Start the poll timer. */
  start(): void;
  /** Stop the timers (server workers stop with it); the store is closed by the hub after. */
  stop(): Promise<void>;
}

/** Builds the queue runtime (hub/queue-dispatcher.ts); the hub calls it only when a QueueStore is set. */
export type QueueRuntimeFactory = (deps: QueueRuntimeDeps) => HubQueueRuntime;

/** What the guaranteed-delivery parts need from the hub. */
export interface GuaranteedPartsOptions {
  readonly nodeId: string;
  readonly inbox: InboxStore | undefined;
  readonly queues: QueueStore | undefined;
  readonly config: GuaranteedConfig;
  readonly queueRuntime: QueueRuntimeFactory | undefined;
  readonly delivery: Delivery;
  readonly errors: ErrorReplies;
  readonly authorizer: Authorizer;
  readonly hooks: ServerHooks;
  /** The `dead_letter` webhook's sender, when the server has webhooks. */
  readonly webhooks: Webhooks | undefined;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly clock: Clock;
}

/** The hub's guaranteed-delivery parts. */
export class GuaranteedParts {
  /** The wire commands (`inbox`, `ack`, `nack`, `consume`, `cancel`) and the connection's departure. */
  readonly commands: GuaranteedCommands;
  /** Null without an InboxStore. */
  readonly inbox: InboxDispatcher | null;
  /** Null without a QueueStore or a `queueRuntime` factory. */
  readonly queues: HubQueueRuntime | null;
  readonly deadLetters: DeadLetterReporter;
  /** `onUndelivered` and its webhook; null without an inbox, or when neither wants the reports. */
  private readonly undelivered: UndeliveredSweep | null;

  constructor(private readonly options: GuaranteedPartsOptions) {
    const { delivery, errors, metrics, logger, clock } = options;
    this.deadLetters = new DeadLetterReporter(options.hooks, metrics, logger, options.webhooks);
    this.inbox =
      options.inbox === undefined
        ? null
        : new InboxDispatcher({
            store: options.inbox,
            config: options.config.inbox,
            delivery,
            errors,
            deadLetters: this.deadLetters,
            metrics,
            logger,
            clock,
          });
    // Queue runtime injection point (helper D2): the factory builds hub/queue-dispatcher.ts.
    this.queues =
      options.queues === undefined || options.queueRuntime === undefined
        ? null
        : options.queueRuntime({
            nodeId: options.nodeId,
            store: options.queues,
            config: options.config.queues,
            delivery,
            errors,
            authorizer: options.authorizer,
            deadLetters: this.deadLetters,
            metrics,
            logger,
            clock,
          });
    this.commands = new GuaranteedCommands(errors, this.inbox, this.queues);
    const undeliveredAfterMs = options.config.inbox.undeliveredAfterMs ?? undefined;
    this.undelivered =
      options.inbox === undefined
        ? null
        : undeliveredSweepFor({
            store: options.inbox,
            ...(undeliveredAfterMs === undefined ? {} : { undeliveredAfterMs }),
            hooks: options.hooks,
            webhooks: options.webhooks,
            logger,
            clock,
          });
  }

  /** A user's inbox has new messages (an `inbox` envelope). */
  notifyInbox(userId: string): void {
    this.inbox?.notify(userId);
  }

  /** A queue has new jobs (a `queue` envelope). */
  notifyQueue(queue: string): void {
    this.queues?.notify(queue);
  }

  /** Wake-ups may have been lost (the broker reconnected): every local device and consumer looks again. */
  resync(): void {
    this.inbox?.notifyAll();
    for (const queue of this.queues?.queues() ?? []) this.queues?.notify(queue);
  }

  /** The /stats block of guaranteed delivery on this node, with `tally`'s counts. */
  stats(tally: DeliveryTally): DeliveryStats {
    return {
      inbox: this.inbox?.stats() ?? { devices: 0, inFlight: 0 },
      queues: this.queues?.stats() ?? [],
      counters: tally.snapshot(),
    };
  }

  /** Start the expiry and undelivered sweeps and the queue poll. */
  start(): void {
    this.inbox?.start();
    this.undelivered?.start();
    this.queues?.start();
  }

  /** Stop the timers, then close the stores. */
  async stop(): Promise<void> {
    this.inbox?.stop();
    await this.undelivered?.stop();
    await this.queues?.stop();
    await this.options.inbox?.close();
    await this.options.queues?.close();
  }
}
