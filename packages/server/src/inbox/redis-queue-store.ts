import { randomBytes } from 'node:crypto';
import type { DeadLetter } from './inbox-store.js';
import type {
  Claimed,
  EnqueueInput,
  EnqueueOutcome,
  QueueJob,
  QueueLimits,
  QueueStore,
} from './queue-store.js';
import { DEFAULT_QUEUE_LIMITS } from './queue-store.js';
import {
  ACK,
  CLAIM,
  DELETE_DEAD_LETTER,
  DEPTH,
  ENQUEUE,
  NACK,
  REDELIVER,
  RELEASE,
} from './redis-queue-scripts.js';
import { parseDeadLetter } from './redis-inbox-scripts.js';
import type { RedisContext } from '../redis/redis-context.js';
import { toBackendError } from '../redis/redis-connection.js';
import type { RedisScript } from '../redis/redis-scripts.js';

/** A job id is `<stream entry id>.<random>`. */
const JOB_ID = /^(\d{1,20}-\d{1,20})\.[\w-]{1,32}$/;

/** A claimed job as the claim script returns it: entry id, r, json, time, attempt, maxAttempts, token. */
type ClaimRow = readonly [string, string, string, string, string, string, string];

/**
 * Work queues in Redis Streams, shared by every node: one stream per queue read through one consumer
 * group, so two claims (any nodes) never get the same job; each operation is one Lua script on the
 * queue's keys (hash tag `{q:<queue>}`), atomic on Redis Cluster too. Locks, nack delays and releases are
 * one sorted set of "available again at" times, and XCLAIM hands an available job to its next consumer
 * (redis-queue-scripts.ts says why not XAUTOCLAIM). Dead letters are a capped list per queue.
 */
export class RedisQueueStore implements QueueStore {
  private readonly limits: QueueLimits;

  constructor(
    readonly context: RedisContext,
    limits: Partial<QueueLimits> = {},
  ) {
    this.limits = { ...DEFAULT_QUEUE_LIMITS, ...limits };
  }

  async enqueue(input: EnqueueInput): Promise<EnqueueOutcome> {
    const reply = (await this.run(
      ENQUEUE,
      input.queue,
      input.now,
      [
        randomToken(),
        input.json,
        input.maxAttempts,
        input.ttlMs === undefined ? 0 : input.now + input.ttlMs,
        this.limits.maxJobs,
        this.limits.idempotencyWindowMs,
      ],
      input.idempotencyKey,
    )) as [number, string?];
    if (reply[0] === 2) return { ok: false, reason: 'full' };
    return { ok: true, id: String(reply[1]), duplicate: reply[0] === 1 };
  }

  async claim(queue: string, consumer: string, count: number, lockMs: number, now: number): Promise<Claimed> {
    const nonce = randomToken();
    const [rows, letters, dropped] = (await this.run(CLAIM, queue, now, [
      consumer,
      count,
      lockMs,
      nonce,
    ])) as [readonly ClaimRow[], readonly string[], number];
    const lockedUntil = now + Math.max(1, lockMs);
    const jobs: QueueJob[] = rows.map(([eid, r, json, time, attempt, maxAttempts, token]) => ({
      id: `${eid}.${r}`,
      queue,
      json,
      time: Number(time),
      attempt: Number(attempt),
      maxAttempts: Number(maxAttempts),
      token,
      lockedUntil,
    }));
    jobs.sort((a, b) => compareEntryIds(a.id, b.id));
    return { jobs, dead: { letters: letters.map(parseDeadLetter), dropped: Number(dropped) } };
  }

  async ack(queue: string, id: string, token: string): Promise<boolean> {
    const eid = JOB_ID.exec(id)?.[1];
    if (eid === undefined) return false;
    return (await this.run(ACK, queue, 0, [eid, token])) === 1;
  }

  async nack(queue: string, id: string, token: string, delayMs: number, now: number): Promise<boolean> {
    const eid = JOB_ID.exec(id)?.[1];
    if (eid === undefined) return false;
    return (await this.run(NACK, queue, now, [eid, token, now + Math.max(0, delayMs)])) === 1;
  }

  async release(queue: string, consumer: string, now: number): Promise<number> {
    return Number(await this.run(RELEASE, queue, now, [consumer]));
  }

  async depth(queue: string): Promise<{ readonly waiting: number; readonly claimed: number }> {
    const [total, claimed] = (await this.run(DEPTH, queue, 0, [])) as [number, number];
    return { waiting: Math.max(0, total - claimed), claimed };
  }

  async deadLetters(queue: string, limit: number): Promise<readonly DeadLetter[]> {
    if (limit <= 0) return [];
    const key = `${this.context.keys.queue(queue)}:l`;
    try {
      return (await this.context.client.lrange(key, 0, limit - 1)).map(parseDeadLetter);
    } catch (error) {
      throw toBackendError(error, 'queue dead letters');
    }
  }

  async redeliver(queue: string, id: string, now: number): Promise<EnqueueOutcome | undefined> {
    const reply = (await this.run(REDELIVER, queue, now, [id, randomToken(), this.limits.maxJobs])) as [
      number,
      string?,
    ];
    if (reply[0] === 3) return undefined;
    if (reply[0] === 2) return { ok: false, reason: 'full' };
    return { ok: true, id: String(reply[1]), duplicate: false };
  }

  async deleteDeadLetter(queue: string, id: string): Promise<boolean> {
    return (await this.run(DELETE_DEAD_LETTER, queue, 0, [id])) === 1;
  }

  /** The engine owns the connection and closes it. */
  async close(): Promise<void> {
    await Promise.resolve();
  }

  /** Run one of the queue's scripts; Redis being away or busy rejects with BackendUnavailableError. */
  private async run(
    script: RedisScript,
    queue: string,
    now: number,
    args: readonly (string | number)[],
    idempotencyKey?: string,
  ): Promise<unknown> {
    const base = this.context.keys.queue(queue);
    const keys = [`${base}:s`, `${base}:t`, `${base}:n`, `${base}:z`, `${base}:l`];
    if (idempotencyKey !== undefined) keys.push(`${base}:i:${idempotencyKey}`);
    try {
      return await script.run(this.context.client, keys, [now, this.limits.maxDeadLetters, ...args]);
    } catch (error) {
      throw toBackendError(error, script.name);
    }
  }
}

/** The random part of a job id, and a claim's nonce. */
function randomToken(): string {
  return randomBytes(9).toString('base64url');
}

/** Order of two job ids by their stream entry ids (`<ms>-<seq>`). */
function compareEntryIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.slice(0, a.indexOf('.')).split('-').map(Number);
  const [bm = 0, bs = 0] = b.slice(0, b.indexOf('.')).split('-').map(Number);
  return am - bm || as - bs;
}
