/**
 * The work-queue runtime of one node (docs/delivery.md, "Work queues"): the wire side of `consume`,
 * `cancel`, `ack` and `nack` for jobs, the server-side workers, and one {@link QueueLane} per queue with
 * local consumers. Lanes wake on an enqueue anywhere (`notify`), on a freed slot, and on a poll timer
 * that finds expired locks and delayed nacks; a consumer that leaves releases its jobs at once.
 */
import type { QueueStats } from './delivery-stats.js';
import { DEFAULT_CONSUME_PREFETCH, ErrorCode } from '@switchboard/protocol';
import type { DeadLettered } from '../inbox/inbox-store.js';
import type { QueueJob, QueueStore } from '../inbox/queue-store.js';
import type { QueueNackReason, QueueRefusal } from '../metrics/metrics.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import type { Connection } from './connection.js';
import type { HubQueueRuntime } from './guaranteed-parts.js';
import { QueueConsumer, QueueLane } from './queue-lane.js';
import { QueueWorker } from './queue-worker.js';
import type { JobHandler, WorkerHandle } from './queue-worker.js';

/** Most queues one connection may consume at once; past it `consume` answers `too_many_subscriptions`. */
export const MAX_QUEUES_PER_CONNECTION = 64;

/** The queue metrics the dispatcher reports (a part of the Metrics seam). */
export interface QueueDispatchMetrics {
  queueDispatched(attempt: 'first' | 'retry', count: number): void;
  queueAcked(): void;
  queueNacked(reason: QueueNackReason, count: number): void;
  queueRefused(reason: QueueRefusal): void;
}

/** How the dispatcher answers clients (the hub's delivery and error replies). */
export interface QueueReplies {
  reply(connection: Connection, id: number, result: unknown): void;
  error(connection: Connection, code: ErrorCode, message: string, id?: number): void;
  writeText(connection: Connection, text: string): void;
}

/** What the queue dispatcher needs. */
export interface QueueDispatcherOptions {
  readonly nodeId: string;
  readonly store: QueueStore;
  /** A claimed job goes to another consumer when unacked this long (the lock's length). */
  readonly ackTimeoutMs: number;
  /** How often lanes look for expired locks and delayed jobs. */
  readonly pollMs: number;
  /** The redelivery delay of a nack without one (and a failed worker handler), after `attempt` attempts. */
  readonly backoff: (attempt: number) => number;
  /** Whether `connection` may consume `queue` (the authorizer's `consume` on `queue:<name>`). */
  readonly permits: (connection: Connection, queue: string) => Promise<boolean>;
  readonly replies: QueueReplies;
  /**
   * Wake every node's dispatcher for `queue` when a leaving consumer released jobs (the broker's
   * `{ kind: 'queue' }` envelope; never throws). Absent: other nodes find them at their next poll.
   */
  readonly announce?: (queue: string) => void;
  /** Jobs that became dead letters (counted and given to `onDeadLetter`). */
  readonly deadLettered: (queue: string, dead: DeadLettered) => void;
  readonly metrics: QueueDispatchMetrics;
  readonly logger: Logger;
  readonly clock: Clock;
}

/** How an ack or nack went: done, the consumer held no such job, or its lock had moved on. */
type Settled = 'ok' | 'unknown' | 'lost';

/** The work-queue runtime of one node. */
export class QueueDispatcher implements HubQueueRuntime {
  private readonly lanes = new Map<string, QueueLane>();
  /** The queues each connection consumes. */
  private readonly byConnection = new Map<Connection, Map<string, QueueConsumer>>();
  private readonly workers = new Set<QueueWorker>();
  private workerCount = 0;
  private poll: TimerHandle | null = null;
  /** Releases of closed connections still in flight (stop waits for them before the store closes). */
  private readonly leaving = new Set<Promise<void>>();

  constructor(private readonly options: QueueDispatcherOptions) {}

  /** Start the poll timer. */
  start(): void {
    this.poll ??= this.options.clock.setInterval(() => this.tick(), this.options.pollMs);
  }

  /** Stop polling and give back what the workers hold (running handlers' acks will find their locks gone). */
  async stop(): Promise<void> {
    this.poll?.cancel();
    this.poll = null;
    await Promise.all([...this.workers].map((worker) => worker.abandon()));
    await Promise.all([...this.leaving]);
  }

  /** `queue` has new jobs (an enqueue on some node): claim them for this node's consumers. */
  notify(queue: string): void {
    this.lanes.get(queue)?.pump(true);
  }

