/**
 * The options of guaranteed delivery (`inbox`, `queues` of createServer), their defaults and bounds, and
 * their validation into the resolved config the dispatchers and the library API read.
 */
import { InvalidOptionError } from '../errors.js';
import { DEFAULT_INBOX_LIMITS } from '../inbox/inbox-store.js';
import type { InboxLimits } from '../inbox/inbox-store.js';
import { DEFAULT_QUEUE_LIMITS } from '../inbox/queue-store.js';
import type { QueueLimits } from '../inbox/queue-store.js';

/** Where inboxes and queues are kept: in this process, in the Redis engine's Redis, or in PostgreSQL. */
export type DeliveryStoreKind = 'memory' | 'redis' | 'postgres';

/** The `inbox` option of createServer: each user's acknowledged inbox (docs/delivery.md). */
export interface InboxOptions {
  /**
   * Where inboxes are kept. Default: the engine's store (Redis with the Redis engine), else memory (one
   * node). `'postgres'` needs the `postgres` option.
   */
  readonly store?: DeliveryStoreKind;
  /** How long a message waits for its devices' acks (ms) unless `deliver` says otherwise. Default 86400000 (24 h); at most 30 days. */
  readonly ttlMs?: number;
  /** Deliveries to one device before the message becomes a dead letter, unless `deliver` says otherwise. Default 5; 1 to 100. */
  readonly maxAttempts?: number;
  /** A device's oldest unacked message is redelivered when unacked this long (ms). Default 30000. */
  readonly ackTimeoutMs?: number;
  /** Redelivery backoff after a nack or ack timeout: full jitter from this (ms)... Default 1000. */
  readonly retryMinMs?: number;
  /** ...doubling per attempt up to this (ms). Default 60000. */
  readonly retryMaxMs?: number;
  /** How often each node moves expired messages to dead letters (ms). Default 5000. */
  readonly sweepMs?: number;
  /** `onUndelivered` fires for a message no device acked within this (ms). Default: never. */
  readonly undeliveredAfterMs?: number;
  /** Per-user bounds of the store (messages, bytes, what happens when full, dead letters kept...). */
  readonly limits?: Partial<InboxLimits>;
}

/** The `queues` option of createServer: work queues with competing consumers (docs/delivery.md). */
export interface QueueOptions {
  /** Where queues are kept (see {@link InboxOptions.store}). */
  readonly store?: DeliveryStoreKind;
  /** A claimed job is redelivered to another consumer when unacked this long (ms). Default 30000. */
  readonly ackTimeoutMs?: number;
  /** Claims of a job before it becomes a dead letter, unless `enqueue` says otherwise. Default 5; 1 to 100. */
  readonly maxAttempts?: number;
  /** How often a node with consumers looks for expired locks and delayed jobs (ms). Default 1000. */
  readonly pollMs?: number;
  /** Backoff of a nacked job without a `delay`: full jitter from this (ms)... Default 1000. */
  readonly retryMinMs?: number;
  /** ...doubling per attempt up to this (ms). Default 60000. */
  readonly retryMaxMs?: number;
  /** Per-queue bounds of the store. */
  readonly limits?: Partial<QueueLimits>;
}

/** {@link InboxOptions} with every default filled in. */
export interface ResolvedInboxConfig {
  readonly store: DeliveryStoreKind | undefined;
  readonly ttlMs: number;
  readonly maxAttempts: number;
  readonly ackTimeoutMs: number;
  readonly retryMinMs: number;
  readonly retryMaxMs: number;
  readonly sweepMs: number;
  /** Null: `onUndelivered` never fires. */
  readonly undeliveredAfterMs: number | null;
  readonly limits: InboxLimits;
}

/** {@link QueueOptions} with every default filled in. */
export interface ResolvedQueueConfig {
  readonly store: DeliveryStoreKind | undefined;
  readonly ackTimeoutMs: number;
  readonly maxAttempts: number;
  readonly pollMs: number;
  readonly retryMinMs: number;
  readonly retryMaxMs: number;
  readonly limits: QueueLimits;
}

