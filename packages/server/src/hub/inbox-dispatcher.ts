/**
 * The inbox runtime of one node: pushes each user's inbox to the devices open on this node's connections,
 * at most `prefetch` in flight per device and in seq order, redelivers after a nack or an ack timeout with
 * full-jitter backoff, moves a message whose attempts are spent to dead letters, and sweeps expired
 * messages. The store (shared by every node) keeps each device's acks and attempts; nothing else survives
 * this node. Semantics: docs/delivery.md, "Inbox".
 */
import { DEFAULT_INBOX_PREFETCH, ErrorCode } from '@switchboard/protocol';
import type { InboxStore, PendingMessage } from '../inbox/inbox-store.js';
import { ThrottledLog } from '../limits/throttled-log.js';
import { TokenBucket } from '../limits/token-bucket.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Clock } from '../util/clock.js';
import { fullJitterDelay } from '../util/full-jitter.js';
import type { Logger } from '../util/logger.js';
import type { Connection } from './connection.js';
import type { DeadLetterReporter } from './dead-letter-reporter.js';
import type { Delivery } from './delivery.js';
import type { ErrorReplies } from './error-replies.js';
import type { InboxRuntime } from './guaranteed.js';
import type { ResolvedInboxConfig } from './guaranteed-config.js';
import { InboxDevice } from './inbox-device.js';
import { InboxExpiry } from './inbox-expiry.js';

/** Nacks one connection may send: a burst of 20, then 10 per second (past it: `rate_limited`, ignored). */
export const NACK_BURST = 20;
export const NACK_REFILL_PER_SECOND = 10;

/** What the inbox dispatcher needs. */
export interface InboxDispatcherOptions {
  readonly store: InboxStore;
  readonly config: ResolvedInboxConfig;
  readonly delivery: Pick<Delivery, 'writeText' | 'reply'>;
  readonly errors: Pick<ErrorReplies, 'send'>;
  readonly deadLetters: DeadLetterReporter;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Random numbers in [0, 1) for the backoff's jitter. Default Math.random. */
  readonly random?: () => number;
}

/** This node's side of every user's inbox. */
export class InboxDispatcher implements InboxRuntime {
  /** Devices open on this node by `userId \0 device`. */
  private readonly devices = new Map<string, InboxDevice>();
  /** The devices open on this node per user (wake-ups name only the user). */
  private readonly users = new Map<string, Set<InboxDevice>>();
  /** The device each connection has open (a connection opens one at a time). */
  private readonly byConnection = new Map<Connection, InboxDevice>();
  /** Each connection's nack budget (created on its first nack; reopening the inbox keeps it). */
  private readonly nackBudgets = new WeakMap<Connection, TokenBucket>();
  private readonly expiry: InboxExpiry;
  private readonly random: () => number;
  /** `inbox pull failed` at most 5 lines at once, then 1 a minute: every device retries in an outage. */
  private readonly pullFailed: ThrottledLog;

  constructor(private readonly options: InboxDispatcherOptions) {
    this.random = options.random ?? Math.random;
    const { store, config, deadLetters, metrics, logger, clock } = options;
    this.expiry = new InboxExpiry(store, config.sweepMs, deadLetters, metrics, logger, clock);
    this.pullFailed = new ThrottledLog(
      logger,
      'inbox pull failed',
      { burst: 5, perSecond: 1 / 60 },
      clock.now(),
    );
  }

  // ---------------------------------------------------------------- the wire side

  async open(
    connection: Connection,
    device: string,
    prefetch: number | undefined,
    id: number | undefined,
  ): Promise<void> {
    const userId = connection.userId;
    if (userId === null) {
      this.options.errors.send(
        connection,
        ErrorCode.PermissionDenied,
        'the inbox needs an authenticated user',
        id,
      );
      return;
    }
    await this.options.store.touchDevice(userId, device, this.options.clock.now());
    if (connection.state !== 'open') return;
    const previous = this.byConnection.get(connection);
    if (previous !== undefined) this.leave(previous, connection);
    const key = `${userId}\0${device}`;
    let state = this.devices.get(key);
    if (state === undefined) {
      state = new InboxDevice(userId, device, connection, prefetch ?? DEFAULT_INBOX_PREFETCH);
      this.devices.set(key, state);
      let devices = this.users.get(userId);
      if (devices === undefined) this.users.set(userId, (devices = new Set()));
      devices.add(state);
    } else {
      // The newest open takes the device over: what the older connection held unacked goes out again here.
      // The older one keeps its entry: its acks still count for the device, its nacks are not_found.
      state.reset();
      state.connection = connection;
      state.prefetch = prefetch ?? DEFAULT_INBOX_PREFETCH;
    }
    this.byConnection.set(connection, state);
    if (id !== undefined) this.options.delivery.reply(connection, id, { device });
    this.pull(state);
  }

