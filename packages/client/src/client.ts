/**
 * The Switchboard client: connection and reconnects (client-connection.ts), subscriptions that stay in
 * sync across reconnects (subscription.ts, channel-sync.ts), a bounded queue for what is published while
 * offline (outbox.ts), request/reply, history, presence and typing indicators.
 *
 * On every (re)connection, in this order: every wanted subscription is sent again from its own position,
 * then, once their replies are in, the offline queue is flushed, so what the application published while
 * offline goes out after its subscriptions are back.
 */
import type { TransportName } from './transport-picker.js';
import { CloseCode } from '@switchboard/protocol';
import type {
  ChannelKey,
  ChannelParam,
  DefaultKey,
  HistoryResult,
  PayloadParam,
  PresenceResult,
  PresenceStatsResult,
  PublishResult,
  RestoredSubscription,
  ServerFrame,
  SubscribeResult,
} from '@switchboard/protocol';
import { Backoff } from './backoff.js';
import { ChannelSync } from './channel-sync.js';
import type { SyncHost } from './channel-sync.js';
import { ClientConnection } from './client-connection.js';
import { checkCloseArgs } from './close-args.js';
import { Endpoints, checkServerUrls } from './endpoints.js';
import type { ServerUrls } from './endpoints.js';
import { resolveClientOptions, validateTimeout } from './client-options.js';
import type { ClientOptions, ResolvedClientOptions } from './client-options.js';
import type { ChannelMessage, ClientEvents, ConnectedInfo, ServerMessage } from './client-events.js';
import type {
  HistoryOptions,
  NotifyCommand,
  PublishOptions,
  RequestCommand,
  RequestOptions,
  ResultOf,
  SendRequest,
  SendResult,
  SendStatus,
} from './commands.js';
import type { ConnectionState } from './connection-state.js';
import type { Consumer, ConsumeOptions, JobHandler } from './consumer.js';
import { Delivery } from './delivery.js';
import type { Inbox } from './inbox.js';
import { Emitter } from './emitter.js';
import type { EmitterOptions, Listener } from './emitter.js';
import { NotConnectedError, serverErrorFrom } from './errors.js';
import { Outbox, sendQueued } from './outbox.js';
import { Subscription } from './subscription.js';
import type { SubscribeOptions } from './subscription.js';
import { TypingIndicator } from './typing-indicator.js';
import type { WireStats } from './wire-stats.js';
import type { TypingOptions } from './typing-indicator.js';

/** A subscription and the engine behind it. */
interface SubscriptionEntry {
  readonly sync: ChannelSync<unknown>;
  readonly facade: Subscription<unknown>;
}

/**
 * A client of a Switchboard server. `Data` is the application's {@link ChannelMap} (shared with the
 * server's `createServer<App>()`): channels are then checked against its patterns, and `publish`,
 * `subscribe`, `history` and `send` typed per channel (docs/typescript.md). Any other `Data` is the
 * default type of every channel's payloads, narrowed per call by `subscribe<T>()` and `publish<T>()`.
 * Either way the server does not check payloads: the types are the application's promise.
 *
 * ```ts
 * const client = new SwitchboardClient<App>('wss://example.com/ws');
 * client.subscribe('chat:lobby').on('message', (m) => render(m.data)); // m.data: ChatMessage
 * ```
 *
 * ```ts
 * const client = new SwitchboardClient('wss://example.com/ws');
 * const lobby = client.subscribe('chat:lobby');
 * lobby.on('message', (m) => console.log(m.id, m.data));
 * lobby.on('stateLost', () => reload());
 * await client.connect();
 * await client.publish('chat:lobby', { text: 'hi' });
 * ```
 */
export class SwitchboardClient<Data = unknown> {
  /** Every server URL this client may connect to, in the order they are tried. */
  readonly urls: readonly string[];
  private readonly options: ResolvedClientOptions;
  private readonly emitterOptions: EmitterOptions;
  private readonly events: Emitter<ClientEvents<Data>>;
  private readonly link: ClientConnection;
  private readonly outbox: Outbox;
  private readonly subs = new Map<string, SubscriptionEntry>();
  /** Channels whose subscription was removed while the server may still hold them. */
  private readonly removed = new Set<string>();
  private readonly host: SyncHost;
  private readonly delivery: Delivery;
  /** The offline queue was flushed on this connection, so calls go straight out instead of queueing behind it. */
  private flushed = false;

