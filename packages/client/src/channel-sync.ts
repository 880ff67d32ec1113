/**
 * The engine behind a {@link Subscription}: its state machine, its stream position, and the commands that
 * keep it in sync across reconnects, gaps and server-side resubscribes. Internal: the client drives it
 * through the methods below; applications see the Subscription facade only.
 *
 * The rules, in one place:
 * - every `subscribe` goes out with `since` = the last delivered position when there is one, so a
 *   reconnect, a resumed session (whose restored subscription the server may have advanced past
 *   messages lost in flight), a gap and a server-requested resubscribe all recover the same way;
 * - at most one `subscribe` per channel is in flight; replies to superseded ones are ignored;
 * - while one is in flight, messages that continue the stream are delivered at once, duplicates are
 *   dropped, and messages past a gap are dropped too: the reply replays them (or reports them lost);
 * - a lost position is reported (`stateLost`), never skipped silently.
 */
import { ErrorCode } from '@switchboard/protocol';
import type {
  MembershipPush,
  MessagePush,
  RestoredSubscription,
  StreamPosition,
  SubscribeResult,
  UnsubscribedPush,
} from '@switchboard/protocol';
import type { Backoff } from './backoff.js';
import type { ChannelMessage, StateLostEvent } from './client-events.js';
import type { Clock, TimerHandle } from './clock.js';
import { Emitter } from './emitter.js';
import type { EmitterOptions } from './emitter.js';
import {
  ConnectionClosedError,
  NotConnectedError,
  RequestTimeoutError,
  ServerError,
  UnsubscribedError,
} from './errors.js';
import { StreamCursor } from './stream-cursor.js';
import { SubscriptionCode, canSubscriptionTransition } from './subscription-state.js';
import type { SubscribedEvent, SubscriptionEvents, SubscriptionState } from './subscription-state.js';

/** What a subscription needs from its client. */
export interface SyncHost {
  readonly clock: Clock;
  /** Whether the client is connected, so commands can go out now. */
  canSend(): boolean;
  /**
   * Send `subscribe` (with `since` when given); `settle` hears the reply synchronously, before any frame
   * that followed it, so live messages after the reply meet the position the reply set.
   */
  subscribeCommand(
    channel: string,
    since: StreamPosition | undefined,
    settle: (error: Error | null, result?: SubscribeResult) => void,
  ): void;
  /** Send `unsubscribe`; resolves when the server answered, whatever the answer. */
  unsubscribeCommand(channel: string): Promise<void>;
  /** A message was delivered (the client's own `message` event). */
  delivered(message: ChannelMessage<unknown>): void;
  /** Messages were lost for good (the client's own `stateLost` event). */
  stateLost(event: StateLostEvent): void;
  /** A subscribe reply never came: the connection is presumed stuck and replaced. */
  reconnect(reason: string): void;
  /** A fresh backoff for retrying temporary refusals. */
  newBackoff(): Backoff;
}

interface Waiter {
  readonly resolve: (event: SubscribedEvent) => void;
  readonly reject: (error: Error) => void;
  timer: TimerHandle | null;
}

/** One channel's subscription state, position and recovery. */
export class ChannelSync<Data = unknown> {
  /** The subscription's events. */
  readonly events: Emitter<SubscriptionEvents<Data>>;
  private stateValue: SubscriptionState = 'unsubscribed';
  private readonly cursor: StreamCursor;
  /** Bumped by every subscribe sent and every reset; a reply of an older generation is ignored. */
  private generation = 0;
  private inFlight = false;
  private retryTimer: TimerHandle | null = null;
  private backoff: Backoff | null = null;
  private lastSubscribed: SubscribedEvent | null = null;
  private readonly waiters = new Set<Waiter>();

  constructor(
    /** The channel. */
    readonly channel: string,
    private readonly host: SyncHost,
    since: StreamPosition | null,
    emitterOptions: EmitterOptions,
  ) {
    this.cursor = new StreamCursor(since);
    this.events = new Emitter(emitterOptions);
  }

  /** The subscription's state. */
  get state(): SubscriptionState {
    return this.stateValue;
  }

  /** The last delivered position; null before the first reply. */
  get position(): StreamPosition | null {
    return this.cursor.position;
  }

  /** The outcome of the last subscribe that recovered from a position of the client's own; null otherwise. */
  get recovered(): boolean | null {
    return this.lastSubscribed?.recovered ?? null;
  }

  // ---------------------------------------------------------------- application

  /** Start subscribing (now if connected, else on the next connection). No-op unless unsubscribed. */
  subscribe(): void {
    if (this.stateValue !== 'unsubscribed') return;
    this.setState('subscribing', SubscriptionCode.SubscribeCalled, 'subscribe() called');
    // A state listener may have unsubscribed again.
    if (this.state === 'subscribing' && this.host.canSend()) void this.send(undefined);
  }