  async ack(connection: Connection, message: string, id: number | undefined): Promise<void> {
    const state = this.byConnection.get(connection);
    if (state === undefined) {
      this.notFound(connection, id, 'this connection has no inbox open');
      return;
    }
    const { store, clock, metrics } = this.options;
    const outcome = await store.ack(state.userId, state.device, message, clock.now());
    // Once every device acked it the message is gone: an ack repeated on this connection is still `{}`.
    if (outcome === 'unknown' && !state.recentAcks.includes(message)) {
      this.notFound(connection, id, 'no such message in the inbox');
      return;
    }
    if (id !== undefined) this.options.delivery.reply(connection, id, {});
    if (state.connection !== connection) return;
    if (outcome === 'acked') state.acked(message);
    const index = state.indexOf(message);
    if (index < 0) return; // acked before (idempotent), or by a connection this one took over from
    const [acked] = state.inFlight.splice(index, 1);
    metrics.inboxAcked(acked === undefined ? null : clock.now() - acked.sentAt);
    if (state.inFlight.length === 0) {
      state.ackTimer?.cancel();
      state.ackTimer = null;
    }
    this.pull(state);
  }

  nack(
    connection: Connection,
    message: string,
    delayMs: number | undefined,
    id: number | undefined,
  ): Promise<void> {
    const state = this.byConnection.get(connection);
    const index = state?.connection === connection ? state.indexOf(message) : -1;
    if (state === undefined || index < 0) {
      this.notFound(connection, id, 'no such message in flight on this connection');
      return Promise.resolve();
    }
    const now = this.options.clock.now();
    let budget = this.nackBudgets.get(connection);
    if (budget === undefined) {
      budget = new TokenBucket(NACK_BURST, NACK_REFILL_PER_SECOND, now);
      this.nackBudgets.set(connection, budget);
    }
    if (!budget.take(now)) {
      // Ignored: the ack timeout still redelivers the message.
      this.options.metrics.inboxRefused('rate_limited');
      this.options.errors.send(
        connection,
        ErrorCode.RateLimited,
        'too many nacks; the ack timeout redelivers',
        id,
      );
      return Promise.resolve();
    }
    if (id !== undefined) this.options.delivery.reply(connection, id, {});
    this.options.metrics.inboxNacked('nack');
    this.giveBack(state, index, delayMs);
    return Promise.resolve();
  }

  closed(connection: Connection): void {
    const state = this.byConnection.get(connection);
    if (state !== undefined) this.leave(state, connection);
  }

  // ---------------------------------------------------------------- wake-ups and timers

  /** Devices open on this node, and the messages in flight to them (for /stats). */
  stats(): { devices: number; inFlight: number } {
    let inFlight = 0;
    for (const state of this.devices.values()) inFlight += state.inFlight.length;
    return { devices: this.devices.size, inFlight };
  }

  /** The user's inbox has new messages: each of the user's devices open here pulls. */
  notify(userId: string): void {
    const devices = this.users.get(userId);
    if (devices === undefined) return;
    for (const state of devices) this.pull(state);
  }

  /** Every device open here pulls (wake-ups may have been lost while the broker was away). */
  notifyAll(): void {
    for (const state of this.devices.values()) this.pull(state);
  }

  /** Start the expiry sweep. */
  start(): void {
    this.expiry.start();
  }

  /** Stop the sweep and every device's timers. */
  stop(): void {
    this.expiry.stop();
    for (const state of this.devices.values()) state.reset();
    this.devices.clear();
    this.users.clear();
    this.byConnection.clear();
  }

  // ---------------------------------------------------------------- internals

  private notFound(connection: Connection, id: number | undefined, message: string): void {
    this.options.errors.send(connection, ErrorCode.NotFound, message, id);
  }

  /** `connection` no longer has `state` open; the device is forgotten when it was the one holding it. */
  private leave(state: InboxDevice, connection: Connection): void {
    this.byConnection.delete(connection);
    if (state.connection !== connection) return;
    state.reset();
    this.devices.delete(`${state.userId}\0${state.device}`);
    const devices = this.users.get(state.userId);
    devices?.delete(state);
    if (devices?.size === 0) this.users.delete(state.userId);
  }

  /** Message `index` in flight failed (nack, ack timeout): it and every later one go out again after a delay. */
  private giveBack(state: InboxDevice, index: number, delayMs: number | undefined): void {
    const failed = state.inFlight[index];
    if (failed === undefined) return;
    const { retryMinMs, retryMaxMs } = this.options.config;
    const delay = delayMs ?? fullJitterDelay(failed.attempt, retryMinMs, retryMaxMs, this.random);
    state.rewind(index);
    if (state.inFlight.length === 0) {
      state.ackTimer?.cancel();
      state.ackTimer = null;
    }
    const generation = state.generation;
    state.retryTimer = this.options.clock.setTimeout(() => {
      if (state.generation !== generation) return;
      state.retryTimer = null;
      this.pull(state);
    }, delay);
  }