  /**
   * A client of the `/ws` endpoint at `url` (for example `wss://example.com/ws`), or of several nodes'
   * endpoints tried in turn (`['wss://a.example.com/ws', 'wss://b.example.com/ws']`: an attempt that fails
   * moves on to the next; a lost connection tries its own first). Nothing happens until `connect()`.
   * Throws InvalidOptionError for a URL that is not ws: or wss:, an empty list, a bad option, or when no
   * WebSocket constructor is available.
   */
  constructor(url: ServerUrls, options: ClientOptions = {}) {
    this.options = resolveClientOptions(url, options);
    this.urls = checkServerUrls(url);
    this.emitterOptions =
      options.onListenerError === undefined ? {} : { onListenerError: options.onListenerError };
    this.events = new Emitter(this.emitterOptions);
    this.outbox = new Outbox(this.options.offlineQueue, (commands) =>
      this.events.emit('dropped', { commands }),
    );
    this.link = new ClientConnection(new Endpoints(this.urls), this.options, {
      // The connection's events carry no `Data`, so their payloads are the same type here.
      emit: (event, payload) => this.events.emit(event, payload as ClientEvents<Data>[typeof event]),
      connected: (info, restored) => this.resubscribe(info, restored),
      lost: (reason) => {
        this.flushed = false;
        this.delivery.lost();
        for (const { sync } of this.subs.values()) sync.disconnected(reason);
      },
      // Nothing will send them: their promises settle now rather than hang until a connect() that may never come.
      stopped: () => this.outbox.clear(),
      closed: (error) => {
        this.flushed = false;
        this.delivery.lost();
        for (const { sync } of this.subs.values()) sync.closed(error);
        this.outbox.clear();
      },
      push: (frame) => this.push(frame),
    });
    const timeoutMs = this.options.requestTimeoutMs;
    this.delivery = new Delivery(this.options, this.link, this.emitterOptions);
    this.host = {
      clock: this.options.clock,
      canSend: () => this.link.state === 'connected',
      subscribeCommand: (channel, since, settle) =>
        this.link.requestWith(
          since === undefined ? { type: 'subscribe', channel } : { type: 'subscribe', channel, since },
          timeoutMs,
          (error, result) => settle(error, result as SubscribeResult | undefined),
        ),
      unsubscribeCommand: (channel) =>
        this.link.request({ type: 'unsubscribe', channel }, timeoutMs).then(
          () => undefined,
          () => undefined,
        ),
      delivered: (message) => this.events.emit('message', message as ClientEvents<Data>['message']),
      stateLost: (event) => this.events.emit('stateLost', event),
      // Deferred: the timeout is reported from inside the request table's sweep.
      reconnect: (reason) => queueMicrotask(() => this.link.replace(reason)),
      newBackoff: () => new Backoff(this.options.backoff),
    };
  }
  /** The server URL in use, or the one the next attempt uses. */
  get url(): string {
    return this.link.endpoints.current;
  }

  /** The transport of the current connection, or of the attempt under way (see `transports`). */
  get transport(): TransportName {
    return this.link.transports.current;
  }

  /** Messages and payload bytes this client received and sent so far, over every connection (wire-stats.ts). */
  get stats(): WireStats {
    return this.link.transports.meter.snapshot();
  }

  /** Where the client is in its lifecycle. */
  get state(): ConnectionState {
    return this.link.state;
  }

  /** What the server said about the current connection; null unless connected. */
  get connection(): ConnectedInfo | null {
    return this.link.info;
  }

  // ---------------------------------------------------------------- events

  /** Call `listener` on every `event`; returns a function that removes it. */
  on<K extends keyof ClientEvents<Data>>(event: K, listener: Listener<ClientEvents<Data>[K]>): () => void {
    return this.events.on(event, listener);
  }

