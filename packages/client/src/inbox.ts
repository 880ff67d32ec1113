/**
 * `client.inbox`: the connection user's acknowledged inbox, seen from one device. The server keeps each
 * message until this device acks it, pushing at most `prefetch` ahead, in order; this side runs the
 * handlers and answers.
 *
 * The rules, in one place:
 * - the inbox is opened (`{type:'inbox', device, prefetch}`) when the first `message` handler is added or
 *   `open()` is called, and again on every (re)connection, like subscriptions;
 * - one message is handled at a time, in arrival order; pushes that arrive meanwhile are held;
 * - a handled (acked) id that comes again is acked again without running the handlers (the ack was lost),
 *   and an id whose handlers are still running is ignored when it comes again (an ack timeout);
 * - a nack drops the held messages unhandled: the server resends from the nacked one on, in order, and
 *   until the nack's reply (or the resend) every push is one the server wrote before it saw the nack;
 * - an ack or nack goes out on the connection that last delivered its message, or not at all: a lost
 *   connection drops it, and the server redelivers (held messages are dropped with the connection too).
 */
import { MAX_NACK_DELAY_MS } from '@switchboard/protocol';
import type { InboxPush } from '@switchboard/protocol';
import type { ConnectedInfo } from './client-events.js';
import type { RequestCommand } from './commands.js';
import { isConnectionLoss } from './delivery-host.js';
import type { DeliveryHost } from './delivery-host.js';
import { defaultDeviceId } from './device-id.js';
import { Emitter } from './emitter.js';
import type { EmitterOptions, Listener } from './emitter.js';
import { InvalidArgumentError } from './errors.js';
import type { SwitchboardClientError } from './errors.js';
import type { ResolvedInboxOptions } from './inbox-options.js';
import { RecentIds } from './recent-ids.js';

/** A message from the user's inbox, as a `message` handler gets it. */
export interface InboxMessage<T = unknown> {
  /** The message id, the same on every device and every redelivery. */
  readonly id: string;
  /** 1 on the first delivery to this device, then 2, 3... */
  readonly attempt: number;
  readonly data: T;
  /** When it was stored (ms since the Unix epoch). */
  readonly time: number;
  /** Done: the server will not send it to this device again. The first of ack() and nack() counts. */
  ack(): void;
  /**
   * Not now: the server sends it again (and the messages after it) after `delayMs` (0-3600000; default:
   * the server's backoff), until its attempts are spent. Throws InvalidArgumentError for a bad delay.
   */
  nack(delayMs?: number): void;
}

/**
 * A `message` handler: its return (or the promise it returns) decides ack or nack with `autoAck`. `T` is
 * the application's promise about `data`: the SDK does not check it.
 */
export type InboxHandler<T = unknown> = (message: InboxMessage<T>) => unknown;

/** The server accepted the inbox on the current connection. */
export interface InboxOpenEvent {
  readonly device: string;
}

/** What the inbox did since the client was created. */
export interface InboxStats {
  /** Messages handed to the handlers. */
  readonly handled: number;
  /** Redeliveries answered without running the handlers (already handled, or being handled). */
  readonly duplicates: number;
  /** Messages held unhandled and dropped, after a nack or a lost connection (the server resends them). */
  readonly dropped: number;
}

/** A message received and not handed to the handlers yet. */
interface Held {
  readonly push: InboxPush;
  readonly via: ConnectedInfo;
}

/** The message whose handlers run. */
interface Handling {
  readonly id: string;
  /** The connection that last delivered it: its ack or nack goes there. */
  via: ConnectedInfo;
  /** ack() or nack() was called (by the application or autoAck). */
  settled: boolean;
  /** Every handler returned, and its promise settled. */
  returned: boolean;
}

interface InboxEvents {
  error: SwitchboardClientError;
  open: InboxOpenEvent;
}

/** The connection user's inbox on this client (`client.inbox`). */
export class Inbox {
  private handlers: readonly InboxHandler[] = [];
  private readonly events: Emitter<InboxEvents>;
  private readonly handled: RecentIds;
  private held: Held[] = [];
  private handling: Handling | null = null;
  private wanted = false;
  /** After a nack: pushes of this connection are ones the server wrote before it saw the nack of `id`. */
  private draining: { readonly via: ConnectedInfo; readonly id: string } | null = null;
  private deviceId: string | null;
  private readonly counts = { handled: 0, duplicates: 0, dropped: 0 };

