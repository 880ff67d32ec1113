/**
 * Work queues in this process's memory (one node: the memory engine's default). Per queue: jobs in
 * enqueue order (a Map: claims scan from the oldest, past the locked and the delayed ones, so a claim
 * costs about the jobs in flight, not the queue's length), the jobs each consumer holds (for release),
 * dead letters and idempotency keys. A claim hands out a fresh token; ack and nack must show it.
 */
import { randomBytes } from 'node:crypto';
import { settle } from '../util/settle.js';
import { DeadLetterList } from './dead-letter-list.js';
import { IdempotencyWindow } from './idempotency-window.js';
import type { DeadLetter, DeadLetterReason } from './inbox-store.js';
import { DEFAULT_QUEUE_LIMITS } from './queue-store.js';
import type {
  Claimed,
  EnqueueInput,
  EnqueueOutcome,
  QueueJob,
  QueueLimits,
  QueueStore,
} from './queue-store.js';

/** Options for {@link MemoryQueueStore}. */
export interface MemoryQueueStoreOptions {
  /** Bounds; each left out is {@link DEFAULT_QUEUE_LIMITS}'. */
  readonly limits?: Partial<QueueLimits>;
}

interface Job {
  readonly id: string;
  readonly json: string;
  readonly time: number;
  readonly maxAttempts: number;
  readonly ttlMs: number | undefined;
  attempts: number;
  /** Who holds it (claimed), or null (waiting). */
  consumer: string | null;
  token: string;
  lockedUntil: number;
  /** When a waiting job may be claimed (a nack's delay). */
  availableAt: number;
}

interface Queue {
  /** Jobs in enqueue order. */
  readonly jobs: Map<string, Job>;
  claimed: number;
  /** The jobs each consumer holds. */
  readonly holders: Map<string, Set<Job>>;
  readonly dead: DeadLetterList;
  readonly keys: IdempotencyWindow<string>;
}

const FULL: EnqueueOutcome = { ok: false, reason: 'full' };

/** Every work queue in memory. */
export class MemoryQueueStore implements QueueStore {
  private readonly limits: QueueLimits;
  private readonly queues = new Map<string, Queue>();
  private readonly idPrefix = randomBytes(8).toString('hex');
  private idCounter = 0;
  private tokenCounter = 0;

  constructor(options: MemoryQueueStoreOptions = {}) {
    this.limits = { ...DEFAULT_QUEUE_LIMITS, ...options.limits };
  }

  enqueue(input: EnqueueInput): Promise<EnqueueOutcome> {
    return settle(() => {
      const queue = this.queue(input.queue);
      if (input.idempotencyKey !== undefined) {
        const first = queue.keys.get(input.idempotencyKey, input.now);
        if (first !== undefined) return { ok: true, id: first, duplicate: true };
      }
      if (queue.jobs.size >= this.limits.maxJobs) return FULL;
      const id = this.add(queue, input.json, input.now, input.maxAttempts, input.ttlMs);
      if (input.idempotencyKey !== undefined) queue.keys.set(input.idempotencyKey, id, input.now);
      return { ok: true, id, duplicate: false };
    });
  }

  claim(name: string, consumer: string, count: number, lockMs: number, now: number): Promise<Claimed> {
    return settle(() => {
      const jobs: QueueJob[] = [];
      const letters: DeadLetter[] = [];
      let dropped = 0;
      const queue = this.queues.get(name);
      if (queue === undefined) return { jobs, dead: { letters, dropped } };
      for (const job of queue.jobs.values()) {
        if (jobs.length >= count) break;
        if (job.consumer === null ? job.availableAt > now : job.lockedUntil > now) continue;
        const reason: DeadLetterReason | null =
          job.ttlMs !== undefined && job.time + job.ttlMs <= now
            ? 'expired'
            : job.attempts >= job.maxAttempts
              ? 'max_attempts'
              : null;
        if (reason !== null) {
          const killed = this.kill(queue, job, reason, now);
          letters.push(killed.letter);
          dropped += killed.dropped;
          continue;
        }
        this.unhold(queue, job);
        job.attempts++;
        job.consumer = consumer;
        job.token = `${this.idPrefix}.${(++this.tokenCounter).toString(36)}`;
        job.lockedUntil = now + lockMs;
        queue.claimed++;
        let held = queue.holders.get(consumer);
        if (held === undefined) queue.holders.set(consumer, (held = new Set()));
        held.add(job);
        jobs.push({
          id: job.id,
          queue: name,
          json: job.json,
          time: job.time,
          attempt: job.attempts,
          maxAttempts: job.maxAttempts,
          token: job.token,
          lockedUntil: job.lockedUntil,
        });
      }
      return { jobs, dead: { letters, dropped } };
    });
  }

