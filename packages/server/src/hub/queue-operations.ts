/**
 * The work-queue operations of the library API and the HTTP API (docs/delivery.md, "Work queues"):
 * enqueue, dead letters (list, redeliver, delete), depth, and server-side workers. Arguments are checked
 * here, once, for both entry points; failures are the library's typed errors.
 */
import {
  DEFAULT_CONSUME_PREFETCH,
  ErrorCode,
  MAX_CONSUME_PREFETCH,
  encodeData,
  queueNameProblem,
} from '@switchboard/protocol';
import type { DeadLetter, DeadLetterReason } from '../inbox/inbox-store.js';
import type { EnqueueOutcome, QueueStore } from '../inbox/queue-store.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Clock } from '../util/clock.js';
import { InvalidArgumentError, InvalidQueueError, QueueFullError } from '../errors.js';
import type { QueueDispatcher } from './queue-dispatcher.js';
import type { JobHandler, WorkerHandle } from './queue-worker.js';

/** Most attempts a job may be given. */
export const MAX_JOB_ATTEMPTS = 100;
/** Longest job TTL (ms): 30 days. */
export const MAX_JOB_TTL_MS = 30 * 24 * 60 * 60 * 1000;
/** Longest idempotency key of `enqueue`. */
export const MAX_ENQUEUE_IDEMPOTENCY_KEY = 128;
/** Dead letters listed when no limit is given, and the most one call lists. */
export const DEFAULT_DEAD_LETTER_LIMIT = 100;
export const MAX_DEAD_LETTER_LIMIT = 1000;

/** Options of `enqueue`. */
export interface EnqueueOptions {
  /** Claims before the job becomes a dead letter. Default: the `queues.maxAttempts` option (5); 1 to 100. */
  readonly maxAttempts?: number;
  /** Dead-lettered ('expired') when not acked within this (ms). Default: never; at most 30 days. */
  readonly ttlMs?: number;
  /** A retried enqueue with the same key (within the idempotency window) returns the first job's id. */
  readonly idempotencyKey?: string;
}

/** What `enqueue` resolves with. */
export interface EnqueueResult {
  readonly id: string;
  /** True when the idempotency key matched an earlier enqueue: nothing new was stored. */
  readonly duplicate: boolean;
}

/** A dead letter of a work queue, as the library and the HTTP API show it. */
export interface QueueDeadLetter {
  readonly id: string;
  readonly data: unknown;
  /** When the job was enqueued. */
  readonly time: number;
  /** When it became a dead letter. */
  readonly deadAt: number;
  readonly reason: DeadLetterReason;
  readonly attempts: number;
}

/** A queue's depth, for the HTTP API. */
export interface QueueDepth {
  readonly queue: string;
  /** Jobs waiting to be claimed (delayed nacks included). */
  readonly waiting: number;
  /** Jobs claimed and not yet acked, on every node. */
  readonly claimed: number;
  /** Consumers of the queue on this node (connections and workers). */
  readonly consumers: number;
}

/** What the queue operations need. */
export interface QueueOperationsOptions {
  readonly store: QueueStore;
  readonly dispatcher: QueueDispatcher;
  /** `maxAttempts` of a job whose enqueue does not say. */
  readonly maxAttempts: number;
  /** The largest payload (JSON bytes): the `maxMessageBytes` limit, as for publish. */
  readonly maxMessageBytes: number;
  /** Wake every node's dispatcher for `queue` (the broker's `{ kind: 'queue' }` envelope); never rejects. */
  readonly announce: (queue: string) => Promise<void>;
  /** Throws ServerNotRunningError unless the server runs (every operation checks first). */
  readonly assertRunning: () => void;
  readonly metrics: Metrics;
  readonly clock: Clock;
}

/** The work-queue operations of the library and HTTP APIs. */
export class QueueOperations {
  /** This node's dispatcher (the hub's queue runtime). */
  readonly dispatcher: QueueDispatcher;

  constructor(private readonly options: QueueOperationsOptions) {
    this.dispatcher = options.dispatcher;
  }

  /** Store a job (durably, before resolving), then wake the consumers on every node. */
  async enqueue(queue: string, data: unknown, options: EnqueueOptions = {}): Promise<EnqueueResult> {
    this.options.assertRunning();
    const { store, metrics, clock } = this.options;
    const json = this.checkEnqueue(queue, data, options);
    const outcome = await store.enqueue({
      queue,
      json,
      maxAttempts: options.maxAttempts ?? this.options.maxAttempts,
      ...(options.ttlMs === undefined ? {} : { ttlMs: options.ttlMs }),
      ...(options.idempotencyKey === undefined ? {} : { idempotencyKey: options.idempotencyKey }),
      now: clock.now(),
    });
    const result = this.stored(queue, outcome);
    if (!result.duplicate) metrics.queueEnqueued();
    await this.options.announce(queue);
    return result;
  }

