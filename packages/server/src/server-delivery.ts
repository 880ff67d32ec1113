/**
 * The guaranteed-delivery library API (`deliver`, dead letters; `enqueue` and workers to come), which
 * server.ts delegates to. The stores behind it: server-stores.ts. Semantics: docs/delivery.md.
 */
import { ErrorCode, encodeData } from '@switchboard/protocol';
import type { Broker } from './broker/broker.js';
import { InboxFullError, InvalidArgumentError } from './errors.js';
import type { DeadLetterReporter } from './hub/dead-letter-reporter.js';
import {
  MAX_DELIVERY_ATTEMPTS,
  MAX_DELIVERY_IDEMPOTENCY_KEY,
  MAX_DELIVERY_TTL_MS,
} from './hub/guaranteed-config.js';
import type { GuaranteedConfig } from './hub/guaranteed-config.js';
import type { DeadLetter, DeliverOutcome, InboxStore } from './inbox/inbox-store.js';
import type { Metrics } from './metrics/metrics.js';
import type { Clock } from './util/clock.js';
import type { Logger } from './util/logger.js';

/** Options of `server.deliver()`. */
export interface DeliverOptions {
  /** How long the message waits for its devices' acks (ms). Default `inbox.ttlMs` (24 h); at most 30 days. */
  readonly ttlMs?: number;
  /** Deliveries to one device before it becomes a dead letter. Default `inbox.maxAttempts` (5); 1 to 100. */
  readonly maxAttempts?: number;
  /**
   * Makes a retried deliver safe: a second deliver to the user with the same key within the idempotency
   * window (`inbox.limits.idempotencyWindowMs`, 24 h) resolves with the first message's id, `duplicate: true`.
   */
  readonly idempotencyKey?: string;
}

/** What `deliver` resolves with. */
export interface DeliverResult {
  /** The message's id (the `id` of its `inbox` pushes). */
  readonly id: string;
  /** True when the idempotency key matched an earlier deliver: nothing new was stored. */
  readonly duplicate: boolean;
}

/** A dead letter as the library API returns it: the stored fields with the payload parsed. */
export type DeadLetterEntry = Omit<DeadLetter, 'json' | 'userId'> & { readonly data: unknown };

/** What the delivery API needs from the server. */
export interface DeliveryApiOptions {
  readonly inbox: InboxStore | null;
  readonly config: GuaranteedConfig;
  readonly broker: Broker;
  readonly deadLetters: DeadLetterReporter;
  /** Throws ServerNotRunningError unless the server is running. */
  readonly assertRunning: () => void;
  /** Largest payload (JSON bytes): the server's `maxMessageBytes`, publish's limit. */
  readonly maxMessageBytes: number;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly clock: Clock;
}

/** Most dead letters one read returns. */
export const MAX_DEAD_LETTER_LIMIT = 1000;
/** Dead letters one read returns unless told. */
export const DEFAULT_DEAD_LETTER_LIMIT = 100;

/** The guaranteed-delivery library API; server.ts checks that the server runs before each call. */
export class DeliveryApi {
  constructor(private readonly options: DeliveryApiOptions) {}

  /** Store a message in a user's inbox, wake the user's nodes, resolve with its id. */
  async deliver(userId: string, data: unknown, options: DeliverOptions = {}): Promise<DeliverResult> {
    const inbox = this.inbox();
    checkUserId(userId);
    const { config, clock, metrics } = this.options;
    const ttlMs = bounded('ttlMs', options.ttlMs, config.inbox.ttlMs, 1, MAX_DELIVERY_TTL_MS);
    const maxAttempts = bounded(
      'maxAttempts',
      options.maxAttempts,
      config.inbox.maxAttempts,
      1,
      MAX_DELIVERY_ATTEMPTS,
    );
    const key = options.idempotencyKey;
    if (
      key !== undefined &&
      (typeof key !== 'string' || key.length === 0 || key.length > MAX_DELIVERY_IDEMPOTENCY_KEY)
    )
      throw new InvalidArgumentError(
        ErrorCode.BadRequest,
        `idempotencyKey must be a string of 1 to ${MAX_DELIVERY_IDEMPOTENCY_KEY} characters`,
      );
    const encoded = encodeData(data);
    if (!encoded.ok) throw new InvalidArgumentError(ErrorCode.BadRequest, encoded.message);
    if (Buffer.byteLength(encoded.json) > this.options.maxMessageBytes) {
      metrics.inboxRefused('too_large');
      throw new InvalidArgumentError(
        ErrorCode.MessageTooLarge,
        `data is over ${this.options.maxMessageBytes} bytes as JSON`,
      );
    }
    const outcome = await inbox.deliver({
      userId,
      json: encoded.json,
      ttlMs,
      maxAttempts,
      ...(key === undefined ? {} : { idempotencyKey: key }),
      now: clock.now(),
    });
    return this.stored(userId, outcome);
  }