/** The resolved configuration of guaranteed delivery. */
export interface GuaranteedConfig {
  readonly inbox: ResolvedInboxConfig;
  readonly queues: ResolvedQueueConfig;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** Longest message TTL (ms): 30 days. */
export const MAX_DELIVERY_TTL_MS = 30 * DAY_MS;
/** Most delivery attempts a message or job may be given. */
export const MAX_DELIVERY_ATTEMPTS = 100;
/** Longest idempotency key of `deliver` and `enqueue`. */
export const MAX_DELIVERY_IDEMPOTENCY_KEY = 128;

/** Defaults of {@link InboxOptions}. */
export const DEFAULT_INBOX_CONFIG: ResolvedInboxConfig = {
  store: undefined,
  ttlMs: DAY_MS,
  maxAttempts: 5,
  ackTimeoutMs: 30_000,
  retryMinMs: 1000,
  retryMaxMs: 60_000,
  sweepMs: 5000,
  undeliveredAfterMs: null,
  limits: DEFAULT_INBOX_LIMITS,
};

/** Defaults of {@link QueueOptions}. */
export const DEFAULT_QUEUE_CONFIG: ResolvedQueueConfig = {
  store: undefined,
  ackTimeoutMs: 30_000,
  maxAttempts: 5,
  pollMs: 1000,
  retryMinMs: 1000,
  retryMaxMs: 60_000,
  limits: DEFAULT_QUEUE_LIMITS,
};

const STORES: readonly DeliveryStoreKind[] = ['memory', 'redis', 'postgres'];

/**
 * Fill in and validate `inbox` and `queues`; throws {@link InvalidOptionError}. `undeliveredAfterMs` is
 * the top-level option of that name (documented beside the webhooks); `inbox.undeliveredAfterMs` wins.
 */
export function resolveGuaranteedConfig(
  inbox: InboxOptions | undefined,
  queues: QueueOptions | undefined,
  undeliveredAfterMs?: number,
): GuaranteedConfig {
  const within = inbox?.undeliveredAfterMs ?? undeliveredAfterMs;
  return {
    inbox: resolveInbox(within === undefined ? (inbox ?? {}) : { ...inbox, undeliveredAfterMs: within }),
    queues: resolveQueues(queues ?? {}),
  };
}

function resolveInbox(options: InboxOptions): ResolvedInboxConfig {
  const d = DEFAULT_INBOX_CONFIG;
  const retryMinMs = int('inbox.retryMinMs', options.retryMinMs, d.retryMinMs, 1, 3_600_000);
  const limits = options.limits ?? {};
  const l = DEFAULT_INBOX_LIMITS;
  const whenFull = limits.whenFull ?? l.whenFull;
  if (whenFull !== 'reject' && whenFull !== 'dead-letter-oldest')
    throw new InvalidOptionError('inbox.limits.whenFull', whenFull, "'reject' or 'dead-letter-oldest'");
  return {
    store: store('inbox.store', options.store),
    ttlMs: int('inbox.ttlMs', options.ttlMs, d.ttlMs, 1, MAX_DELIVERY_TTL_MS),
    maxAttempts: int('inbox.maxAttempts', options.maxAttempts, d.maxAttempts, 1, MAX_DELIVERY_ATTEMPTS),
    ackTimeoutMs: int('inbox.ackTimeoutMs', options.ackTimeoutMs, d.ackTimeoutMs, 10, 3_600_000),
    retryMinMs,
    retryMaxMs: int(
      'inbox.retryMaxMs',
      options.retryMaxMs,
      Math.max(d.retryMaxMs, retryMinMs),
      retryMinMs,
      3_600_000,
    ),
    sweepMs: int('inbox.sweepMs', options.sweepMs, d.sweepMs, 10, 3_600_000),
    undeliveredAfterMs:
      options.undeliveredAfterMs === undefined
        ? null
        : int('inbox.undeliveredAfterMs', options.undeliveredAfterMs, 0, 1, MAX_DELIVERY_TTL_MS),
    limits: {
      maxMessages: int('inbox.limits.maxMessages', limits.maxMessages, l.maxMessages, 1, 10_000_000),
      maxBytes: int('inbox.limits.maxBytes', limits.maxBytes, l.maxBytes, 1, 2 ** 40),
      whenFull,
      maxDeadLetters: int(
        'inbox.limits.maxDeadLetters',
        limits.maxDeadLetters,
        l.maxDeadLetters,
        0,
        10_000_000,
      ),
      idempotencyWindowMs: int(
        'inbox.limits.idempotencyWindowMs',
        limits.idempotencyWindowMs,
        l.idempotencyWindowMs,
        0,
        MAX_DELIVERY_TTL_MS,
      ),
      deviceTtlMs: int('inbox.limits.deviceTtlMs', limits.deviceTtlMs, l.deviceTtlMs, 1000, 365 * DAY_MS),
    },
  };
}

function resolveQueues(options: QueueOptions): ResolvedQueueConfig {
  const d = DEFAULT_QUEUE_CONFIG;
  const retryMinMs = int('queues.retryMinMs', options.retryMinMs, d.retryMinMs, 1, 3_600_000);
  const limits = options.limits ?? {};
  const l = DEFAULT_QUEUE_LIMITS;
  return {
    store: store('queues.store', options.store),
    ackTimeoutMs: int('queues.ackTimeoutMs', options.ackTimeoutMs, d.ackTimeoutMs, 10, 3_600_000),
    maxAttempts: int('queues.maxAttempts', options.maxAttempts, d.maxAttempts, 1, MAX_DELIVERY_ATTEMPTS),
    pollMs: int('queues.pollMs', options.pollMs, d.pollMs, 10, 3_600_000),
    retryMinMs,
    retryMaxMs: int(
      'queues.retryMaxMs',
      options.retryMaxMs,
      Math.max(d.retryMaxMs, retryMinMs),
      retryMinMs,
      3_600_000,
    ),
    limits: {
      maxJobs: int('queues.limits.maxJobs', limits.maxJobs, l.maxJobs, 1, 100_000_000),
      maxDeadLetters: int(
        'queues.limits.maxDeadLetters',
        limits.maxDeadLetters,
        l.maxDeadLetters,
        0,
        10_000_000,
      ),
      idempotencyWindowMs: int(
        'queues.limits.idempotencyWindowMs',
        limits.idempotencyWindowMs,
        l.idempotencyWindowMs,
        0,
        MAX_DELIVERY_TTL_MS,
      ),
    },
  };
}

function store(name: string, value: DeliveryStoreKind | undefined): DeliveryStoreKind | undefined {
  if (value !== undefined && !STORES.includes(value))
    throw new InvalidOptionError(name, value, STORES.map((s) => `'${s}'`).join(', '));
  return value;
}

function int(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min || value > max)
    throw new InvalidOptionError(name, value, `an integer from ${min} to ${max}`);
  return value;
}