  constructor(
    private readonly options: ResolvedInboxOptions,
    private readonly host: DeliveryHost,
    emitterOptions: EmitterOptions,
  ) {
    this.events = new Emitter(emitterOptions);
    this.handled = new RecentIds(options.dedupeSize);
    this.deviceId = options.device;
  }

  /** This client's device id (the `inbox.device` option, else the default, chosen on first use). */
  get device(): string {
    return (this.deviceId ??= defaultDeviceId());
  }

  /** Whether the inbox was opened (by a `message` handler or `open()`): it is reopened on every connection. */
  get isOpen(): boolean {
    return this.wanted;
  }

  /** Counters of what the inbox did. */
  get stats(): InboxStats {
    return { ...this.counts };
  }

  /**
   * Add a handler of every message (opening the inbox), or a listener of `error` (the server refused
   * the inbox, an ack or a nack: a ServerError such as `permission_denied` for an anonymous connection)
   * or `open` (the server accepted the inbox, after every (re)connection). Returns a function that removes it.
   */
  on<T = unknown>(event: 'message', handler: InboxHandler<T>): () => void;
  on(event: 'error', listener: Listener<SwitchboardClientError>): () => void;
  on(event: 'open', listener: Listener<InboxOpenEvent>): () => void;
  on(event: 'message' | keyof InboxEvents, listener: (payload: never) => unknown): () => void {
    if (event !== 'message')
      return this.events.on(event, listener as Listener<InboxEvents[keyof InboxEvents]>);
    const handler = listener as InboxHandler;
    this.handlers = [...this.handlers, handler];
    this.open();
    // Messages held while there was no handler: not from inside on().
    queueMicrotask(() => this.pump());
    let added = true;
    return () => {
      if (!added) return;
      added = false;
      const at = this.handlers.indexOf(handler);
      if (at >= 0) this.handlers = [...this.handlers.slice(0, at), ...this.handlers.slice(at + 1)];
    };
  }

  /** Remove a handler or listener added with on(). Without handlers, messages wait (held) for the next one. */
  off<T = unknown>(event: 'message', handler: InboxHandler<T>): void;
  off(event: 'error', listener: Listener<SwitchboardClientError>): void;
  off(event: 'open', listener: Listener<InboxOpenEvent>): void;
  off(event: 'message' | keyof InboxEvents, listener: (payload: never) => unknown): void {
    if (event !== 'message') this.events.off(event, listener as Listener<InboxEvents[keyof InboxEvents]>);
    else this.handlers = this.handlers.filter((handler) => handler !== listener);
  }

  /**
   * Open the inbox without a handler yet (messages are held until one is added): now when connected,
   * else on connection, and again after every reconnection. Idempotent; there is no closing it.
   */
  open(): void {
    if (this.wanted) return;
    this.wanted = true;
    const via = this.host.connection();
    if (via !== null) this.sendOpen(via);
  }

  // ---------------------------------------------------------------- driven by the client

  /** A connection is up: reopen the inbox on it. */
  connected(): void {
    const via = this.host.connection();
    if (this.wanted && via !== null) this.sendOpen(via);
  }

  /** The connection is gone: what it delivered and is not being handled is dropped (the server keeps it). */
  lost(): void {
    this.drop();
    this.draining = null;
  }

  /** An `inbox` push. */
  push(frame: InboxPush): void {
    const via = this.host.connection();
    if (via === null || typeof frame.id !== 'string') return;
    if (this.handled.has(frame.id)) {
      this.counts.duplicates++;
      this.send({ type: 'ack', message: frame.id }, via);
      return;
    }
    const handling = this.handling;
    // A nacked one still running is not ignored: this is its resend, handled once the handlers return.
    if (handling !== null && handling.id === frame.id && !handling.settled) {
      handling.via = via;
      this.counts.duplicates++;
      return;
    }
    const draining = this.draining;
    if (draining !== null) {
      if (draining.via === via && draining.id !== frame.id) {
        this.counts.dropped++;
        return;
      }
      this.draining = null;
    }
    const at = this.held.findIndex((held) => held.push.id === frame.id);
    // Sent again after an ack timeout: keep its place, with the newer attempt and connection.
    if (at >= 0) this.held[at] = { push: frame, via };
    else this.held.push({ push: frame, via });
    this.pump();
  }