  /** Call `listener` on the next `event` only; returns a function that removes it. */
  once<K extends keyof ClientEvents<Data>>(event: K, listener: Listener<ClientEvents<Data>[K]>): () => void {
    return this.events.once(event, listener);
  }

  /** Remove `listener` from `event`. */
  off<K extends keyof ClientEvents<Data>>(event: K, listener: Listener<ClientEvents<Data>[K]>): void {
    this.events.off(event, listener);
  }

  // ---------------------------------------------------------------- lifecycle

  /**
   * Connect, and stay connected: resolves with the server's `connected` push (at once when connected).
   * Repeated calls share one promise. Failed attempts are retried with backoff; the promise rejects with
   * ConnectionClosedError only when the client stops trying (a terminal close code, `reconnect: false`,
   * attempts used up) or `close()` is called.
   */
  connect(): Promise<ConnectedInfo> {
    return this.link.connect();
  }

  /**
   * Close now with `code` (default 1000) and `reason`: state `closed`, no reconnect, pending requests and
   * queued calls rejected. Subscriptions keep their positions and resume if `connect()` is called again.
   * Idempotent. Throws InvalidArgumentError for a code or reason the WebSocket API would refuse.
   */
  close(code: number = CloseCode.Normal, reason = ''): void {
    checkCloseArgs(code, reason);
    this.link.close(code, reason);
  }

  // ---------------------------------------------------------------- subscriptions

  /**
   * The subscription to `channel`, created on first use, and subscribing: now when connected, else as
   * soon as the client is. One per channel: later calls return the same object (and `options` apply only
   * when it is created). Watch its `message`, `subscribed` and `stateLost` events.
   */
  subscribe<K extends ChannelKey<Data> = DefaultKey<Data>>(
    channel: ChannelParam<Data, K>,
    options: SubscribeOptions = {},
  ): Subscription<PayloadParam<Data, K>> {
    return this.subscription<K>(channel, options).subscribe();
  }

  /**
   * The subscription to `channel`, created (`unsubscribed`) on first use without subscribing: attach
   * listeners, then call its `subscribe()`. `options` apply only when it is created.
   */
  subscription<K extends ChannelKey<Data> = DefaultKey<Data>>(
    channel: ChannelParam<Data, K>,
    options: SubscribeOptions = {},
  ): Subscription<PayloadParam<Data, K>> {
    let entry = this.subs.get(channel);
    if (entry === undefined) {
      this.removed.delete(channel);
      const sync = new ChannelSync<unknown>(channel, this.host, options.since ?? null, this.emitterOptions);
      entry = { sync, facade: new Subscription(sync, this) };
      this.subs.set(channel, entry);
    }
    return entry.facade as Subscription<PayloadParam<Data, K>>;
  }

  /** Every subscription this client created. */
  subscriptions(): Subscription[] {
    return [...this.subs.values()].map((entry) => entry.facade);
  }

  /** Unsubscribe from `channel` (see {@link Subscription.unsubscribe}); the subscription object stays. */
  async unsubscribe(channel: string): Promise<void> {
    await this.subs.get(channel)?.sync.unsubscribe();
  }

  /** Unsubscribe from `channel` and forget its subscription object (its listeners stop hearing anything). */
  async removeSubscription(channel: string): Promise<void> {
    const entry = this.subs.get(channel);
    if (entry === undefined) return;
    this.subs.delete(channel);
    // Until the server confirms, its messages for the channel (a resumed session may still hold it) are
    // dropped rather than reported as messages of a channel nobody subscribed to.
    this.removed.add(channel);
    await entry.sync.unsubscribe();
    if (this.link.state === 'connected') this.removed.delete(channel);
  }

  /** The connection user's acknowledged inbox: `client.inbox.on('message', async (msg) => ...)` (README). */
  get inbox(): Inbox {
    return this.delivery.inbox;
  }

  /**
   * Consume work queue `queue`, `prefetch` (1) jobs at once: `handler` resolving acks a job, throwing
   * nacks it (README). Throws InvalidArgumentError for a bad name or prefetch, or a queue already consumed.
   */
  consume<T = unknown>(queue: string, handler: JobHandler<T>, options: ConsumeOptions = {}): Consumer {
    return this.delivery.consume(queue, handler, options);
  }

