/**
 * A consumer of a work queue on this client (`client.consume(queue, handler, { prefetch })`): the server
 * hands each job to one consumer at a time, at most `prefetch` unacked per consumer. Jobs run as they
 * arrive, concurrently (a queue has no order per consumer); the handler resolving acks the job, throwing
 * or rejecting nacks it. `consume` is sent again on every (re)connection; a lost connection drops the
 * answers of jobs still running (the server gave those jobs back to the queue when it lost us).
 */
import type { JobPush } from '@switchboard/protocol';
import type { ConnectedInfo } from './client-events.js';
import { isConnectionLoss } from './delivery-host.js';
import type { DeliveryHost } from './delivery-host.js';
import { Emitter } from './emitter.js';
import type { EmitterOptions, Listener } from './emitter.js';
import type { SwitchboardClientError } from './errors.js';

/** A job from a work queue, as a consumer's handler gets it. */
export interface Job<T = unknown> {
  readonly id: string;
  readonly queue: string;
  /** 1 on the first delivery, then 2, 3... across every consumer. */
  readonly attempt: number;
  readonly data: T;
  /** When it was enqueued (ms since the Unix epoch). */
  readonly time: number;
}

/**
 * A consumer's handler: resolving acks the job, throwing or rejecting nacks it (redelivered after a
 * backoff). `T` is the application's promise about `data`: the SDK does not check it.
 */
export type JobHandler<T = unknown> = (job: Job<T>) => unknown;

/** Options of `client.consume()`. */
export interface ConsumeOptions {
  /** How many unacked jobs the server may hand this consumer at once (1-1000). Default 1. */
  readonly prefetch?: number;
}

/** `active` (consuming, or about to on connection), then `cancelling` (cancel() waits for running jobs), `cancelled`. */
export type ConsumerState = 'active' | 'cancelling' | 'cancelled';

/** The server accepted the consumer on the current connection. */
export interface ConsumerOpenEvent {
  readonly queue: string;
}

interface ConsumerEvents {
  error: SwitchboardClientError;
  open: ConsumerOpenEvent;
}

/** A job whose handler runs. */
interface Running {
  /** The connection that last delivered it: its ack or nack goes there. */
  via: ConnectedInfo;
  /** Settles once its answer went out (or was dropped). */
  done: Promise<void>;
}

/** A work-queue consumer; see {@link SwitchboardClient.consume}. */
export class Consumer {
  private stateValue: ConsumerState = 'active';
  private readonly running = new Map<string, Running>();
  private readonly events: Emitter<ConsumerEvents>;
  /** The connection the last `consume` went out on. */
  private consumingOn: ConnectedInfo | null = null;
  private cancelling: Promise<void> | null = null;

  /** Internal: created by `client.consume()`. */
  constructor(
    /** The queue's name. */
    readonly queue: string,
    /** At most this many unacked jobs at once. */
    readonly prefetch: number,
    private readonly handler: JobHandler,
    private readonly host: DeliveryHost,
    emitterOptions: EmitterOptions,
    private readonly ended: (consumer: Consumer) => void,
  ) {
    this.events = new Emitter(emitterOptions);
    const via = host.connection();
    if (via !== null) this.sendConsume(via);
  }

  /** Where the consumer is in its lifecycle. */
  get state(): ConsumerState {
    return this.stateValue;
  }

  /** How many jobs the handler is running now. */
  get active(): number {
    return this.running.size;
  }

  /**
   * Listen to `error` (the server refused `consume`, an ack or a nack: a ServerError such as
   * `permission_denied` or `not_found`) or `open` (the server accepted `consume`, after every
   * (re)connection). Returns a function that removes the listener.
   */
  on<K extends keyof ConsumerEvents>(event: K, listener: Listener<ConsumerEvents[K]>): () => void {
    return this.events.on(event, listener);
  }

  /** Remove a listener added with on(). */
  off<K extends keyof ConsumerEvents>(event: K, listener: Listener<ConsumerEvents[K]>): void {
    this.events.off(event, listener);
  }

  /**
   * Stop consuming: no new job starts (jobs that arrive meanwhile stay with the server), the running ones
   * finish and are answered, then `cancel` is sent (when connected), which gives back to the queue what
   * this connection still holds. Resolves when that is done; repeated calls share one promise. A
   * refusal is reported by the `error` event, not by a rejection.
   */
  cancel(): Promise<void> {
    return (this.cancelling ??= this.stop());
  }

  // ---------------------------------------------------------------- driven by the client

  /** A connection is up: consume on it. */
  connected(): void {
    const via = this.host.connection();
    if (this.stateValue === 'active' && via !== null) this.sendConsume(via);
  }

  /** A `job` push of this consumer's queue. */
  push(frame: JobPush): void {
    const via = this.host.connection();
    if (via === null || this.stateValue !== 'active' || typeof frame.id !== 'string') return;
    const id = frame.id;
    const already = this.running.get(id);
    if (already !== undefined) {
      // Its lock ran out and the server handed it to us again: one run is enough, answered here.
      already.via = via;
      return;
    }
    const entry: Running = { via, done: Promise.resolve() };
    this.running.set(id, entry);
    const job: Job = { id, queue: this.queue, attempt: frame.attempt, data: frame.data, time: frame.time };
    let result: unknown;
    try {
      result = this.handler(job);
    } catch (error) {
      result = Promise.reject(error);
    }
    entry.done = Promise.resolve(result).then(
      () => this.answer(id, entry, 'ack'),
      () => this.answer(id, entry, 'nack'),
    );
  }

  // ---------------------------------------------------------------- internals

  private sendConsume(via: ConnectedInfo): void {
    this.consumingOn = via;
    this.host.request({ type: 'consume', queue: this.queue, prefetch: this.prefetch }, (error) => {
      if (error === null) {
        if (this.host.connection() === via) this.events.emit('open', { queue: this.queue });
      } else this.report(error);
    });
  }

  private answer(id: string, entry: Running, type: 'ack' | 'nack'): void {
    if (this.running.get(id) === entry) this.running.delete(id);
    if (entry.via !== this.host.connection()) return;
    this.host.request({ type, queue: this.queue, message: id }, (error) => {
      if (error !== null) this.report(error);
    });
  }

  private async stop(): Promise<void> {
    this.stateValue = 'cancelling';
    await Promise.allSettled([...this.running.values()].map((entry) => entry.done));
    const via = this.consumingOn;
    if (via !== null && via === this.host.connection()) {
      await new Promise<void>((resolve) => {
        this.host.request({ type: 'cancel', queue: this.queue }, (error) => {
          if (error !== null) this.report(error);
          resolve();
        });
      });
    }
    this.stateValue = 'cancelled';
    this.ended(this);
  }

  private report(error: Error): void {
    if (!isConnectionLoss(error)) this.events.emit('error', error as SwitchboardClientError);
  }
}
