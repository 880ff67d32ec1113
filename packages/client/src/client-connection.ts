/**
 * The connection half of a client: one WebSocket at a time, the connection state machine, reconnects
 * (reconnector.ts), session resume, the connect timeout, the heartbeat, and requests matched to replies.
 * What the pushes mean (subscriptions, the offline queue, events) is the client's business, reached
 * through {@link ConnectionHooks}.
 *
 * One socket at most: a new one is opened only once the previous one was abandoned, and events of an
 * abandoned socket are ignored. One timer drives request timeouts, the connect timeout and the heartbeat.
 *
 * With a token, every attempt (resumes included) gets one first and presents it (connection-auth.ts);
 * the server's refusal, an error reply and close 4504, stops the client with an `unauthorized` event.
 */
import { BATCH_QUERY_PARAM, CloseCode, retryAfterHint } from '@switchboard/protocol';
import type {
  ClientCommand,
  ConnectedPush,
  HeartbeatSettings,
  RestoredSubscription,
  ServerFrame,
} from '@switchboard/protocol';
import { Backoff } from './backoff.js';
import type { ResolvedClientOptions } from './client-options.js';
import type { TimerHandle } from './clock.js';
import type { ClientEvents, ConnectedInfo } from './client-events.js';
import type { RequestCommand, ResultOf } from './commands.js';
import { TransitionCode, canTransition } from './connection-state.js';
import type { ConnectionState } from './connection-state.js';
import { DeadlineTimer } from './deadline-timer.js';
import type { Endpoints } from './endpoints.js';
import { ConnectionAuth, unauthorizedError } from './connection-auth.js';
import { ConnectionClosedError, NotConnectedError } from './errors.js';
import { letGo } from './close-args.js';
import { HeartbeatMonitor } from './heartbeat-monitor.js';
import { Reconnector } from './reconnector.js';
import { RequestTable } from './request-table.js';
import type { ReplyCallback } from './request-table.js';
import type { WebSocketLike } from './websocket-like.js';
import { TransportPicker } from './transport-picker.js';
import { encodeFor, framesOf, offeredProtocols, socketFormat } from './wire-format.js';

/** The client events a connection emits itself; none of them depends on the payload type. */
export type ConnectionEvents = Pick<
  ClientEvents,
  | 'state'
  | 'connected'
  | 'disconnected'
  | 'reconnecting'
  | 'closed'
  | 'tokenRefreshed'
  | 'tokenError'
  | 'unauthorized'
>;

/** What the client does when the connection changes or a push arrives. */
export interface ConnectionHooks {
  /** Emit one of the connection's events. */
  emit<K extends keyof ConnectionEvents>(event: K, payload: ConnectionEvents[K]): void;
  /** Connected (state `connected`, before the `connected` event); `restored` lists what a resume restored. */
  connected(info: ConnectedInfo, restored: readonly RestoredSubscription[]): void;
  /** The connection or an attempt ended (before any state change); `reason` describes it. */
  lost(reason: string): void;
  /** The client stopped trying on its own (state `disconnected`). */
  stopped(): void;
  /** The application closed the client (before the state change). */
  closed(error: ConnectionClosedError): void;
  /** A push that is not a reply, a ping or `connected`. */
  push(frame: Exclude<ServerFrame, { type: 'reply' | 'ping' | 'connected' }>): void;
}

/** A connect() in progress. */
interface ConnectAttempt {
  readonly promise: Promise<ConnectedInfo>;
  readonly resolve: (info: ConnectedInfo) => void;
  readonly reject: (error: Error) => void;
}

/** How to let go of a socket: it closed already, close it, or drop it at once (a dead peer never answers a close). */
type Abandon = 'closed' | 'close' | 'terminate';

/** What the client knows about why a connection or an attempt ended, besides the close code. */
interface Failure {
  /** The error behind it (the connect() promise rejects with a ConnectionClosedError with this cause). */
  readonly cause?: unknown;
  /** No retry can fix it. */
  readonly final?: boolean;
  /** The token provider failed: reported by a `tokenError` event. */
  readonly tokenError?: Error;
}