  /** Stop: state `unsubscribed`, position forgotten; tells the server when it may hold the subscription. */
  unsubscribe(): Promise<void> {
    if (this.stateValue === 'unsubscribed') return Promise.resolve();
    const serverHolds = this.stateValue === 'subscribed' || this.inFlight;
    this.end(SubscriptionCode.UnsubscribeCalled, 'unsubscribe() called', null);
    return serverHolds && this.host.canSend()
      ? this.host.unsubscribeCommand(this.channel)
      : Promise.resolve();
  }

  /** Resolves when subscribed (at once if it is); rejects if it ends first, or after `timeoutMs`. */
  ready(timeoutMs: number | undefined): Promise<SubscribedEvent> {
    const last = this.lastSubscribed;
    if (this.stateValue === 'subscribed' && last !== null) return Promise.resolve(last);
    if (this.stateValue === 'unsubscribed') {
      return Promise.reject(new UnsubscribedError(this.channel, 'subscribe() was not called'));
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, timer: null };
      if (timeoutMs !== undefined) {
        waiter.timer = this.host.clock.setTimeout(() => {
          this.waiters.delete(waiter);
          reject(new RequestTimeoutError('subscribe', timeoutMs));
        }, timeoutMs);
      }
      this.waiters.add(waiter);
    });
  }

  // ---------------------------------------------------------------- client

  /**
   * The client is connected: subscribe from the last position (or, when there is none and the server
   * restored the channel on resume, from the restored one). Returns the reply's handling, or null when
   * nothing was sent.
   */
  connected(restored: RestoredSubscription | undefined): Promise<void> | null {
    // In flight already when `subscribe()` ran in a listener of the client's `state` event.
    if (this.stateValue !== 'subscribing' || this.inFlight) return null;
    return this.send(restored === undefined ? undefined : { offset: restored.offset, epoch: restored.epoch });
  }

  /** The connection was lost: in-flight replies are void; the subscription waits for the next connection. */
  disconnected(reason: string): void {
    this.stop();
    if (this.stateValue === 'subscribed')
      this.setState('subscribing', SubscriptionCode.ConnectionLost, reason);
  }

  /** The application closed the client: as a lost connection, and `ready()` waiters fail with `error`. */
  closed(error: Error): void {
    this.stop();
    this.settle(error, null);
    if (this.stateValue === 'subscribed')
      this.setState('subscribing', SubscriptionCode.ClientClosed, 'client closed');
  }

  /** A `message` push for this channel. */
  message(frame: MessagePush): void {
    if (this.stateValue === 'unsubscribed') return;
    const id = frame.id;
    // Ephemeral messages have no place in the stream: delivered as they come, never replayed.
    if (id === undefined) {
      this.deliver(frame as ChannelMessage<Data>);
      return;
    }
    const arrival = this.cursor.classify(id);
    if (arrival === 'next') {
      this.cursor.advance(id);
      this.deliver(frame as ChannelMessage<Data>);
    } else if (arrival === 'gap' && !this.inFlight && this.host.canSend()) {
      const last = this.cursor.position?.offset ?? 0;
      this.resync(SubscriptionCode.Gap, `message ${id} arrived after ${last}; re-syncing from ${last}`);
    }
    // A duplicate was delivered already; a message past a gap while a subscribe is in flight is in its reply.
  }

  /** An `unsubscribed` push for this channel. */
  unsubscribed(frame: UnsubscribedPush): void {
    if (this.stateValue === 'unsubscribed') return;
    if (!frame.resubscribe) {
      this.end(SubscriptionCode.ServerUnsubscribed, frame.reason, null);
      return;
    }
    // With a subscribe in flight, its reply settles it: the server either handled it after dropping the
    // subscription (a fresh subscribe from our position: fine) or fails it with `not_subscribed` (retried).
    if (this.inFlight) return;
    this.resync(SubscriptionCode.ServerResubscribe, frame.reason);
  }

  /** A `join` or `leave` push for this channel. */
  membership(frame: MembershipPush): void {
    if (this.stateValue !== 'unsubscribed') this.events.emit(frame.type, frame);
  }

  // ---------------------------------------------------------------- internals

  private setState(to: SubscriptionState, code: number, reason: string): void {
    const from = this.stateValue;
    if (from === to) return;
    if (!canSubscriptionTransition(from, to)) {
      // Unreachable unless this class has a bug; failing loudly beats a state machine quietly gone wrong.
      throw new Error(`Switchboard client bug: no subscription transition from ${from} to ${to}`);
    }
    this.stateValue = to;
    this.events.emit('state', { channel: this.channel, from, to, code, reason });
  }

  private resync(code: number, reason: string): void {
    if (this.stateValue === 'subscribed') this.setState('subscribing', code, reason);
    if (this.stateValue === 'subscribing') void this.send(undefined);
  }

  /** Send `subscribe` from the cursor's position, else from `fallback`; resolves once the reply was handled. */
  private send(fallback: StreamPosition | undefined): Promise<void> {
    this.cancelRetry();
    const own = this.cursor.position;
    const since = own ?? fallback;
    const generation = ++this.generation;
    this.inFlight = true;
    return new Promise((resolve) => {
      this.host.subscribeCommand(this.channel, since, (error, result) => {
        if (generation === this.generation) {
          if (error === null && result !== undefined) this.subscribed(since, own !== null, result);
          else this.failed(error, since);
        }
        resolve();
      });
    });
  }

  private subscribed(since: StreamPosition | undefined, own: boolean, result: SubscribeResult): void {
    this.inFlight = false;
    this.backoff = null;
    const plan = this.cursor.applyReply(since, result);
    if (plan.retry) {
      void this.send(undefined);
      return;
    }
    const generation = this.generation;
    for (const m of plan.deliver) {
      this.deliver({ channel: this.channel, id: m.id, data: m.data as Data, time: m.time });
      // A listener may have unsubscribed, or the connection dropped, in the middle of the replay.
      if (generation !== this.generation) return;
    }
    const position = this.cursor.position ?? { offset: result.offset, epoch: result.epoch };
    const event: SubscribedEvent = {
      channel: this.channel,
      position,
      replayed: plan.deliver.length,
      ...(own ? { recovered: !plan.lost } : {}),
    };
    this.lastSubscribed = event;
    const reason = !own ? 'subscribed' : plan.lost ? `subscribed; ${plan.reason}` : 'recovered';
    this.setState('subscribed', SubscriptionCode.Subscribed, reason);
    if (generation !== this.generation) return;
    this.events.emit('subscribed', event);
    this.settle(null, event);
    const previous = plan.previous;
    if (own && plan.lost && previous !== undefined && generation === this.generation) {
      const lost: StateLostEvent = { channel: this.channel, since: previous, position, reason: plan.reason };
      this.events.emit('stateLost', lost);
      this.host.stateLost(lost);
    }
  }

  private failed(error: unknown, since: StreamPosition | undefined): void {
    this.inFlight = false;
    // The next connection resubscribes.
    if (error instanceof ConnectionClosedError || error instanceof NotConnectedError) return;
    if (error instanceof RequestTimeoutError) {
      // centrifuge-js does the same: a connection that does not answer a subscribe is not trusted.
      this.host.reconnect(`no reply to subscribe ${this.channel} within ${error.timeoutMs} ms`);
      return;
    }
    const failure = error instanceof Error ? error : new Error(String(error));
    this.events.emit('error', { channel: this.channel, error: failure });
    const code = error instanceof ServerError ? error.code : '';
    if (code === ErrorCode.AlreadySubscribed && since === undefined) {
      // The server holds a subscription this client has no position for (a raw `subscribe` request, or
      // one it never heard the reply to): drop it, then subscribe afresh.
      void this.host.unsubscribeCommand(this.channel);
    }
    // not_subscribed: the server dropped the subscription while it was being set up. already_subscribed:
    // a subscribe of the channel was still being set up. Both pass; try again.
    const retry =
      error instanceof ServerError &&
      (error.temporary || code === ErrorCode.NotSubscribed || code === ErrorCode.AlreadySubscribed);
    const delay = retry ? (this.backoff ??= this.host.newBackoff()).next() : null;
    if (delay === null) {
      this.end(SubscriptionCode.SubscribeFailed, failure.message, failure);
      return;
    }
    this.retryTimer = this.host.clock.setTimeout(() => {
      this.retryTimer = null;
      if (this.stateValue === 'subscribing' && !this.inFlight && this.host.canSend())
        void this.send(undefined);
    }, delay);
  }

  private deliver(message: ChannelMessage<Data>): void {
    this.events.emit('message', message);
    this.host.delivered(message);
  }

  /** End the subscription: state `unsubscribed`, position forgotten, waiters rejected. */
  private end(code: number, reason: string, cause: Error | null): void {
    this.stop();
    this.backoff = null;
    this.cursor.reset();
    this.lastSubscribed = null;
    // Settled before the state event: a listener that subscribes again gets waiters of its own.
    this.settle(new UnsubscribedError(this.channel, reason, cause === null ? {} : { cause }), null);
    this.setState('unsubscribed', code, reason);
  }

  /** Void any reply in flight and any retry. */
  private stop(): void {
    this.generation++;
    this.inFlight = false;
    this.cancelRetry();
  }

  private cancelRetry(): void {
    this.retryTimer?.cancel();
    this.retryTimer = null;
  }

  private settle(error: Error | null, event: SubscribedEvent | null): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const waiter of waiters) {
      waiter.timer?.cancel();
      if (error !== null) waiter.reject(error);
      else if (event !== null) waiter.resolve(event);
    }
  }
}
