/**
 * The Switchboard client: one WebSocket speaking protocol v1 (docs/protocol.md). It connects, sends
 * commands with ids and matches their replies, answers the server's pings, watches the server's silence,
 * and turns pushes into typed events.
 *
 * Reconnection, recovery, acks and token providers arrive in their own issues. The seams they need are
 * here already: one state machine with close codes and a `reconnect` verdict on every disconnect, command
 * ids that stay unique across connections, and one injected clock driving one timer.
 */
import { CloseCode, decodeServerFrame, encodeCommand, shouldReconnect } from '@switchboard/protocol';
import type {
  ClientCommand,
  ConnectedPush,
  HeartbeatSettings,
  PublishResult,
  SubscribeResult,
} from '@switchboard/protocol';
import { resolveClientOptions, validateTimeout } from './client-options.js';
import type { ClientOptions, ResolvedClientOptions } from './client-options.js';
import type { ChannelMessage, ClientEvents, ConnectedInfo } from './client-events.js';
import type {
  NotifyCommand,
  PublishOptions,
  RequestCommand,
  RequestOptions,
  ResultOf,
  SendStatus,
} from './commands.js';
import { TransitionCode, canTransition } from './connection-state.js';
import type { ConnectionState } from './connection-state.js';
import { DeadlineTimer } from './deadline-timer.js';
import { Emitter } from './emitter.js';
import type { Listener } from './emitter.js';
import { ConnectionClosedError, InvalidArgumentError, NotConnectedError, serverErrorFrom } from './errors.js';
import { HeartbeatMonitor } from './heartbeat-monitor.js';
import { RequestTable } from './request-table.js';
import type { WebSocketLike } from './websocket-like.js';

/** A connect() in progress. */
interface ConnectAttempt {
  readonly promise: Promise<ConnectedInfo>;
  readonly resolve: (info: ConnectedInfo) => void;
  readonly reject: (error: Error) => void;
}

/** What a connection whose server announced no usable heartbeat reports; the client then runs none. */
const NO_HEARTBEAT: HeartbeatSettings = { interval: 0, timeout: 0 };

/** The longest close reason a close frame can carry, in UTF-8 bytes (RFC 6455, section 5.5). */
const MAX_CLOSE_REASON_BYTES = 123;

/**
 * A client of a Switchboard server. `Data` is the type of channel message payloads (what `publish`
 * sends and `message` events carry); the server does not check it, so it is the application's promise.
 *
 * ```ts
 * const client = new SwitchboardClient('wss://example.com/ws');
 * client.on('message', (m) => console.log(m.channel, m.data));
 * await client.connect();
 * await client.subscribe('chat:lobby');
 * await client.publish('chat:lobby', { text: 'hi' });
 * ```
 */
export class SwitchboardClient<Data = unknown> {
  /** The endpoint this client connects to. */
  readonly url: string;
  private readonly options: ResolvedClientOptions;
  private readonly events: Emitter<ClientEvents<Data>>;
  private readonly requests = new RequestTable();
  private readonly timer: DeadlineTimer;
  private stateValue: ConnectionState = 'disconnected';
  /** The current socket; listeners of any other (abandoned) socket ignore their events. */
  private socket: WebSocketLike | null = null;
  private info: ConnectedInfo | null = null;
  private heartbeat: HeartbeatMonitor | null = null;
  private attempt: ConnectAttempt | null = null;

  /**
   * A client of the `/ws` endpoint at `url` (for example `wss://example.com/ws`). Nothing happens until
   * `connect()`. Throws InvalidOptionError for a URL that is not ws: or wss:, or when no WebSocket
   * constructor is available.
   */
  constructor(url: string, options: ClientOptions = {}) {
    this.options = resolveClientOptions(url, options);
    this.url = url;
    this.events = new Emitter(
      options.onListenerError === undefined ? {} : { onListenerError: options.onListenerError },
    );
    this.timer = new DeadlineTimer(this.options.clock, (now) => this.onDue(now));
  }

  /** Where the client is in its lifecycle. */
  get state(): ConnectionState {
    return this.stateValue;
  }