/** What a connection whose server announced no usable heartbeat reports; the client then runs none. */
const NO_HEARTBEAT: HeartbeatSettings = { interval: 0, timeout: 0 };

/** One client's socket, state and requests. */
export class ClientConnection {
  private readonly requests = new RequestTable();
  private readonly timer: DeadlineTimer;
  private readonly reconnector: Reconnector;
  private stateValue: ConnectionState = 'disconnected';
  /** The current socket; listeners of any other (abandoned) socket ignore their events. */
  private socket: WebSocketLike | null = null;
  private infoValue: ConnectedInfo | null = null;
  private heartbeat: HeartbeatMonitor | null = null;
  private connectDeadline = Infinity;
  /** The extra event-loop turn before a silent server is given up (see onDue). */
  private grace: TimerHandle | null = null;
  private sessionId: string | null;
  private attempt: ConnectAttempt | null = null;
  private readonly auth: ConnectionAuth;
  /** Which transport each attempt uses (WebSocket, else SSE, else polling). */
  readonly transports: TransportPicker;

  constructor(
    /** The server URLs, tried in turn (endpoints.ts). */
    readonly endpoints: Endpoints,
    private readonly options: ResolvedClientOptions,
    private readonly hooks: ConnectionHooks,
  ) {
    this.sessionId = options.sessionId;
    const upgrade = (): void => this.lose(CloseCode.GoingAway, 'back to websocket', 'close');
    this.transports = new TransportPicker(options, upgrade);
    this.timer = new DeadlineTimer(options.clock, (now) => this.onDue(now));
    this.reconnector = new Reconnector({
      enabled: options.reconnect,
      backoff: new Backoff(options.backoff),
      clock: options.clock,
      network: options.networkEvents,
      retry: () => this.open(),
    });
    this.auth = new ConnectionAuth(options, {
      sendAuth: (token, settle) => {
        const id = this.requests.openWith('auth', options.clock.now(), options.connectTimeoutMs, settle);
        // A refused write means the socket is closing, and its close event reports the attempt.
        this.write({ type: 'auth', id, token });
      },
      sendRefresh: (token) => this.request({ type: 'refresh', token }, options.requestTimeoutMs),
      isConnected: () => this.stateValue === 'connected',
      tokenRefreshed: (event) => this.hooks.emit('tokenRefreshed', event),
      tokenError: (event) => this.hooks.emit('tokenError', event),
    });
  }

  /** Where the connection is in its lifecycle. */
  get state(): ConnectionState {
    return this.stateValue;
  }

  /** The current connection's `connected` push; null unless connected. */
  get info(): ConnectedInfo | null {
    return this.infoValue;
  }

  /** See {@link SwitchboardClient.connect}. */
  connect(): Promise<ConnectedInfo> {
    if (this.stateValue === 'connected' && this.infoValue !== null) return Promise.resolve(this.infoValue);
    const attempt = (this.attempt ??= deferred());
    if (this.stateValue === 'disconnected' || this.stateValue === 'closed') {
      this.reconnector.start();
      this.setState('connecting', TransitionCode.ConnectCalled, 'connect() called');
      this.open();
    }
    return attempt.promise;
  }

  /** See {@link SwitchboardClient.close}; the caller has validated `code` and `reason`. */
  close(code: number, reason: string): void {
    if (this.stateValue === 'closed') return;
    this.reconnector.stop();
    this.abandon('close', code, reason);
    const error = new ConnectionClosedError(code, reason, false);
    const attempt = this.attempt;
    this.attempt = null;
    this.requests.rejectAll(error);
    attempt?.reject(error);
    this.hooks.closed(error);
    this.setState('closed', code, reason);
    this.hooks.emit('closed', { code, reason });
  }