  /** The queues with consumers on this node. */
  queues(): Iterable<string> {
    return this.lanes.keys();
  }

  /** Each queue with consumers on this node: its consumers and the jobs they hold (for /stats). */
  stats(): QueueStats[] {
    const out: QueueStats[] = [];
    for (const [queue, lane] of this.lanes) {
      let inFlight = 0;
      for (const consumer of lane.consumers) inFlight += consumer.held.size;
      out.push({ queue, consumers: lane.consumers.length, inFlight });
    }
    return out.sort((a, b) => (a.queue < b.queue ? -1 : a.queue > b.queue ? 1 : 0));
  }

  /** Consumers of `queue` on this node. */
  consumers(queue: string): number {
    return this.lanes.get(queue)?.consumers.length ?? 0;
  }

  // ---------------------------------------------------------------- the wire

  async consume(
    connection: Connection,
    queue: string,
    prefetch: number | undefined,
    id: number | undefined,
  ): Promise<void> {
    const { replies, metrics } = this.options;
    const queues = this.byConnection.get(connection);
    const existing = queues?.get(queue);
    if (existing === undefined && (queues?.size ?? 0) >= MAX_QUEUES_PER_CONNECTION) {
      const message = `at most ${MAX_QUEUES_PER_CONNECTION} queues per connection`;
      replies.error(connection, ErrorCode.TooManySubscriptions, message, id);
      return;
    }
    if (!(await this.options.permits(connection, queue))) {
      metrics.queueRefused('permission_denied');
      replies.error(connection, ErrorCode.PermissionDenied, `not allowed to consume ${queue}`, id);
      return;
    }
    if (connection.state !== 'open') return;
    // The reply goes out before the first job, so the client knows the queue when a job arrives.
    if (id !== undefined) replies.reply(connection, id, { queue });
    const current = this.byConnection.get(connection)?.get(queue);
    if (current !== undefined) {
      // Consuming again changes the prefetch.
      current.prefetch = prefetch ?? current.prefetch;
      this.lanes.get(queue)?.pump(false);
      return;
    }
    const consumer = new QueueConsumer(
      `${this.options.nodeId}.${connection.id}`,
      prefetch ?? DEFAULT_CONSUME_PREFETCH,
      (job) => this.push(connection, job),
    );
    let mine = this.byConnection.get(connection);
    if (mine === undefined) this.byConnection.set(connection, (mine = new Map()));
    mine.set(queue, consumer);
    this.lane(queue).add(consumer);
  }

  async cancel(connection: Connection, queue: string, id: number | undefined): Promise<void> {
    const mine = this.byConnection.get(connection);
    const consumer = mine?.get(queue);
    if (consumer !== undefined) {
      mine?.delete(queue);
      if (mine?.size === 0) this.byConnection.delete(connection);
      await this.leave(queue, consumer);
    }
    if (id !== undefined) this.options.replies.reply(connection, id, {});
  }

  async ack(connection: Connection, queue: string, message: string, id: number | undefined): Promise<void> {
    const consumer = this.byConnection.get(connection)?.get(queue);
    const settled = consumer === undefined ? 'unknown' : await this.settle(queue, consumer, message, null);
    this.answer(connection, queue, message, settled, id);
  }

  async nack(
    connection: Connection,
    queue: string,
    message: string,
    delayMs: number | undefined,
    id: number | undefined,
  ): Promise<void> {
    const consumer = this.byConnection.get(connection)?.get(queue);
    const settled =
      consumer === undefined ? 'unknown' : await this.settle(queue, consumer, message, delayMs ?? -1);
    this.answer(connection, queue, message, settled, id);
  }

  closed(connection: Connection): void {
    const mine = this.byConnection.get(connection);
    if (mine === undefined) return;
    this.byConnection.delete(connection);
    for (const [queue, consumer] of mine) {
      const left = this.leave(queue, consumer)
        .catch((error: unknown) => this.failed(queue, error))
        .finally(() => this.leaving.delete(left));
      this.leaving.add(left);
    }
  }

  // ---------------------------------------------------------------- server-side workers

  /** Run `handler` for jobs of `queue` on this node, at most `prefetch` at once. */
  work(queue: string, handler: JobHandler, prefetch: number): WorkerHandle {
    const worker = new QueueWorker({
      queue,
      id: `${this.options.nodeId}.worker.${++this.workerCount}`,
      prefetch,
      handler,
      settle: (consumer, job, delayMs) => this.settle(queue, consumer, job, delayMs),
      leave: (consumer) => this.leave(queue, consumer),
      forget: (w) => this.workers.delete(w),
      logger: this.options.logger,
    });
    this.workers.add(worker);
    this.lane(queue).add(worker.consumer);
    return worker;
  }