  // ---------------------------------------------------------------- commands

  /**
   * Publish `data` to `channel` (subscribed or not); resolves with the message id (ephemeral messages
   * have none). While the client is not connected the call is queued (see the `offlineQueue` option) and
   * its timeout starts when it is sent. Rejects with MessageDroppedError when the queue drops it, and with
   * ConnectionClosedError when the connection drops after it was sent (the server may have published it).
   */
  publish<K extends ChannelKey<Data> = DefaultKey<Data>>(
    channel: ChannelParam<Data, K>,
    data: PayloadParam<Data, K>,
    options: PublishOptions = {},
  ): Promise<PublishResult> {
    return this.sendOrQueue(
      {
        type: 'publish',
        channel,
        data,
        ...(options.ephemeral === undefined ? {} : { ephemeral: options.ephemeral }),
        ...(options.excludeSelf === undefined ? {} : { excludeSelf: options.excludeSelf }),
      },
      options,
    );
  }

  /**
   * Send `data` to the server application's `onMessage` hook; resolves with what the hook returned (null
   * for nothing). Queued while offline, like `publish`. Rejects with `not_available` without a hook.
   */
  send(data: SendRequest<Data>, options: RequestOptions = {}): Promise<SendResult<Data>> {
    return this.sendOrQueue({ type: 'send', data }, options) as Promise<SendResult<Data>>;
  }

  /** Read `channel`'s retained history: messages after `since` (default: the oldest kept), at most `limit`. */
  history<K extends ChannelKey<Data> = DefaultKey<Data>>(
    channel: ChannelParam<Data, K>,
    options: HistoryOptions = {},
  ): Promise<HistoryResult<PayloadParam<Data, K>>> {
    return this.request(
      {
        type: 'history',
        channel,
        ...(options.since === undefined ? {} : { since: options.since }),
        ...(options.limit === undefined ? {} : { limit: options.limit }),
      },
      options,
    ) as Promise<HistoryResult<PayloadParam<Data, K>>>;
  }

  /** Who is in `channel` (a presence-enabled channel; `not_available` otherwise). */
  presence(channel: string, options: RequestOptions = {}): Promise<PresenceResult> {
    return this.request({ type: 'presence', channel }, options);
  }

  /** How many users and connections are in `channel` (a presence-enabled channel). */
  presenceStats(channel: string, options: RequestOptions = {}): Promise<PresenceStatsResult> {
    return this.request({ type: 'presence_stats', channel }, options);
  }

  /** Ask the server for a reply; resolves with the round-trip time in ms (on the client's clock). */
  async ping(options: RequestOptions = {}): Promise<number> {
    const started = this.options.clock.now();
    await this.request({ type: 'ping' }, options);
    return this.options.clock.now() - started;
  }

  /**
   * A typing indicator for `channel`: call `keystroke()` on input and `stop()` when done; it publishes
   * debounced ephemeral `start`/`stop` messages (not to this connection, and never queued while offline).
   */
  typing<T = unknown>(channel: string, options: TypingOptions<T> = {}): TypingIndicator<T> {
    return new TypingIndicator<T>(
      (data) => {
        if (this.link.state === 'connected') {
          this.link.write({ type: 'publish', channel, data, ephemeral: true, excludeSelf: true });
        }
      },
      this.options.clock,
      options,
    );
  }

