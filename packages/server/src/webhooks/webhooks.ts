/**
 * Signed webhooks: each event POSTed to every target that wants it, retried with full-jitter backoff, and
 * dead-lettered (a bounded in-memory log) after the last attempt. Every delivery runs on its own, so a
 * slow or hanging target delays nothing else; the deliveries pending at once are bounded (past the bound
 * an event is dead-lettered at once as `queue_full`). Scheme and receiver code: docs/delivery.md.
 */
import { randomUUID } from 'node:crypto';
import type { Metrics } from '../metrics/metrics.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { InvalidOptionError } from '../errors.js';
import { SIGNATURE_HEADER, WEBHOOK_ID_HEADER, signWebhook } from './webhook-signature.js';

/** The events a webhook can carry. */
export type WebhookEvent = 'user.offline' | 'inbox.undelivered' | 'dead_letter';

/** Every event a webhook can carry. */
export const WEBHOOK_EVENTS: readonly WebhookEvent[] = ['user.offline', 'inbox.undelivered', 'dead_letter'];
const EVENTS = WEBHOOK_EVENTS;

/** One webhook target (the `webhooks` option). */
export interface WebhookTarget {
  /** An http: or https: URL, POSTed to. */
  readonly url: string;
  /** The HMAC-SHA256 key of the signature. */
  readonly secret: string;
  /** The events sent to it; default every one. */
  readonly events?: readonly WebhookEvent[];
}

/** How webhooks are delivered (the `webhookDelivery` option); every field optional. */
export interface WebhookDeliveryOptions {
  /** Attempts per event and target, the first included (1..100). Default 5. */
  readonly maxAttempts?: number;
  /** Backoff before the second attempt's upper bound (ms); it doubles per attempt. Default 1000. */
  readonly minBackoffMs?: number;
  /** The backoff's upper bound (ms). Default 60000. */
  readonly maxBackoffMs?: number;
  /** An attempt not answered within this fails (ms). Default 5000. */
  readonly timeoutMs?: number;
  /** Deliveries in flight or waiting for a retry, across targets; past it an event is dead-lettered. Default 1000. */
  readonly maxPending?: number;
  /** Dead letters kept (the oldest are dropped, and counted, past it). Default 1000. */
  readonly deadLetterLimit?: number;
}

/** The server options of webhooks and of the undelivered-message report. */
export interface WebhookOptions {
  /** Where events are POSTed, signed (docs/delivery.md). Default none. */
  readonly webhooks?: readonly WebhookTarget[];
  /** Attempts, backoff, timeout and bounds of webhook deliveries. */
  readonly webhookDelivery?: WebhookDeliveryOptions;
  /**
   * A message of a user's inbox that no device acked this long after its delivery is reported to
   * `onUndelivered` and the `inbox.undelivered` webhook (ms). Default 300000 (5 min), when either is set.
   */
  readonly undeliveredAfterMs?: number;
}

/** Why a webhook was dead-lettered. */
export type WebhookFailure = 'failed' | 'queue_full' | 'stopped';

/** A webhook that was given up on. */
export interface WebhookDeadLetter {
  readonly id: string;
  readonly type: WebhookEvent;
  readonly url: string;
  readonly body: string;
  readonly attempts: number;
  readonly reason: WebhookFailure;
  /** The last attempt's error: an HTTP status, a timeout, a network error. */
  readonly error: string;
  /** When it was dead-lettered (ms since the Unix epoch). */
  readonly time: number;
}

/** What {@link Webhooks} reports to (counts per event and outcome; a log line per dead letter). */
export interface WebhookDeps {
  readonly metrics: Pick<Metrics, 'webhookOutcome'>;
  readonly logger: Logger;
  readonly clock: Clock;
  /** The HTTP client (default: the global fetch). */
  readonly fetch?: typeof fetch;
}