  // ---------------------------------------------------------------- internals

  private lane(queue: string): QueueLane {
    let lane = this.lanes.get(queue);
    if (lane === undefined) {
      const { store, clock, ackTimeoutMs, metrics, deadLettered } = this.options;
      lane = new QueueLane(queue, {
        store,
        clock,
        lockMs: ackTimeoutMs,
        dispatched: (jobs) => dispatched(metrics, jobs),
        deadLettered,
        timedOut: (count) => metrics.queueNacked('timeout', count),
        failed: (q, error) => this.failed(q, error),
      });
      this.lanes.set(queue, lane);
    }
    return lane;
  }

  /** A consumer leaves its lane; the jobs it holds are available to the others at once, on every node. */
  private async leave(queue: string, consumer: QueueConsumer): Promise<void> {
    const lane = this.lanes.get(queue);
    lane?.remove(consumer);
    if (lane !== undefined && lane.consumers.length === 0) this.lanes.delete(queue);
    consumer.held.clear();
    const { store, clock, metrics } = this.options;
    const released = await store.release(queue, consumer.id, clock.now());
    if (released === 0) return;
    metrics.queueNacked('released', released);
    this.lanes.get(queue)?.pump(true);
    this.options.announce?.(queue);
  }

  /**
   * Ack (`delayMs` null) or nack (`delayMs` -1: the backoff) a job the consumer holds. Its slot is free
   * from here on, whatever the store answers.
   */
  private async settle(
    queue: string,
    consumer: QueueConsumer,
    message: string,
    delayMs: number | null,
  ): Promise<Settled> {
    const { store, clock, metrics, backoff } = this.options;
    const held = consumer.held.get(message);
    const token = held?.token ?? consumer.lapsed.get(message);
    if (token === undefined) return 'unknown';
    consumer.held.delete(message);
    consumer.lapsed.delete(message);
    const lane = this.lanes.get(queue);
    try {
      if (delayMs === null) {
        // A job whose lock lapsed here may still be acked while no one else has claimed it.
        if (!(await store.ack(queue, message, token))) return 'lost';
        metrics.queueAcked();
        return 'ok';
      }
      const delay = delayMs >= 0 ? delayMs : backoff(held?.attempt ?? 1);
      if (!(await store.nack(queue, message, token, delay, clock.now()))) return 'lost';
      metrics.queueNacked('nack', 1);
      if (delay === 0) lane?.pump(true);
      return 'ok';
    } finally {
      lane?.pump(false);
    }
  }

  private answer(
    connection: Connection,
    queue: string,
    message: string,
    settled: Settled,
    id: number | undefined,
  ): void {
    const { replies, metrics } = this.options;
    if (settled === 'ok') {
      if (id !== undefined) replies.reply(connection, id, {});
      return;
    }
    metrics.queueRefused(settled === 'lost' ? 'lock_lost' : 'not_found');
    const text = settled === 'lost' ? 'lock lost' : `no job ${message} held on ${queue}`;
    replies.error(connection, ErrorCode.NotFound, text, id);
  }

  /** Write a `job` push, its data spliced from the stored JSON. */
  private push(connection: Connection, job: QueueJob): void {
    if (connection.state !== 'open') return;
    const { queue, id, attempt, json, time } = job;
    const text = `{"type":"job","queue":${JSON.stringify(queue)},"id":${JSON.stringify(id)},"attempt":${attempt},"data":${json},"time":${time}}`;
    this.options.replies.writeText(connection, text);
  }

  private tick(): void {
    const now = this.options.clock.now();
    for (const lane of this.lanes.values()) {
      lane.expire(now);
      lane.pump(true);
    }
  }

  private failed(queue: string, error: unknown): void {
    this.options.logger.warn({ err: error, queue }, 'work queue dispatch failed; retrying at the next poll');
  }
}

function dispatched(metrics: QueueDispatchMetrics, jobs: readonly QueueJob[]): void {
  let first = 0;
  for (const job of jobs) if (job.attempt === 1) first++;
  if (first > 0) metrics.queueDispatched('first', first);
  if (jobs.length > first) metrics.queueDispatched('retry', jobs.length - first);
}