  /** Push the device's next messages into its free slots (unless a pull runs, or a retry waits). */
  private pull(state: InboxDevice): void {
    if (state.retryTimer !== null || state.free <= 0) return;
    if (state.pulling) {
      state.pullAgain = true;
      return;
    }
    state.pulling = true;
    state.pullAgain = false;
    this.fill(state)
      .then(
        () => {
          state.pullFailures = 0;
        },
        (error: unknown) => {
          const { userId, device } = state;
          this.pullFailed.log({ err: error, userId, device }, this.options.clock.now());
          this.retryLater(state);
        },
      )
      .finally(() => {
        state.pulling = false;
        if (state.pullAgain && this.devices.get(`${state.userId}\0${state.device}`) === state)
          this.pull(state);
      });
  }

  /** A failed pull (store unreachable) is retried with the redelivery backoff, growing per failure. */
  private retryLater(state: InboxDevice): void {
    if (state.retryTimer !== null) return;
    const generation = state.generation;
    const { retryMinMs, retryMaxMs } = this.options.config;
    const delay = Math.max(1, fullJitterDelay(++state.pullFailures, retryMinMs, retryMaxMs, this.random));
    state.retryTimer = this.options.clock.setTimeout(() => {
      if (state.generation !== generation) return;
      state.retryTimer = null;
      this.pull(state);
    }, delay);
  }

  /** One round of pulling: read the next pending messages, count an attempt on each, push them in order. */
  private async fill(state: InboxDevice): Promise<void> {
    const { store, clock } = this.options;
    const generation = state.generation;
    const want = state.free;
    const { userId, device } = state;
    let pending: readonly PendingMessage[];
    let attempts: PromiseSettledResult<number>[];
    if (store.take !== undefined) {
      // One call reads the messages and counts their attempts.
      pending = await store.take(userId, device, state.lastSentSeq, want, clock.now());
      if (state.generation !== generation || pending.length === 0) return;
      attempts = pending.map((m) => ({ status: 'fulfilled', value: m.attempts }));
    } else {
      pending = await store.pending(userId, device, state.lastSentSeq, want, clock.now());
      if (state.generation !== generation || pending.length === 0) return;
      // Attempts are counted concurrently (one round trip for the batch), then pushed in seq order. When
      // some fail (the store went away), those counted before the first failure are still pushed, so a
      // retry does not count them twice; the rest are pulled again.
      attempts = await Promise.allSettled(
        pending.map((m) =>
          m.attempts >= m.maxAttempts ? Promise.resolve(m.attempts + 1) : store.attempt(userId, device, m.id),
        ),
      );
    }
    if (state.generation !== generation) return;
    for (let i = 0; i < pending.length; i++) {
      const message = pending[i] as PendingMessage;
      const counted = attempts[i];
      if (counted === undefined || counted.status === 'rejected') throw counted?.reason;
      const attempt = counted.value;
      state.lastSentSeq = message.seq;
      if (attempt === 0) continue; // left the inbox meanwhile
      if (attempt > message.maxAttempts) {
        await this.deadLetter(state, message.id);
        if (state.generation !== generation) return;
        continue;
      }
      this.push(state, message, attempt);
      if (state.generation !== generation) return; // the write closed the connection
    }
    // A full batch may have more behind it; dead letters and vanished messages left slots free.
    if (pending.length === want && state.free > 0) state.pullAgain = true;
  }

  private push(state: InboxDevice, message: PendingMessage, attempt: number): void {
    const { delivery, metrics, clock } = this.options;
    const now = clock.now();
    state.inFlight.push({ id: message.id, seq: message.seq, attempt, sentAt: now });
    if (state.ackTimer === null) this.armAckTimer(state, now + this.options.config.ackTimeoutMs);
    metrics.inboxPushed(attempt === 1 ? 'first' : 'retry');
    // The stored JSON is spliced in as it is: never parsed, never encoded twice.
    delivery.writeText(
      state.connection,
      `{"type":"inbox","id":${JSON.stringify(message.id)},"attempt":${attempt},"data":${message.json},"time":${message.time}}`,
    );
  }

  /**
   * One timer per device with messages in flight, for the oldest: when it fires early (the oldest was
   * acked meanwhile) it re-arms for the new oldest instead of being re-armed on every ack.
   */
  private armAckTimer(state: InboxDevice, at: number): void {
    const { clock, config } = this.options;
    const generation = state.generation;
    state.ackTimer = clock.setTimeout(
      () => {
        state.ackTimer = null;
        if (state.generation !== generation && state.inFlight.length === 0) return;
        const oldest = state.inFlight[0];
        if (oldest === undefined) return;
        const due = oldest.sentAt + config.ackTimeoutMs;
        const now = clock.now();
        if (due > now) {
          this.armAckTimer(state, due);
          return;
        }
        this.options.metrics.inboxNacked('timeout');
        this.giveBack(state, 0, undefined);
      },
      Math.max(0, at - clock.now()),
    );
  }

  private async deadLetter(state: InboxDevice, id: string): Promise<void> {
    const dead = await this.options.store.deadLetter(
      state.userId,
      id,
      'max_attempts',
      this.options.clock.now(),
      state.device,
    );
    this.options.deadLetters.report({ kind: 'inbox', userId: state.userId }, dead);
  }
}
