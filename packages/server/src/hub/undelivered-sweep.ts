/**
 * The `onUndelivered` hook (and its `inbox.undelivered` webhook): a timer that asks the inbox store for
 * messages no device acked within `undeliveredAfterMs` of their delivery. The store hands each message
 * to one call across the deployment, so every node may run this sweep and each message is reported once.
 */
import type { InboxMessage, InboxStore } from '../inbox/inbox-store.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import type { Webhooks } from '../webhooks/webhooks.js';
import { InvalidOptionError } from '../errors.js';
import { hookFailed } from './hooks.js';
import type { ServerHooks, UndeliveredMessage } from './hooks.js';

/** `undeliveredAfterMs` when a hook or webhook wants undelivered messages but the option is not set. */
export const DEFAULT_UNDELIVERED_AFTER_MS = 300_000;

/** What {@link UndeliveredSweep} needs. */
export interface UndeliveredSweepOptions {
  readonly store: Pick<InboxStore, 'undelivered'>;
  /** A message no device acked this long after its delivery is reported (ms, 1 s .. 30 d). */
  readonly undeliveredAfterMs: number;
  /** How often the store is asked (ms). Default: a tenth of `undeliveredAfterMs`, between 100 ms and 5 s. */
  readonly intervalMs?: number;
  /** Messages asked for per store call; a full batch is followed by another at once. Default 500. */
  readonly batch?: number;
  readonly hooks: Pick<ServerHooks, 'onUndelivered'>;
  readonly webhooks?: Webhooks | undefined;
  readonly logger: Logger;
  readonly clock: Clock;
}

/**
 * The sweep for undelivered messages, or null when neither the `onUndelivered` hook nor a webhook target
 * wants them (nothing to report to: the store is not asked).
 */
export function undeliveredSweepFor(
  options: Omit<UndeliveredSweepOptions, 'undeliveredAfterMs'> & {
    readonly undeliveredAfterMs?: number | undefined;
  },
): UndeliveredSweep | null {
  if (options.hooks.onUndelivered === undefined && options.webhooks?.wants('inbox.undelivered') !== true)
    return null;
  return new UndeliveredSweep({
    ...options,
    undeliveredAfterMs: options.undeliveredAfterMs ?? DEFAULT_UNDELIVERED_AFTER_MS,
  });
}

/** Reports undelivered inbox messages; start() and stop() it with the inbox runtime. */
export class UndeliveredSweep {
  private timer: TimerHandle | null = null;
  private running: Promise<number> | null = null;
  private readonly intervalMs: number;
  private readonly batch: number;

  constructor(private readonly options: UndeliveredSweepOptions) {
    const { undeliveredAfterMs, intervalMs, batch } = options;
    if (!Number.isInteger(undeliveredAfterMs) || undeliveredAfterMs < 1 || undeliveredAfterMs > 2_592_000_000)
      throw new InvalidOptionError(
        'undeliveredAfterMs',
        undeliveredAfterMs,
        'an integer from 1 to 2592000000 (ms)',
      );
    this.intervalMs = intervalMs ?? Math.max(100, Math.min(5000, Math.floor(undeliveredAfterMs / 10)));
    this.batch = batch ?? 500;
  }

  start(): void {
    this.timer ??= this.options.clock.setInterval(() => void this.sweep(), this.intervalMs);
  }

  /** Stop the timer and wait for a sweep in progress. */
  async stop(): Promise<void> {
    this.timer?.cancel();
    this.timer = null;
    await this.running;
  }

  /** One pass (the timer's; tests call it directly): resolves with the messages reported; never rejects. */
  sweep(): Promise<number> {
    this.running ??= this.pass().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async pass(): Promise<number> {
    const { store, undeliveredAfterMs, logger, clock } = this.options;
    let reported = 0;
    try {
      for (;;) {
        const messages = await store.undelivered(clock.now() - undeliveredAfterMs, this.batch);
        for (const message of messages) this.report(message);
        reported += messages.length;
        if (messages.length < this.batch || this.timer === null) break;
      }
    } catch (error) {
      logger.warn({ err: error }, 'undelivered sweep failed; it runs again at the next interval');
    }
    return reported;
  }

  private report(message: InboxMessage): void {
    const { hooks, webhooks, logger } = this.options;
    let data: unknown;
    try {
      data = JSON.parse(message.json);
    } catch {
      data = message.json;
    }
    const undelivered: UndeliveredMessage = {
      id: message.id,
      seq: message.seq,
      data,
      time: message.time,
      expiresAt: message.expiresAt,
    };
    webhooks?.emit('inbox.undelivered', { userId: message.userId, message: undelivered });
    const hook = hooks.onUndelivered;
    if (hook === undefined) return;
    const failed = (error: unknown): void =>
      hookFailed(logger, 'onUndelivered', '', error, { userId: message.userId, messageId: message.id });
    try {
      const result = hook(message.userId, undelivered);
      if (result instanceof Promise) result.catch(failed);
    } catch (error) {
      failed(error);
    }
  }
}