  // ---------------------------------------------------------------- internals

  private sendOpen(via: ConnectedInfo): void {
    const device = this.device;
    this.host.request({ type: 'inbox', device, prefetch: this.options.prefetch }, (error) => {
      if (error === null) {
        if (this.host.connection() === via) this.events.emit('open', { device });
      } else this.report(error);
    });
  }

  /** Hand the next held message to the handlers, unless one is being handled or there is no handler. */
  private pump(): void {
    if (this.handling !== null || this.handlers.length === 0) return;
    const next = this.held.shift();
    if (next === undefined) return;
    const handling: Handling = { id: next.push.id, via: next.via, settled: false, returned: false };
    this.handling = handling;
    this.counts.handled++;
    const message = this.message(next.push, handling);
    const results: unknown[] = [];
    for (const handler of this.handlers) {
      try {
        results.push(handler(message));
      } catch (error) {
        results.push(Promise.reject(error));
      }
    }
    Promise.all(results).then(
      () => this.returned(handling, true),
      () => this.returned(handling, false),
    );
  }

  private message(push: InboxPush, handling: Handling): InboxMessage {
    return {
      id: push.id,
      attempt: push.attempt,
      data: push.data,
      time: push.time,
      ack: () => this.settle(handling, undefined),
      nack: (delayMs?: number) => {
        if (
          delayMs !== undefined &&
          (!Number.isSafeInteger(delayMs) || delayMs < 0 || delayMs > MAX_NACK_DELAY_MS)
        ) {
          throw new InvalidArgumentError(`nack delay must be an integer from 0 to ${MAX_NACK_DELAY_MS} ms`);
        }
        this.settle(handling, delayMs ?? null);
      },
    };
  }

  /** The handlers are done: `ok` unless one threw or rejected. */
  private returned(handling: Handling, ok: boolean): void {
    handling.returned = true;
    if (handling.settled) this.finish(handling);
    // Without autoAck, a handler that resolved leaves the answer to the application; one that failed
    // without answering is nacked, or the inbox would wait for an ack that will not come.
    else if (!ok) this.settle(handling, null);
    else if (this.options.autoAck) this.settle(handling, undefined);
  }

  /** Ack (`delay` undefined) or nack (`delay` null: the server's backoff) the message being handled. */
  private settle(handling: Handling, delay: number | null | undefined): void {
    if (handling.settled) return;
    handling.settled = true;
    const id = handling.id;
    if (delay === undefined) {
      this.handled.add(id);
      this.send({ type: 'ack', message: id }, handling.via);
    } else {
      // The server resends from this message on, so the ones held after it would come twice.
      this.drop();
      const via = handling.via;
      if (via === this.host.connection()) {
        this.draining = { via, id };
        this.host.request(
          delay === null ? { type: 'nack', message: id } : { type: 'nack', message: id, delay },
          (error) => {
            if (this.draining?.via === via && this.draining.id === id) this.draining = null;
            if (error !== null) this.report(error);
          },
        );
      }
    }
    if (handling.returned) this.finish(handling);
  }

  private finish(handling: Handling): void {
    if (this.handling !== handling) return;
    this.handling = null;
    this.pump();
  }

  /** Send `command` on `via` if it is still the connection; a lost one drops it. */
  private send(command: RequestCommand, via: ConnectedInfo): void {
    if (via !== this.host.connection()) return;
    this.host.request(command, (error) => {
      if (error !== null) this.report(error);
    });
  }

  private drop(): void {
    this.counts.dropped += this.held.length;
    this.held = [];
  }

  private report(error: Error): void {
    if (!isConnectionLoss(error)) this.events.emit('error', error as SwitchboardClientError);
  }
}