  /** The queue's dead letters, oldest first: at most `limit` (default 100, at most 1000). */
  async deadLetters(queue: string, limit = DEFAULT_DEAD_LETTER_LIMIT): Promise<QueueDeadLetter[]> {
    this.options.assertRunning();
    checkQueue(queue);
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_DEAD_LETTER_LIMIT)
      throw new InvalidArgumentError(
        ErrorCode.BadRequest,
        `limit must be an integer from 1 to ${MAX_DEAD_LETTER_LIMIT}`,
      );
    const letters = await this.options.store.deadLetters(queue, limit);
    return letters.map(shown);
  }

  /**
   * Put dead letter `id` back at the end of the queue with no attempts spent; resolves with the job's id,
   * or null when the queue has no such dead letter. Throws {@link QueueFullError} when the queue is full.
   */
  async redeliverDeadLetter(queue: string, id: string): Promise<{ id: string } | null> {
    this.options.assertRunning();
    checkQueue(queue);
    const outcome = await this.options.store.redeliver(queue, id, this.options.clock.now());
    if (outcome === undefined) return null;
    const result = this.stored(queue, outcome);
    await this.options.announce(queue);
    return { id: result.id };
  }

  /** Delete dead letter `id`; false when the queue had none. */
  async deleteDeadLetter(queue: string, id: string): Promise<boolean> {
    this.options.assertRunning();
    checkQueue(queue);
    return this.options.store.deleteDeadLetter(queue, id);
  }

  /** Jobs waiting and claimed (every node), and this node's consumers. */
  async depth(queue: string): Promise<QueueDepth> {
    this.options.assertRunning();
    checkQueue(queue);
    const { waiting, claimed } = await this.options.store.depth(queue);
    return { queue, waiting, claimed, consumers: this.options.dispatcher.consumers(queue) };
  }

  /** Run `handler` for the queue's jobs on this node, at most `prefetch` (default 1) at once. */
  consume(queue: string, handler: JobHandler, options: { readonly prefetch?: number } = {}): WorkerHandle {
    this.options.assertRunning();
    checkQueue(queue);
    if (typeof handler !== 'function')
      throw new InvalidArgumentError(ErrorCode.BadRequest, 'handler must be a function');
    const prefetch = options.prefetch ?? DEFAULT_CONSUME_PREFETCH;
    if (!Number.isSafeInteger(prefetch) || prefetch < 1 || prefetch > MAX_CONSUME_PREFETCH)
      throw new InvalidArgumentError(
        ErrorCode.BadRequest,
        `prefetch must be an integer from 1 to ${MAX_CONSUME_PREFETCH}`,
      );
    return this.options.dispatcher.work(queue, handler, prefetch);
  }

  /** Validate an enqueue; returns the payload's JSON. */
  private checkEnqueue(queue: string, data: unknown, options: EnqueueOptions): string {
    const { metrics } = this.options;
    const refuse = (error: InvalidArgumentError): never => {
      metrics.queueRefused(
        error.code === ErrorCode.InvalidQueue
          ? 'invalid_queue'
          : error.code === ErrorCode.MessageTooLarge
            ? 'message_too_large'
            : 'bad_request',
      );
      throw error;
    };
    const problem = queueNameProblem(queue);
    if (problem !== null) refuse(new InvalidQueueError(problem));
    const { maxAttempts, ttlMs, idempotencyKey } = options;
    if (maxAttempts !== undefined && !intIn(maxAttempts, 1, MAX_JOB_ATTEMPTS))
      refuse(badRequest(`maxAttempts must be an integer from 1 to ${MAX_JOB_ATTEMPTS}`));
    if (ttlMs !== undefined && !intIn(ttlMs, 1, MAX_JOB_TTL_MS))
      refuse(badRequest(`ttlMs must be an integer from 1 to ${MAX_JOB_TTL_MS}`));
    if (
      idempotencyKey !== undefined &&
      (typeof idempotencyKey !== 'string' ||
        idempotencyKey.length === 0 ||
        idempotencyKey.length > MAX_ENQUEUE_IDEMPOTENCY_KEY)
    )
      refuse(badRequest(`idempotencyKey must be a string of 1 to ${MAX_ENQUEUE_IDEMPOTENCY_KEY} characters`));
    const encoded = encodeData(data);
    if (!encoded.ok) return refuse(badRequest(encoded.message));
    const max = this.options.maxMessageBytes;
    if (Buffer.byteLength(encoded.json) > max)
      refuse(new InvalidArgumentError(ErrorCode.MessageTooLarge, `data is larger than ${max} bytes`));
    return encoded.json;
  }

  /** An enqueue's outcome, or QueueFullError. */
  private stored(queue: string, outcome: EnqueueOutcome): EnqueueResult {
    if (!outcome.ok) {
      this.options.metrics.queueRefused('queue_full');
      throw new QueueFullError(queue);
    }
    return { id: outcome.id, duplicate: outcome.duplicate };
  }
}

function checkQueue(queue: string): void {
  const problem = queueNameProblem(queue);
  if (problem !== null) throw new InvalidQueueError(problem);
}

function badRequest(message: string): InvalidArgumentError {
  return new InvalidArgumentError(ErrorCode.BadRequest, message);
}

function intIn(value: unknown, min: number, max: number): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max;
}

function shown(letter: DeadLetter): QueueDeadLetter {
  let data: unknown;
  try {
    data = JSON.parse(letter.json) as unknown;
  } catch {
    data = letter.json;
  }
  return {
    id: letter.id,
    data,
    time: letter.time,
    deadAt: letter.deadAt,
    reason: letter.reason,
    attempts: letter.attempts,
  };
}