  /** The user's dead letters, oldest first. */
  async deadLetters(userId: string, options: { readonly limit?: number } = {}): Promise<DeadLetterEntry[]> {
    const inbox = this.inbox();
    checkUserId(userId);
    const limit = bounded('limit', options.limit, DEFAULT_DEAD_LETTER_LIMIT, 1, MAX_DEAD_LETTER_LIMIT);
    const letters = await inbox.deadLetters(userId, limit);
    return letters.map(({ json, userId: _user, ...fields }) => ({
      ...fields,
      data: JSON.parse(json) as unknown,
    }));
  }

  /**
   * Put dead letter `id` back in the user's inbox as a new message (new id, attempts from 0, the inbox's
   * TTL); resolves with the new id, or null when there is no such dead letter.
   */
  async redeliverDeadLetter(userId: string, id: string): Promise<{ id: string } | null> {
    const inbox = this.inbox();
    checkUserId(userId);
    const outcome = await inbox.redeliver(
      userId,
      id,
      this.options.clock.now(),
      this.options.config.inbox.ttlMs,
    );
    if (outcome === undefined) return null;
    return { id: (await this.stored(userId, outcome)).id };
  }

  /** Delete dead letter `id`; false when there was none. */
  async deleteDeadLetter(userId: string, id: string): Promise<boolean> {
    const inbox = this.inbox();
    checkUserId(userId);
    return inbox.deleteDeadLetter(userId, id);
  }

  private inbox(): InboxStore {
    this.options.assertRunning();
    const inbox = this.options.inbox;
    if (inbox === null) throw new InvalidArgumentError(ErrorCode.NotAvailable, 'this server has no inbox');
    return inbox;
  }

  /** A store's answer to a deliver: refused when full, else the evicted reported and the user's nodes woken. */
  private async stored(userId: string, outcome: DeliverOutcome): Promise<DeliverResult> {
    const { metrics, broker, deadLetters } = this.options;
    if (!outcome.ok) {
      metrics.inboxRefused('full');
      throw new InboxFullError(userId);
    }
    if (outcome.evicted.length > 0 || outcome.dropped > 0)
      deadLetters.report({ kind: 'inbox', userId }, { letters: outcome.evicted, dropped: outcome.dropped });
    if (outcome.duplicate) return { id: outcome.message.id, duplicate: true };
    metrics.inboxStored();
    // Stored durably already: a failed wake-up only delays the push until the device's next pull.
    await broker.send({ kind: 'inbox', userId }).catch((error: unknown) => {
      this.options.logger.warn(
        { err: error, userId },
        'inbox wake-up not sent; the message waits for a pull',
      );
    });
    return { id: outcome.message.id, duplicate: false };
  }
}

/** User ids: what `sendToUser` takes, a non-empty string (at most 1024 characters, as the store keys it). */
function checkUserId(userId: unknown): void {
  if (typeof userId !== 'string' || userId.length === 0 || userId.length > 1024)
    throw new InvalidArgumentError(ErrorCode.BadRequest, 'userId must be a string of 1 to 1024 characters');
}

function bounded(name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max)
    throw new InvalidArgumentError(ErrorCode.BadRequest, `${name} must be an integer from ${min} to ${max}`);
  return value;
}
