/**
 * A server-side worker of a work queue (`server.consume(queue, handler, { prefetch })`): a consumer like a
 * connection, whose jobs run `handler` in this process. The handler resolving acks the job; throwing (or
 * rejecting) nacks it with the backoff. `stop()` takes no more jobs, waits for the running handlers, then
 * gives back anything still held.
 */
import type { QueueJob } from '../inbox/queue-store.js';
import type { Logger } from '../util/logger.js';
import { QueueConsumer } from './queue-lane.js';

/** A job as a worker's handler gets it. */
export interface Job<T = unknown> {
  readonly id: string;
  readonly queue: string;
  /** 1 on the first delivery, then 2, 3... across every consumer. */
  readonly attempt: number;
  readonly data: T;
  /** When it was enqueued (ms since the Unix epoch). */
  readonly time: number;
}

/** Handles one job: resolve to ack it, throw or reject to nack it (redelivered after a backoff). */
export type JobHandler<T = unknown> = (job: Job<T>) => unknown;

/** A running worker. */
export interface WorkerHandle {
  /** Take no more jobs, wait for the running handlers, then give back what is still held. */
  stop(): Promise<void>;
}

/** What a worker needs from the dispatcher. */
export interface QueueWorkerOptions {
  readonly queue: string;
  readonly id: string;
  readonly prefetch: number;
  readonly handler: JobHandler;
  /** Ack (`delayMs` null) or nack (-1: the backoff) a held job. */
  readonly settle: (
    consumer: QueueConsumer,
    job: string,
    delayMs: number | null,
  ) => Promise<'ok' | 'unknown' | 'lost'>;
  /** Leave the queue's lane and release what the consumer holds. */
  readonly leave: (consumer: QueueConsumer) => Promise<void>;
  /** The worker has stopped. */
  readonly forget: (worker: QueueWorker) => void;
  readonly logger: Logger;
}

/** A server-side worker. */
export class QueueWorker implements WorkerHandle {
  readonly consumer: QueueConsumer;
  private readonly running = new Set<Promise<void>>();
  private stopping: Promise<void> | null = null;

  constructor(private readonly options: QueueWorkerOptions) {
    this.consumer = new QueueConsumer(options.id, options.prefetch, (job) => this.start(job));
  }

  stop(): Promise<void> {
    this.stopping ??= this.finish(true);
    return this.stopping;
  }

  /** Stop without waiting for running handlers (the server is stopping). */
  abandon(): Promise<void> {
    this.stopping ??= this.finish(false);
    return this.stopping;
  }

  private async finish(wait: boolean): Promise<void> {
    this.consumer.active = false;
    if (wait) await Promise.all([...this.running]);
    try {
      await this.options.leave(this.consumer);
    } finally {
      this.options.forget(this);
    }
  }

  private start(job: QueueJob): void {
    const run = this.run(job).finally(() => this.running.delete(run));
    this.running.add(run);
  }

  private async run(job: QueueJob): Promise<void> {
    const { handler, settle, logger, queue } = this.options;
    let delayMs: number | null = null;
    try {
      await handler({
        id: job.id,
        queue: job.queue,
        attempt: job.attempt,
        data: JSON.parse(job.json) as unknown,
        time: job.time,
      });
    } catch (error) {
      logger.warn({ err: error, queue, job: job.id, attempt: job.attempt }, 'queue worker handler failed');
      delayMs = -1;
    }
    try {
      const settled = await settle(this.consumer, job.id, delayMs);
      if (settled === 'lost')
        logger.warn({ queue, job: job.id }, 'queue worker finished a job after its lock lapsed (lock lost)');
    } catch (error) {
      logger.warn({ err: error, queue, job: job.id }, 'queue worker could not ack or nack a job');
    }
  }
}
