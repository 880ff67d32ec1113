/**
 * The work-queue seam: named queues whose jobs go to one consumer at a time (competing consumers). A
 * claimed job is locked to its consumer until it is acked, nacked, released or its lock expires; then it
 * can be claimed again, counting one more attempt; once `maxAttempts` claims went unacked it becomes a
 * dead letter. Memory, Redis Streams (consumer groups) and PostgreSQL (`FOR UPDATE SKIP LOCKED`)
 * implement it; test/queue-contract.ts holds the contract. Failures are rejected promises.
 */
import type { DeadLetter, DeadLettered } from './inbox-store.js';

/** A job claimed by a consumer. */
export interface QueueJob {
  /** Opaque and unique in the deployment; at most 128 characters. */
  readonly id: string;
  readonly queue: string;
  readonly json: string;
  /** When it was enqueued. */
  readonly time: number;
  /** This claim's attempt: 1 for the first claim, then 2, 3... */
  readonly attempt: number;
  readonly maxAttempts: number;
  /** Proves this claim: ack and nack with an older claim's token are refused (the lock moved on). */
  readonly token: string;
  /** When the lock expires unless acked or nacked. */
  readonly lockedUntil: number;
}

/** What `enqueue` stores. */
export interface EnqueueInput {
  readonly queue: string;
  readonly json: string;
  readonly maxAttempts: number;
  /** Dead-lettered ('expired') when not acked within this (ms). Absent: never expires. */
  readonly ttlMs?: number;
  /** A retried enqueue with the same key (within the idempotency window) returns the first job's id. */
  readonly idempotencyKey?: string;
  readonly now: number;
}

/** The outcome of `enqueue`. */
export type EnqueueOutcome =
  | { readonly ok: true; readonly id: string; readonly duplicate: boolean }
  | { readonly ok: false; readonly reason: 'full' };

/** How a queue store bounds what it keeps. */
export interface QueueLimits {
  /** Most jobs (waiting and claimed) one queue holds. */
  readonly maxJobs: number;
  /** Most dead letters kept per queue; the oldest are dropped past it (counted). */
  readonly maxDeadLetters: number;
  /** How long an idempotency key is remembered (ms). */
  readonly idempotencyWindowMs: number;
}

/** Defaults for {@link QueueLimits}. */
export const DEFAULT_QUEUE_LIMITS: QueueLimits = {
  maxJobs: 100_000,
  maxDeadLetters: 1000,
  idempotencyWindowMs: 24 * 60 * 60 * 1000,
};

/** The outcome of `claim`. */
export interface Claimed {
  /** The claimed jobs, oldest first. */
  readonly jobs: readonly QueueJob[];
  /** Jobs found with their attempts spent or their TTL passed, moved to dead letters instead. */
  readonly dead: DeadLettered;
}

/** The work-queue seam. */
export interface QueueStore {
  /** Append a job to the queue (durably, before resolving). */
  enqueue(input: EnqueueInput): Promise<EnqueueOutcome>;
  /**
   * Claim up to `count` available jobs for `consumer`, oldest first, each locked until `now + lockMs`.
   * Available: never claimed, nacked with its delay passed, released, or with its lock expired. Each
   * claim counts one attempt; a job that would exceed its maxAttempts, or whose TTL passed, becomes a
   * dead letter instead (returned in `dead`). Two concurrent claims (any nodes) never get the same job.
   */
  claim(queue: string, consumer: string, count: number, lockMs: number, now: number): Promise<Claimed>;
  /** The job is done: removed. False when `token` no longer holds the lock (or the job is gone). */
  ack(queue: string, id: string, token: string): Promise<boolean>;
  /**
   * The consumer gave the job back: available again at `now + delayMs` (its attempt stays counted).
   * False when `token` no longer holds the lock.
   */
  nack(queue: string, id: string, token: string, delayMs: number, now: number): Promise<boolean>;
  /** Every job `consumer` holds in `queue` is available again now (the consumer left). Resolves with how many. */
  release(queue: string, consumer: string, now: number): Promise<number>;
  /** Jobs waiting (not claimed) and claimed, for /stats. */
  depth(queue: string): Promise<{ readonly waiting: number; readonly claimed: number }>;
  /** The queue's dead letters, oldest first, at most `limit`. */
  deadLetters(queue: string, limit: number): Promise<readonly DeadLetter[]>;
  /** Put dead letter `id` back at the end of the queue with no attempts; false when there was none. */
  redeliver(queue: string, id: string, now: number): Promise<EnqueueOutcome | undefined>;
  /** Delete dead letter `id`: false when there was none. */
  deleteDeadLetter(queue: string, id: string): Promise<boolean>;
  /** Release connections and timers. */
  close(): Promise<void>;
}
