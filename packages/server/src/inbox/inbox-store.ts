/**
 * The inbox seam: each user's acknowledged inbox (guaranteed delivery). A message stays until every
 * device the user uses has acked it, its TTL passes, or it moves to the user's dead letters. Memory (one
 * node), Redis Streams and PostgreSQL implement it; test/inbox-contract.ts holds the contract all three
 * pass. Every method reports failure as a rejected promise, never a synchronous throw.
 *
 * Devices: a device is a stable id the client sends when it opens its inbox (the SDK keeps one per
 * browser profile or process). Each device's progress is kept apart: which messages it acked and how many
 * attempts each took. A device unseen for `deviceTtlMs` is forgotten (it no longer holds messages back).
 */

/** A message in a user's inbox. */
export interface InboxMessage {
  /** Opaque and unique in the deployment (another user's id never matches). At most 128 characters. */
  readonly id: string;
  readonly userId: string;
  /** Increasing per user: the order in which every device receives the user's messages. */
  readonly seq: number;
  /** The payload as JSON. */
  readonly json: string;
  /** When it was stored (ms since the Unix epoch). */
  readonly time: number;
  /** When it leaves the inbox (ms since the Unix epoch). */
  readonly expiresAt: number;
  readonly maxAttempts: number;
}

/** A message waiting for one device, with the attempts already made to deliver it to that device. */
export interface PendingMessage extends InboxMessage {
  readonly attempts: number;
}

/** Why a message or job became a dead letter. */
export type DeadLetterReason =
  /** Its attempts were spent (nacks, ack timeouts, disconnects) without an ack. */
  | 'max_attempts'
  /** Its TTL passed before any device (or consumer) acked it. */
  | 'expired'
  /** The inbox was full and the operator chose to move the oldest message out (`whenFull: 'dead-letter-oldest'`). */
  | 'evicted';

/** A message that could not be delivered, kept for inspection, redelivery or deletion. */
export interface DeadLetter {
  /** The message's (or job's) id. */
  readonly id: string;
  readonly json: string;
  /** When the message was stored. */
  readonly time: number;
  /** When it became a dead letter. */
  readonly deadAt: number;
  readonly reason: DeadLetterReason;
  /** Attempts made (to the device that spent them, for `max_attempts`). */
  readonly attempts: number;
  /** The device that spent the attempts (`max_attempts` on an inbox). */
  readonly device?: string;
  /**
   * The user whose inbox held it. Set by `expire` on every letter it returns (it sweeps every user, and
   * `onDeadLetter` must say whose it was); elsewhere the caller knows the user and it may be absent.
   */
  readonly userId?: string;
}

/** What `deliver` stores. */
export interface DeliverInput {
  readonly userId: string;
  readonly json: string;
  readonly ttlMs: number;
  readonly maxAttempts: number;
  /** A retried deliver with the same key (within the idempotency window) returns the first message. */
  readonly idempotencyKey?: string;
  readonly now: number;
}

/** The outcome of `deliver`. */
export type DeliverOutcome =
  | {
      readonly ok: true;
      readonly message: InboxMessage;
      /** True when the idempotency key matched an earlier deliver: nothing new was stored. */
      readonly duplicate: boolean;
      /** Messages moved out to make room (`whenFull: 'dead-letter-oldest'`), now dead letters. */
      readonly evicted: readonly DeadLetter[];
      /** Old dead letters dropped to keep within `maxDeadLetters` when the evicted joined them (counted). */
      readonly dropped: number;
    }
  | { readonly ok: false; readonly reason: 'full' };

/** How an inbox store bounds what it keeps; passed to each implementation's constructor. */
export interface InboxLimits {
  /** Most messages one user's inbox holds. */
  readonly maxMessages: number;
  /** Most payload bytes (JSON length) one user's inbox holds. */
  readonly maxBytes: number;
  /** When full: refuse the deliver, or move the oldest messages to dead letters until it fits. */
  readonly whenFull: 'reject' | 'dead-letter-oldest';
  /** Most dead letters kept per user (and per queue); the oldest are dropped past it (counted). */
  readonly maxDeadLetters: number;
  /** How long an idempotency key is remembered (ms). */
  readonly idempotencyWindowMs: number;
  /** A device unseen this long (ms) is forgotten. */
  readonly deviceTtlMs: number;
}