  /**
   * Send any command with a fresh `id` and resolve with its reply's `result`. Rejects with ServerError
   * for an error reply, RequestTimeoutError when no reply comes in time, ConnectionClosedError when the
   * connection closes first, and NotConnectedError when the client is not connected (nothing is queued).
   * A `subscribe` sent this way bypasses the Subscription machinery: no dedupe, no recovery.
   */
  request<C extends RequestCommand>(command: C, options: RequestOptions = {}): Promise<ResultOf<C>> {
    try {
      return this.link.request(command, this.timeoutOf(options));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Send a command without an id: no reply, and a failure arrives as an `error` event. Queued while the
   * client is not connected (`queued`); `dropped` when the client is closed or the queue refused it.
   */
  notify(command: NotifyCommand): SendStatus {
    const state = this.link.state;
    if (state === 'closed') return 'dropped';
    if (state === 'connected' && this.flushed) return this.link.write(command) ? 'sent' : 'dropped';
    return this.outbox.push({ command }, this.options.clock.now());
  }

  // ---------------------------------------------------------------- internals

  private push(frame: Exclude<ServerFrame, { type: 'reply' | 'ping' | 'connected' }>): void {
    switch (frame.type) {
      case 'message': {
        const entry = this.subs.get(frame.channel);
        // Without a Subscription (a raw `subscribe` request) there is no position to dedupe against.
        if (entry !== undefined) entry.sync.message(frame);
        else if (!this.removed.has(frame.channel))
          this.events.emit('message', frame as ChannelMessage as ClientEvents<Data>['message']);
        return;
      }
      case 'unsubscribed':
        this.subs.get(frame.channel)?.sync.unsubscribed(frame);
        return;
      case 'join':
      case 'leave':
        this.subs.get(frame.channel)?.sync.membership(frame);
        this.events.emit(frame.type, frame);
        return;
      case 'direct':
      case 'broadcast':
        // The channel map's promise, like channel payloads: the server does not check them.
        this.events.emit(frame.type, frame as ServerMessage as ClientEvents<Data>[typeof frame.type]);
        return;
      case 'error':
        this.events.emit('error', serverErrorFrom(frame));
        return;
      case 'inbox':
      case 'job':
        this.delivery.push(frame);
        return;
      default:
        // Unknown push types are ignored: later protocol versions add them (docs/protocol.md).
        return;
    }
  }

  /**
   * Subscribe every wanted channel again, each from its own position: also the channels a resumed
   * session restored, because the server restores from the last message it *wrote*, and what it wrote
   * into a dying socket never arrived. Reopen the inbox and consumers. Then flush the offline queue.
   */
  private resubscribe(info: ConnectedInfo, restored: readonly RestoredSubscription[]): void {
    this.delivery.connected();
    const unwanted = new Map(restored.map((r) => [r.channel, r]));
    const replies: Promise<void>[] = [];
    for (const { sync } of this.subs.values()) {
      if (sync.state === 'unsubscribed') continue;
      const reply = sync.connected(unwanted.get(sync.channel));
      unwanted.delete(sync.channel);
      if (reply !== null) replies.push(reply);
    }
    // The session still held channels the application unsubscribed from while offline.
    for (const channel of unwanted.keys()) {
      const done = (): void => void this.removed.delete(channel);
      this.link.request({ type: 'unsubscribe', channel }, this.options.requestTimeoutMs).then(done, done);
    }
    for (const channel of this.removed) if (!unwanted.has(channel)) this.removed.delete(channel);
    void Promise.allSettled(replies).then(() => {
      if (this.link.info === info) this.flush(info);
    });
  }

  private flush(info: ConnectedInfo): void {
    for (const entry of this.outbox.drain(this.options.clock.now())) {
      sendQueued(entry, this.link);
      // Whatever is left waits for the next connection.
      if (this.link.info !== info) return;
    }
    this.flushed = true;
  }

  private timeoutOf(options: RequestOptions): number {
    return options.timeoutMs === undefined
      ? this.options.requestTimeoutMs
      : validateTimeout('timeoutMs', options.timeoutMs);
  }

  /** Send now when connected and the queue is flushed; else queue (unless closed). */
  private sendOrQueue<C extends RequestCommand>(command: C, options: RequestOptions): Promise<ResultOf<C>> {
    let timeoutMs: number;
    try {
      timeoutMs = this.timeoutOf(options);
    } catch (error) {
      return Promise.reject(error);
    }
    const state = this.link.state;
    if (state === 'closed') return Promise.reject(new NotConnectedError(state));
    if (state === 'connected' && this.flushed) return this.link.request(command, timeoutMs);
    return new Promise((resolve, reject) => {
      const settle = resolve as (result: unknown) => void;
      this.outbox.push(
        { command, request: { timeoutMs, resolve: settle, reject } },
        this.options.clock.now(),
      );
    });
  }
}