interface Delivery {
  readonly id: string;
  readonly type: WebhookEvent;
  readonly target: WebhookTarget;
  readonly body: string;
  attempts: number;
  timer: TimerHandle | null;
  abort: AbortController | null;
}

/** Webhooks of one node. */
export class Webhooks {
  private readonly targets: readonly WebhookTarget[];
  private readonly settings: Required<WebhookDeliveryOptions>;
  private readonly pending = new Set<Delivery>();
  private readonly letters: WebhookDeadLetter[] = [];
  private droppedLetters = 0;
  private closed = false;

  constructor(
    targets: readonly WebhookTarget[] | undefined,
    options: WebhookDeliveryOptions | undefined,
    private readonly deps: WebhookDeps,
  ) {
    this.targets = (targets ?? []).map(checkWebhookTarget);
    this.settings = checkOptions(options ?? {});
  }

  /** The webhooks of the server options. */
  static of(
    options: WebhookOptions,
    metrics: WebhookDeps['metrics'],
    logger: Logger,
    clock: Clock,
  ): Webhooks {
    return new Webhooks(options.webhooks, options.webhookDelivery, { metrics, logger, clock });
  }

  /** Whether any target wants `type` (callers skip building the event when none does). */
  wants(type: WebhookEvent): boolean {
    return this.targets.some((target) => target.events === undefined || target.events.includes(type));
  }

  /** Send an event to every target that wants it. Returns at once; never throws. */
  emit(type: WebhookEvent, data: unknown): void {
    if (this.closed) return;
    const id = randomUUID();
    const body = JSON.stringify({ type, id, time: new Date(this.deps.clock.now()).toISOString(), data });
    for (const target of this.targets) {
      if (target.events !== undefined && !target.events.includes(type)) continue;
      const delivery: Delivery = { id, type, target, body, attempts: 0, timer: null, abort: null };
      if (this.pending.size >= this.settings.maxPending) {
        this.deadLetter(delivery, 'queue_full', `${this.settings.maxPending} deliveries pending`);
        continue;
      }
      this.pending.add(delivery);
      void this.attempt(delivery);
    }
  }

  /** The dead letters, oldest first (a copy). */
  deadLetters(): readonly WebhookDeadLetter[] {
    return [...this.letters];
  }

  /** Dead letters dropped from the log because it was full. */
  get droppedDeadLetters(): number {
    return this.droppedLetters;
  }

  /** Deliveries in flight or waiting for a retry. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Stop: pending deliveries are aborted and dead-lettered as `stopped`. */
  close(): Promise<void> {
    this.closed = true;
    for (const delivery of [...this.pending]) {
      delivery.timer?.cancel();
      delivery.abort?.abort();
      this.pending.delete(delivery);
      this.deadLetter(delivery, 'stopped', 'server stopped');
    }
    return Promise.resolve();
  }

  // ---------------------------------------------------------------- internals

  private async attempt(delivery: Delivery): Promise<void> {
    delivery.timer = null;
    delivery.attempts++;
    const error = await this.post(delivery);
    if (this.closed || !this.pending.has(delivery)) return;
    if (error === null) {
      this.pending.delete(delivery);
      this.deps.metrics.webhookOutcome(delivery.type, 'delivered');
      return;
    }
    if (delivery.attempts >= this.settings.maxAttempts) {
      this.pending.delete(delivery);
      this.deadLetter(delivery, 'failed', error);
      return;
    }
    this.deps.metrics.webhookOutcome(delivery.type, 'retried');
    const { minBackoffMs, maxBackoffMs } = this.settings;
    const cap = Math.min(maxBackoffMs, minBackoffMs * 2 ** (delivery.attempts - 1));
    delivery.timer = this.deps.clock.setTimeout(() => void this.attempt(delivery), Math.random() * cap);
  }