  /** Give up on the current connection and reconnect (a reply that should have come did not). */
  replace(reason: string): void {
    if (this.stateValue === 'connected') this.lose(CloseCode.HeartbeatTimeout, reason, 'close');
  }

  /** Send `command` with a fresh id; settles with its reply (see {@link SwitchboardClient.request}). */
  request<C extends RequestCommand>(command: C, timeoutMs: number): Promise<ResultOf<C>> {
    return new Promise((resolve, reject) => {
      // The reply's shape is the server's promise (docs/protocol.md); it is not checked at run time.
      this.requestWith(command, timeoutMs, (error, result) =>
        error === null ? resolve(result as ResultOf<C>) : reject(error),
      );
    });
  }

  /**
   * Send `command` with a fresh id; `settle` hears the outcome synchronously, while the reply frame is
   * handled (before the frames after it), or at once with NotConnectedError when not connected.
   */
  requestWith(command: RequestCommand, timeoutMs: number, settle: ReplyCallback): void {
    if (this.stateValue !== 'connected') {
      settle(new NotConnectedError(this.stateValue));
      return;
    }
    const now = this.options.clock.now();
    const id = this.requests.openWith(command.type, now, timeoutMs, settle);
    if (this.write({ ...command, id })) this.timer.schedule(now + timeoutMs);
    else this.requests.reject(id, new NotConnectedError(this.stateValue));
  }

  /** Write a command; false when there is no socket or it refused the frame. */
  write(command: ClientCommand): boolean {
    const socket = this.socket;
    if (socket === null) return false;
    try {
      socket.send(encodeFor(socket, command));
      return true;
    } catch {
      // Sockets throw only when not open, and then their close event is on its way.
      return false;
    }
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
    this.hooks.emit('state', { from, to, code, reason });
  }

  /**
   * Start an attempt (get a token, then open a socket), unless one is under way or the client stopped
   * wanting one. The connect timeout starts now: a provider that never answers fails the attempt too.
   */
  private open(): void {
    if (this.stateValue !== 'connecting' || this.socket !== null || this.auth.fetchingToken) return;
    this.connectDeadline = this.options.clock.now() + this.options.connectTimeoutMs;
    this.timer.schedule(this.connectDeadline);
    this.auth.fetch(
      (token) => this.openSocket(token),
      // 1006, as for a socket that never opened: the attempt failed, and the backoff decides what next.
      (error) => this.lose(CloseCode.Abnormal, error.message, 'closed', { cause: error, tokenError: error }),
    );
  }

  /** Open the attempt's socket, presenting `token` (null: no credentials). */
  private openSocket(token: string | null): void {
    let socket: WebSocketLike;
    try {
      const url = this.connectUrl();
      const protocols = offeredProtocols(this.options.format, this.auth.protocols(token));
      socket = this.transports.open(url, protocols, this.options.clock.now());
    } catch (error) {
      // The URL was checked in the constructor; what is left (a CSP rule, a blocked port) will not change.
      this.lose(CloseCode.Abnormal, 'could not create the WebSocket', 'closed', {
        cause: error,
        final: true,
      });
      return;
    }
    this.socket = socket;
    this.listen(socket);
    this.auth.present(socket, token, () => this.socket === socket);
  }

  /**
   * The URL of the next attempt: the endpoint, plus `batch=1` (this client reads batched frames: several
   * per WebSocket message, see `receive`) and `session=` to resume the last session.
   */
  private connectUrl(): string {
    const url = new URL(this.endpoints.current);
    url.searchParams.set(BATCH_QUERY_PARAM, '1');
    if (this.options.resume && this.sessionId !== null) url.searchParams.set('session', this.sessionId);
    return url.toString();
  }

  private listen(socket: WebSocketLike): void {
    socket.addEventListener('message', (event) => {
      if (this.socket === socket) this.receive(socket, event.data);
    });
    socket.addEventListener('close', (event) => {
      if (this.socket === socket) this.lose(event.code, event.reason, 'closed');
    });
    // The close event that follows every error reports the failure. The listener still matters: `ws` is
    // an EventEmitter, and an 'error' nobody listens to is thrown.
    socket.addEventListener('error', () => {});
  }