/** Defaults for {@link InboxLimits}. */
export const DEFAULT_INBOX_LIMITS: InboxLimits = {
  maxMessages: 1000,
  maxBytes: 1024 * 1024,
  whenFull: 'reject',
  maxDeadLetters: 1000,
  idempotencyWindowMs: 24 * 60 * 60 * 1000,
  deviceTtlMs: 30 * 24 * 60 * 60 * 1000,
};

/** Dead letters written by an operation, and how many old ones were dropped to respect `maxDeadLetters`. */
export interface DeadLettered {
  readonly letters: readonly DeadLetter[];
  readonly dropped: number;
}

/** The inbox seam. */
export interface InboxStore {
  /** Store a message at the end of the user's inbox (durably, before resolving). */
  deliver(input: DeliverInput): Promise<DeliverOutcome>;
  /**
   * Note that `device` is in use now. A device is known from its first call on: messages stored from
   * then on wait for it; a device new to the store also receives what the inbox holds already.
   */
  touchDevice(userId: string, device: string, now: number): Promise<void>;
  /**
   * The device's next messages in `seq` order: in the inbox, not expired at `now`, not acked by this
   * device, with `seq` greater than `afterSeq`; at most `limit`.
   */
  pending(
    userId: string,
    device: string,
    afterSeq: number,
    limit: number,
    now: number,
  ): Promise<readonly PendingMessage[]>;
  /**
   * Optional: `pending` and `attempt` in one step (one round trip for a shared store). The same messages
   * `pending` returns, each with `attempts` already counting this delivery (the attempts so far including
   * this one); a message whose attempts are spent (`attempts >= maxAttempts` before the call) is not
   * counted and comes back with `attempts` = `maxAttempts + 1` or more, for the caller to dead-letter.
   */
  take?(
    userId: string,
    device: string,
    afterSeq: number,
    limit: number,
    now: number,
  ): Promise<readonly PendingMessage[]>;
  /**
   * Count one delivery attempt of message `id` to `device`; resolves with the attempts so far including
   * this one, or 0 when the message is no longer in the inbox (or was never this user's).
   */
  attempt(userId: string, device: string, id: string): Promise<number>;
  /**
   * The device acked `id`: 'acked' (also when it had already), or 'unknown' when the user's inbox holds
   * no such message (never stored, another user's, expired or dead-lettered). Once every known device
   * has acked a message it leaves the inbox.
   */
  ack(userId: string, device: string, id: string, now: number): Promise<'acked' | 'unknown'>;
  /** Move message `id` out of the inbox (for every device) to the user's dead letters. */
  deadLetter(
    userId: string,
    id: string,
    reason: DeadLetterReason,
    now: number,
    device?: string,
  ): Promise<DeadLettered>;
  /**
   * Remove messages (of every user) whose TTL has passed at `now`, at most `limit`: those no device
   * acked become dead letters ('expired') and are returned, each with its `userId`; those some device
   * acked just leave.
   */
  expire(now: number, limit: number): Promise<DeadLettered>;
  /**
   * Messages (of every user) stored at or before `before`, still in the inbox, that no device has acked
   * and that no earlier call returned: marked as reported and returned, so that across every node each
   * is reported at most once. At most `limit`.
   */
  undelivered(before: number, limit: number): Promise<readonly InboxMessage[]>;
  /** The user's dead letters, oldest first, at most `limit`. */
  deadLetters(userId: string, limit: number): Promise<readonly DeadLetter[]>;
  /**
   * Put dead letter `id` back at the end of the inbox as a new message (new id and seq, no attempts, TTL
   * `ttlMs` from `now`, the same maxAttempts) and remove the dead letter. Undefined when there is no such
   * dead letter; `{ ok: false, reason: 'full' }` when the inbox is full (the dead letter stays).
   */
  redeliver(userId: string, id: string, now: number, ttlMs: number): Promise<DeliverOutcome | undefined>;
  /** Delete dead letter `id`: false when there was none. */
  deleteDeadLetter(userId: string, id: string): Promise<boolean>;
  /** Release connections and timers. */
  close(): Promise<void>;
}
