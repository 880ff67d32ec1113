/**
 * Frames of guaranteed delivery (protocol v1 additions): a user's acknowledged inbox and work queues with
 * competing consumers. Both are at least once: a message is pushed until a device (inbox) or one consumer
 * (queue) acks it, and carries an `attempt` count so handlers can tell a redelivery.
 */

/** Longest inbox device id (`inbox` command). */
export const MAX_DEVICE_ID_LENGTH = 64;
/** Longest work-queue name. */
export const MAX_QUEUE_NAME_LENGTH = 128;
/** Longest message or job id a client may ack or nack. */
export const MAX_DELIVERY_ID_LENGTH = 128;
/** Most inbox messages a device may hold unacked at once (`prefetch` of the `inbox` command). */
export const MAX_INBOX_PREFETCH = 100;
/** Default `prefetch` of the `inbox` command. */
export const DEFAULT_INBOX_PREFETCH = 10;
/** Most jobs one consumer may hold unacked at once (`prefetch` of the `consume` command). */
export const MAX_CONSUME_PREFETCH = 1000;
/** Default `prefetch` of the `consume` command. */
export const DEFAULT_CONSUME_PREFETCH = 1;
/** Longest redelivery delay a `nack` may ask for (ms). */
export const MAX_NACK_DELAY_MS = 3_600_000;

/**
 * Start receiving the connection's user's inbox on this connection, as device `device` (a stable id the
 * client keeps across reconnects: each device's progress is kept apart). At most `prefetch` messages are
 * in flight to the device at once; they arrive in order. Needs an authenticated user. The reply's result
 * is {@link InboxResult}.
 */
export interface InboxCommand {
  readonly type: 'inbox';
  readonly id?: number;
  readonly device: string;
  readonly prefetch?: number;
}

/** The result of `inbox`. */
export interface InboxResult {
  readonly device: string;
}

/**
 * Acknowledge an inbox message (no `queue`) or a work-queue job (`queue` set): it is done and is not
 * redelivered. Replies `{}`; `not_found` when the connection holds no such message.
 */
export interface AckCommand {
  readonly type: 'ack';
  readonly id?: number;
  /** The id of the `inbox` or `job` push. */
  readonly message: string;
  readonly queue?: string;
}

/**
 * Refuse an inbox message or a job for now: it is redelivered after `delay` ms (default: the server's
 * backoff), counting one attempt, and moves to dead letters once its attempts are spent. Replies `{}`.
 */
export interface NackCommand {
  readonly type: 'nack';
  readonly id?: number;
  readonly message: string;
  readonly queue?: string;
  readonly delay?: number;
}

/** Become a consumer of work queue `queue`, holding at most `prefetch` unacked jobs. Replies `{ queue }`. */
export interface ConsumeCommand {
  readonly type: 'consume';
  readonly id?: number;
  readonly queue: string;
  readonly prefetch?: number;
}

/** Stop consuming `queue`; the jobs this connection holds unacked go back to the queue. Replies `{}`. */
export interface CancelCommand {
  readonly type: 'cancel';
  readonly id?: number;
  readonly queue: string;
}

/** The guaranteed-delivery commands. */
export type DeliveryCommand = InboxCommand | AckCommand | NackCommand | ConsumeCommand | CancelCommand;

/** A message from the connection's user's inbox; answer with `ack` or `nack`. */
export interface InboxPush {
  readonly type: 'inbox';
  readonly id: string;
  /** 1 on the first delivery to this device, then 2, 3... */
  readonly attempt: number;
  readonly data: unknown;
  /** When it was stored (ms since the Unix epoch). */
  readonly time: number;
}

/** A job from a work queue this connection consumes; answer with `ack` or `nack` (with `queue`). */
export interface JobPush {
  readonly type: 'job';
  readonly queue: string;
  readonly id: string;
  /** 1 on the first delivery, then 2, 3... across every consumer. */
  readonly attempt: number;
  readonly data: unknown;
  readonly time: number;
}