  /** What the server said about the current connection; null unless connected. */
  get connection(): ConnectedInfo | null {
    return this.info;
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
   * Open the connection; resolves with the server's `connected` push. While connecting, every call
   * returns the same promise; once connected, it resolves at once. Rejects with ConnectionClosedError
   * when the socket closes first (its `reconnect` says whether trying again makes sense).
   */
  connect(): Promise<ConnectedInfo> {
    if (this.stateValue === 'connected' && this.info !== null) return Promise.resolve(this.info);
    if (this.attempt !== null) return this.attempt.promise;
    let socket: WebSocketLike;
    try {
      socket = new this.options.WebSocket(this.url);
    } catch (error) {
      // The URL was checked in the constructor; what is left (a CSP rule, a blocked port) will not change.
      return Promise.reject(
        new ConnectionClosedError(CloseCode.Abnormal, 'could not create the WebSocket', false, {
          cause: error,
        }),
      );
    }
    let resolve!: (info: ConnectedInfo) => void;
    let reject!: (error: Error) => void;
    const promise = new Promise<ConnectedInfo>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.attempt = { promise, resolve, reject };
    this.socket = socket;
    this.listen(socket);
    this.setState('connecting', TransitionCode.ConnectCalled, 'connect() called');
    return promise;
  }

  /**
   * Close the connection with `code` (default 1000) and `reason`, reject everything pending with
   * ConnectionClosedError, and move to `closed` at once: the close handshake finishes in the background.
   * Idempotent. Throws InvalidArgumentError for a code or reason the WebSocket API would refuse.
   */
  close(code: number = CloseCode.Normal, reason = ''): void {
    if (code !== CloseCode.Normal && (code < 3000 || code > 4999 || !Number.isInteger(code))) {
      // The same rule as WebSocket.close() in browsers: 1000 or an application code.
      throw new InvalidArgumentError(`close code must be 1000 or an integer from 3000 to 4999, got ${code}`);
    }
    if (new TextEncoder().encode(reason).length > MAX_CLOSE_REASON_BYTES) {
      throw new InvalidArgumentError(`close reason must be at most ${MAX_CLOSE_REASON_BYTES} bytes of UTF-8`);
    }
    if (this.stateValue === 'closed') return;
    this.drop('closed', code, reason, true);
  }

  // ---------------------------------------------------------------- commands

  /** Subscribe to `channel`; resolves with its current offset (the last message id, 0 if none). */
  subscribe(channel: string, options: RequestOptions = {}): Promise<SubscribeResult> {
    return this.request({ type: 'subscribe', channel }, options);
  }

  /** Unsubscribe from `channel`. Rejects with `not_subscribed` when the connection was not subscribed. */
  async unsubscribe(channel: string, options: RequestOptions = {}): Promise<void> {
    await this.request({ type: 'unsubscribe', channel }, options);
  }

  /**
   * Publish `data` to `channel` (subscribed or not). Resolves with the message id, which ephemeral
   * messages do not have.
   */
  publish(channel: string, data: Data, options: PublishOptions = {}): Promise<PublishResult> {
    return this.request(
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
   * Send `data` to the server application's `onMessage` hook; resolves with what the hook returned
   * (null for nothing). Rejects with `not_available` when the server has no hook.
   */
  send(data: unknown, options: RequestOptions = {}): Promise<unknown> {
    return this.request({ type: 'send', data }, options);
  }

  /** Ask the server for a reply; resolves with the round-trip time in ms (on the client's clock). */
  async ping(options: RequestOptions = {}): Promise<number> {
    const started = this.options.clock.now();
    await this.request({ type: 'ping' }, options);
    return this.options.clock.now() - started;
  }

  /**
   * Send any command with a fresh `id` and resolve with its reply's `result`. Rejects with ServerError
   * for an error reply, RequestTimeoutError when no reply comes in time, ConnectionClosedError when the
   * connection closes first, and NotConnectedError when the client is not connected.
   */
  request<C extends RequestCommand>(command: C, options: RequestOptions = {}): Promise<ResultOf<C>> {
    if (this.stateValue !== 'connected') return Promise.reject(new NotConnectedError(this.stateValue));
    let timeoutMs = this.options.requestTimeoutMs;
    if (options.timeoutMs !== undefined) {
      try {
        timeoutMs = validateTimeout('timeoutMs', options.timeoutMs);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    const now = this.options.clock.now();
    const { id, result } = this.requests.open(command.type, now, timeoutMs);
    if (this.write({ ...command, id })) this.timer.schedule(now + timeoutMs);
    else this.requests.reject(id, new NotConnectedError(this.stateValue));
    // The reply's shape is the server's promise (docs/protocol.md); it is not checked at run time.
    return result as Promise<ResultOf<C>>;
  }

  /**
   * Send a command without an id: no reply, and a failure arrives as an `error` event. Returns `dropped`
   * when the client is not connected.
   */
  notify(command: NotifyCommand): SendStatus {
    if (this.stateValue !== 'connected') return 'dropped';
    return this.write(command) ? 'sent' : 'dropped';
  }

  // ---------------------------------------------------------------- internals

  private setState(to: ConnectionState, code: number, reason: string): void {
    const from = this.stateValue;
    if (from === to) return;
    if (!canTransition(from, to)) {
      // Unreachable unless this class has a bug; failing loudly beats a state machine quietly gone wrong.
      throw new Error(`Switchboard client bug: no transition from ${from} to ${to}`);
    }
    this.stateValue = to;
    this.events.emit('state', { from, to, code, reason });
  }

  private listen(socket: WebSocketLike): void {
    socket.addEventListener('message', (event) => {
      if (this.socket === socket) this.receive(event.data);
    });
    socket.addEventListener('close', (event) => {
      if (this.socket === socket) this.drop('disconnected', event.code, event.reason, false);
    });
    // The close event that follows every error reports the failure. The listener still matters: `ws` is
    // an EventEmitter, and an 'error' nobody listens to is thrown.
    socket.addEventListener('error', () => {});
  }

  private receive(data: unknown): void {
    const heartbeat = this.heartbeat;
    if (heartbeat !== null) {
      // Any frame proves the server alive, even one this client cannot read. A frame that answers the
      // client's ping brings the next check forward (from the timeout to an interval from now), so
      // the timer may need an earlier deadline; schedule() is a single comparison otherwise.
      heartbeat.received(this.options.clock.now());
      this.timer.schedule(heartbeat.nextCheckAt);
    }
    // Protocol v1 is text only; binary frames are ignored rather than trusted.
    if (typeof data !== 'string') return;
    const frame = decodeServerFrame(data);
    if (frame === null) return;
    switch (frame.type) {
      case 'reply':
        this.requests.settle(frame);
        return;
      case 'message':
        // `Data` is the application's claim about its own payloads; the server does not check it.
        this.events.emit('message', frame as ChannelMessage<Data>);
        return;
      case 'direct':
      case 'broadcast':
        this.events.emit(frame.type, frame);
        return;
      case 'join':
      case 'leave':
        this.events.emit(frame.type, frame);
        return;
      case 'ping':
        this.write({ type: 'pong' });
        return;
      case 'error':
        this.events.emit('error', serverErrorFrom(frame));
        return;
      case 'connected':
        this.connected(frame);
        return;
      default:
        // Unknown push types are ignored: later protocol versions add them (docs/protocol.md).
        return;
    }
  }

  private connected(frame: ConnectedPush): void {
    // Only the first push of a connection counts; a second one would be a server bug.
    if (this.stateValue !== 'connecting') return;
    const announced: unknown = frame.heartbeat;
    const usable = HeartbeatMonitor.usable(announced);
    const info: ConnectedInfo = {
      version: frame.version,
      connectionId: frame.connectionId,
      sessionId: frame.sessionId,
      userId: frame.userId,
      heartbeat: usable ? { interval: announced.interval, timeout: announced.timeout } : NO_HEARTBEAT,
      time: frame.time,
    };
    this.info = info;
    if (usable) {
      this.heartbeat = new HeartbeatMonitor(info.heartbeat, this.options.clock.now());
      this.timer.schedule(this.heartbeat.nextCheckAt);
    }
    this.setState('connected', TransitionCode.Connected, 'connected');
    // A state listener may have closed the client already (drop() cleared `info` and rejected the attempt).
    if (this.info !== info) return;
    const attempt = this.attempt;
    this.attempt = null;
    this.events.emit('connected', info);
    attempt?.resolve(info);
  }

  /** The single timer fired: time out requests, run the heartbeat; returns the next deadline. */
  private onDue(now: number): number {
    let next = this.requests.expire(now);
    const heartbeat = this.heartbeat;
    if (heartbeat !== null) {
      const action = heartbeat.check(now);
      if (action === 'dead') {
        // The close handshake cannot finish with a silent peer, so the client does not wait for it.
        this.drop(
          'disconnected',
          CloseCode.HeartbeatTimeout,
          'no frame from the server within the heartbeat timeout',
          true,
        );
        return Infinity;
      }
      // Nobody waits for this reply: its arrival, like any frame's, is what resets the silence.
      if (action === 'ping') this.write({ type: 'ping', id: this.requests.nextId() });
      next = Math.min(next, heartbeat.nextCheckAt);
    }
    return next;
  }

  /** Write a command; false when there is no socket or it refused the frame. */
  private write(command: ClientCommand): boolean {
    const socket = this.socket;
    if (socket === null) return false;
    try {
      socket.send(encodeCommand(command));
      return true;
    } catch {
      // Sockets throw only when not open, and then their close event is on its way.
      return false;
    }
  }

  /**
   * Leave the current connection: stop listening to its socket (closing it when `closeSocket`), reject
   * what waits on it, change state, and tell listeners.
   */
  private drop(to: 'disconnected' | 'closed', code: number, reason: string, closeSocket: boolean): void {
    const socket = this.socket;
    this.socket = null;
    this.info = null;
    this.heartbeat = null;
    this.timer.cancel();
    if (closeSocket && socket !== null) {
      try {
        socket.close(code, reason);
      } catch {
        // Already closing or closed: nothing left to do.
      }
    }
    const reconnect = to === 'disconnected' && shouldReconnect(code);
    const error = new ConnectionClosedError(code, reason, reconnect);
    const attempt = this.attempt;
    this.attempt = null;
    this.requests.rejectAll(error);
    attempt?.reject(error);
    this.setState(to, code, reason);
    if (to === 'closed') this.events.emit('closed', { code, reason });
    else this.events.emit('disconnected', { code, reason, reconnect });
  }
}