  /** One POST; resolves with null on a 2xx answer, else what went wrong. */
  private async post(delivery: Delivery): Promise<string | null> {
    const abort = new AbortController();
    delivery.abort = abort;
    const timer = this.deps.clock.setTimeout(() => abort.abort(), this.settings.timeoutMs);
    const unixSeconds = Math.floor(this.deps.clock.now() / 1000);
    try {
      const response = await (this.deps.fetch ?? fetch)(delivery.target.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [SIGNATURE_HEADER]: signWebhook(delivery.target.secret, delivery.body, unixSeconds),
          [WEBHOOK_ID_HEADER]: delivery.id,
        },
        body: delivery.body,
        signal: abort.signal,
      });
      await response.arrayBuffer().catch(() => undefined);
      return response.ok ? null : `HTTP ${response.status}`;
    } catch (error) {
      if (abort.signal.aborted) return `no answer within ${this.settings.timeoutMs} ms`;
      return error instanceof Error
        ? error.cause instanceof Error
          ? error.cause.message
          : error.message
        : String(error);
    } finally {
      timer.cancel();
      delivery.abort = null;
    }
  }

  private deadLetter(delivery: Delivery, reason: WebhookFailure, error: string): void {
    const { id, type, target, body, attempts } = delivery;
    this.letters.push({
      id,
      type,
      url: target.url,
      body,
      attempts,
      reason,
      error,
      time: this.deps.clock.now(),
    });
    if (this.letters.length > this.settings.deadLetterLimit) {
      this.letters.shift();
      this.droppedLetters++;
    }
    this.deps.metrics.webhookOutcome(type, reason === 'queue_full' ? 'queue_full' : 'dead_lettered');
    this.deps.logger.warn(
      { webhookId: id, event: type, url: target.url, attempts, reason, error },
      'webhook dead-lettered',
    );
  }
}

/** A target of the `webhooks` option, checked (`index` names it in the error); throws {@link InvalidOptionError}. */
export function checkWebhookTarget(target: WebhookTarget, index: number): WebhookTarget {
  let url: URL | null;
  try {
    url = new URL(target.url);
  } catch {
    url = null;
  }
  if (url === null || (url.protocol !== 'http:' && url.protocol !== 'https:'))
    throw new InvalidOptionError(`webhooks[${index}].url`, target.url, 'an http: or https: URL');
  if (typeof target.secret !== 'string' || target.secret.length === 0)
    throw new InvalidOptionError(`webhooks[${index}].secret`, '(hidden)', 'a non-empty string');
  if (
    target.events !== undefined &&
    (!Array.isArray(target.events) || !target.events.every((e) => EVENTS.includes(e)))
  )
    throw new InvalidOptionError(
      `webhooks[${index}].events`,
      target.events,
      `a list of ${EVENTS.join(', ')}`,
    );
  return target;
}

const DEFAULTS: Required<WebhookDeliveryOptions> = {
  maxAttempts: 5,
  minBackoffMs: 1000,
  maxBackoffMs: 60_000,
  timeoutMs: 5000,
  maxPending: 1000,
  deadLetterLimit: 1000,
};

const RANGES: Record<keyof WebhookDeliveryOptions, readonly [number, number]> = {
  maxAttempts: [1, 100],
  minBackoffMs: [1, 3_600_000],
  maxBackoffMs: [1, 3_600_000],
  timeoutMs: [1, 600_000],
  maxPending: [1, 1_000_000],
  deadLetterLimit: [0, 1_000_000],
};

function checkOptions(options: WebhookDeliveryOptions): Required<WebhookDeliveryOptions> {
  const out = { ...DEFAULTS };
  for (const key of Object.keys(RANGES) as (keyof WebhookDeliveryOptions)[]) {
    const value = options[key];
    if (value === undefined) continue;
    const [min, max] = RANGES[key];
    if (!Number.isInteger(value) || value < min || value > max)
      throw new InvalidOptionError(`webhookDelivery.${key}`, value, `an integer from ${min} to ${max}`);
    out[key] = value;
  }
  return out;
}