  ack(name: string, id: string, token: string): Promise<boolean> {
    return settle(() => {
      const queue = this.queues.get(name);
      const job = queue?.jobs.get(id);
      if (queue === undefined || job === undefined || job.consumer === null || job.token !== token)
        return false;
      this.unhold(queue, job);
      queue.jobs.delete(id);
      this.dropIfEmpty(name, queue);
      return true;
    });
  }

  nack(name: string, id: string, token: string, delayMs: number, now: number): Promise<boolean> {
    return settle(() => {
      const queue = this.queues.get(name);
      const job = queue?.jobs.get(id);
      if (queue === undefined || job === undefined || job.consumer === null || job.token !== token)
        return false;
      this.unhold(queue, job);
      job.availableAt = now + delayMs;
      return true;
    });
  }

  release(name: string, consumer: string, now: number): Promise<number> {
    return settle(() => {
      const queue = this.queues.get(name);
      const held = queue?.holders.get(consumer);
      if (queue === undefined || held === undefined) return 0;
      let released = 0;
      for (const job of held) {
        this.unhold(queue, job);
        job.availableAt = now;
        released++;
      }
      return released;
    });
  }

  depth(name: string): Promise<{ readonly waiting: number; readonly claimed: number }> {
    return settle(() => {
      const queue = this.queues.get(name);
      if (queue === undefined) return { waiting: 0, claimed: 0 };
      return { waiting: queue.jobs.size - queue.claimed, claimed: queue.claimed };
    });
  }

  deadLetters(name: string, limit: number): Promise<readonly DeadLetter[]> {
    return settle(() => this.queues.get(name)?.dead.list(limit) ?? []);
  }

  redeliver(name: string, id: string, now: number): Promise<EnqueueOutcome | undefined> {
    return settle((): EnqueueOutcome | undefined => {
      const queue = this.queues.get(name);
      const kept = queue?.dead.get(id);
      if (queue === undefined || kept === undefined) return undefined;
      if (queue.jobs.size >= this.limits.maxJobs) return FULL;
      queue.dead.delete(id);
      return {
        ok: true,
        id: this.add(queue, kept.letter.json, now, kept.maxAttempts, kept.ttlMs),
        duplicate: false,
      };
    });
  }

  deleteDeadLetter(name: string, id: string): Promise<boolean> {
    return settle(() => {
      const queue = this.queues.get(name);
      if (queue === undefined || !queue.dead.delete(id)) return false;
      this.dropIfEmpty(name, queue);
      return true;
    });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** Queues whose records the store holds (for tests). */
  get queueCount(): number {
    return this.queues.size;
  }

  /**
   * Forget a queue that holds nothing (no job, dead letter or idempotency key), so that queue names
   * used once do not stay for the life of the process; the next enqueue creates it again.
   */
  private dropIfEmpty(name: string, queue: Queue): void {
    if (queue.jobs.size === 0 && queue.dead.size === 0 && queue.keys.size === 0) this.queues.delete(name);
  }

  private queue(name: string): Queue {
    let queue = this.queues.get(name);
    if (queue === undefined) {
      queue = {
        jobs: new Map(),
        claimed: 0,
        holders: new Map(),
        dead: new DeadLetterList(this.limits.maxDeadLetters),
        keys: new IdempotencyWindow(this.limits.idempotencyWindowMs),
      };
      this.queues.set(name, queue);
    }
    return queue;
  }

  private add(
    queue: Queue,
    json: string,
    now: number,
    maxAttempts: number,
    ttlMs: number | undefined,
  ): string {
    const id = `${this.idPrefix}-${(++this.idCounter).toString(36)}`;
    queue.jobs.set(id, {
      id,
      json,
      time: now,
      maxAttempts,
      ttlMs,
      attempts: 0,
      consumer: null,
      token: '',
      lockedUntil: 0,
      availableAt: now,
    });
    return id;
  }

  /** The job is no longer held by anyone (waiting, or about to be claimed anew or removed). */
  private unhold(queue: Queue, job: Job): void {
    if (job.consumer === null) return;
    const held = queue.holders.get(job.consumer);
    held?.delete(job);
    if (held?.size === 0) queue.holders.delete(job.consumer);
    job.consumer = null;
    job.token = '';
    queue.claimed--;
  }

  /** Move `job` to the queue's dead letters. */
  private kill(
    queue: Queue,
    job: Job,
    reason: DeadLetterReason,
    now: number,
  ): { letter: DeadLetter; dropped: number } {
    this.unhold(queue, job);
    queue.jobs.delete(job.id);
    const letter: DeadLetter = {
      id: job.id,
      json: job.json,
      time: job.time,
      deadAt: now,
      reason,
      attempts: job.attempts,
    };
    return { letter, dropped: queue.dead.add(letter, job.maxAttempts, job.ttlMs) };
  }
}