  /** One WebSocket message: one frame, or several (batched frames; see wire-format.ts). */
  private receive(socket: WebSocketLike, data: unknown): void {
    const heartbeat = this.heartbeat;
    if (heartbeat !== null) {
      // Any frame proves the server alive, even one this client cannot read. A frame that answers the
      // client's ping brings the next check forward, so the timer may need an earlier deadline.
      heartbeat.received(this.options.clock.now());
      this.timer.schedule(heartbeat.nextCheckAt);
    }
    for (const frame of framesOf(data)) {
      // A frame's handler may have closed or replaced the socket: the rest of the batch is not for us.
      if (this.socket !== socket) return;
      this.receiveFrame(frame);
    }
  }

  private receiveFrame(frame: ServerFrame): void {
    if (frame.type === 'reply') this.requests.settle(frame);
    else if (frame.type === 'ping') {
      // Not while `auth` is being checked: the server takes any frame but `auth` before it is done as a
      // refusal to authenticate (4504), and an unanswered ping costs nothing.
      if (!this.auth.awaitingReply) this.write({ type: 'pong' });
    } else if (frame.type === 'connected') this.connected(frame);
    else this.hooks.push(frame);
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
      resumed: frame.resumed === true,
      format: this.socket === null ? 'json' : socketFormat(this.socket),
    };
    const now = this.options.clock.now();
    this.infoValue = info;
    this.sessionId = info.sessionId;
    this.connectDeadline = Infinity;
    this.auth.connected(frame.time);
    this.reconnector.connected(now);
    this.transports.connected();
    if (usable) {
      this.heartbeat = new HeartbeatMonitor(info.heartbeat, now);
      this.timer.schedule(this.heartbeat.nextCheckAt);
    }
    this.setState(
      'connected',
      TransitionCode.Connected,
      info.resumed ? 'connected; session resumed' : 'connected',
    );
    // A state listener may have closed the client already (which cleared `info` and rejected the attempt).
    if (this.infoValue !== info) return;
    this.hooks.connected(info, frame.subscriptions ?? []);
    if (this.infoValue !== info) return;
    const attempt = this.attempt;
    this.attempt = null;
    this.hooks.emit('connected', info);
    attempt?.resolve(info);
  }

  /** The single timer fired: time out requests and the connect attempt, run the heartbeat; returns the next deadline. */
  private onDue(now: number): number {
    let next = this.requests.expire(now);
    if (this.stateValue === 'connecting' && (this.socket !== null || this.auth.fetchingToken)) {
      if (now >= this.connectDeadline) {
        const reason =
          this.socket === null
            ? `no token from the token provider within ${this.options.connectTimeoutMs} ms`
            : `no connected push within ${this.options.connectTimeoutMs} ms`;
        this.lose(CloseCode.Abnormal, reason, 'terminate');
        return Infinity;
      }
      next = Math.min(next, this.connectDeadline);
    }
    const heartbeat = this.heartbeat;
    if (heartbeat !== null) {
      const action = heartbeat.check(now);
      if (action === 'dead') {
        // Not yet: after a stalled event loop (a laptop waking up, a long task) timers run before the
        // socket's queued frames are read, so the silence may be ours. One more turn of the event loop
        // lets them in first (centrifuge-js#423 fixed the same false alarm).
        this.grace ??= this.options.clock.setTimeout(() => this.graceOver(heartbeat), 0);
        return next;
      }
      // Nobody waits for this reply: its arrival, like any frame's, is what resets the silence.
      if (action === 'ping') this.write({ type: 'ping', id: this.requests.nextId() });
      next = Math.min(next, heartbeat.nextCheckAt);
    }
    return next;
  }

  /** The heartbeat's last turn of the event loop is over: still silent means dead. */
  private graceOver(heartbeat: HeartbeatMonitor): void {
    this.grace = null;
    if (this.heartbeat !== heartbeat) return;
    const now = this.options.clock.now();
    if (heartbeat.check(now) !== 'dead') {
      this.timer.schedule(heartbeat.nextCheckAt);
      return;
    }
    // The close handshake cannot finish with a silent peer, so the client does not wait for it.
    this.lose(
      CloseCode.HeartbeatTimeout,
      'no frame from the server within the heartbeat timeout',
      'terminate',
    );
  }

  /**
   * The connection, or an attempt, ended without `close()`: let go of the socket, fail what waited on
   * it, and either schedule the next attempt or stop trying.
   */
  private lose(code: number, reason: string, how: Abandon, failure: Failure = {}): void {
    const wasConnected = this.stateValue === 'connected';
    // The reply to `auth` that explains this close (4504); abandon() forgets it.
    const refusal = this.auth.refusal;
    this.abandon(how, code, reason);
    // A failed attempt moves on to the next URL; a lost connection retries its own, unless its node drains.
    this.transports.lost(wasConnected, code, this.options.clock.now());
    const hintMs = code === CloseCode.ServiceRestart ? retryAfterHint(reason) : null;
    if (!wasConnected || hintMs !== null) this.endpoints.attemptFailed();
    // The session belongs to whoever replaced us now: a later connect() must not take it back, or two
    // tabs would keep replacing each other.
    if (code === CloseCode.Replaced) this.sessionId = null;
    const verdict =
      failure.final === true
        ? { retry: false as const }
        : this.reconnector.lost(code, this.options.clock.now(), hintMs);
    const cause = failure.cause ?? refusal ?? undefined;
    const error = new ConnectionClosedError(
      code,
      reason,
      verdict.retry,
      cause === undefined ? {} : { cause },
    );
    this.requests.rejectAll(error);
    this.hooks.lost(`connection lost (${code}${reason === '' ? '' : `: ${reason}`})`);
    if (failure.tokenError !== undefined) {
      this.hooks.emit('tokenError', { error: failure.tokenError, during: 'connect', retry: verdict.retry });
    }
    // Listeners run above and below may close the client; what they did wins.
    if (this.stateValue === 'closed') return;
    if (verdict.retry) {
      if (wasConnected) this.setState('connecting', code, reason);
      if (this.stateValue !== 'connecting') return;
      this.hooks.emit('disconnected', { code, reason, reconnect: true });
      if (this.reconnector.pending) {
        this.hooks.emit('reconnecting', { attempt: verdict.attempt, delayMs: verdict.delayMs });
      }
      return;
    }
    this.reconnector.stop();
    const attempt = this.attempt;
    this.attempt = null;
    attempt?.reject(error);
    this.setState('disconnected', code, reason);
    if (this.stateValue !== 'disconnected') return;
    this.hooks.stopped();
    if (code === CloseCode.Unauthorized) {
      // Before `disconnected`, so that an application that gets a new token and calls connect() here
      // is not told afterwards that the client stopped.
      this.hooks.emit('unauthorized', { code, reason, error: unauthorizedError(refusal, reason) });
      if (this.stateValue !== 'disconnected') return;
    }
    this.hooks.emit('disconnected', { code, reason, reconnect: false });
  }

  /** Forget the current socket (letting go of it as `how` says) and everything tied to it. */
  private abandon(how: Abandon, code: number, reason: string): void {
    const socket = this.socket;
    this.socket = null;
    this.infoValue = null;
    this.heartbeat = null;
    this.connectDeadline = Infinity;
    this.auth.reset();
    this.transports.stop();
    this.timer.cancel();
    this.grace?.cancel();
    this.grace = null;
    if (socket !== null && how !== 'closed') letGo(socket, how === 'terminate', code, reason);
  }
}

function deferred(): ConnectAttempt {
  let resolve!: (info: ConnectedInfo) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<ConnectedInfo>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
