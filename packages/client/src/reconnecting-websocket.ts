/**
 * A WebSocket that stays connected: a generic client for external services (for Switchboard itself,
 * use SwitchboardClient). It reconnects with full-jitter backoff, queues what is sent while offline,
 * can fetch a fresh URL (token) before every attempt, measures latency with the service's own ping, and
 * hands out messages as events or through `for await`.
 *
 * Two rules keep it predictable. At most one socket is alive at a time: a socket this class gives up on
 * (pong or connect timeout) is closed, and the next attempt waits for its close event, so a server never
 * sees the same client twice. And every listener on a socket checks that the socket is still the current
 * one, so a late event from an abandoned socket changes nothing.
 */
import { Backoff } from './backoff.js';
import type { TimerHandle } from './clock.js';
import { TransitionCode } from './connection-state.js';
import { Emitter } from './emitter.js';
import type { Listener } from './emitter.js';
import { InvalidArgumentError, InvalidOptionError } from './errors.js';
import { checkCloseArgs } from './close-args.js';
import { canReconnectingTransition } from './reconnecting-websocket-events.js';
import type {
  IteratedMessage,
  OutgoingData,
  ReconnectingState,
  ReconnectingWebSocketEvents,
  SendResult,
} from './reconnecting-websocket-events.js';
import { copyBytes, errorOf, isOutgoingData, toIncoming } from './reconnecting-websocket-data.js';
import { MessageInbox } from './reconnecting-websocket-inbox.js';
import {
  checkUrl,
  createSocket,
  defaultShouldReconnect,
  resolveReconnectingOptions,
} from './reconnecting-websocket-options.js';
import type {
  ExternalWebSocket,
  ReconnectingWebSocketOptions,
  ResolvedReconnectingOptions,
  UrlSource,
} from './reconnecting-websocket-options.js';
import { Pinger } from './reconnecting-websocket-pinger.js';
import { SocketRetirement } from './reconnecting-websocket-retirement.js';
import { SendQueue } from './send-queue.js';

/** `readyState` of an open socket, the same in browsers and `ws`. */
const OPEN = 1;

/** Close code of a connection that failed or dropped without a close frame (RFC 6455, 7.1.5). */
const ABNORMAL = 1006;

/** Close code sent when no pong arrived in time: Switchboard's "heartbeat timeout", a retryable code. */
const PONG_TIMEOUT = 4000;

/**
 * How long (ms) a socket this class closed may take to confirm it before the next attempt goes ahead
 * anyway. Then `ws` sockets are terminated; browsers offer no such thing, so there a dead peer's socket
 * may linger until the browser gives up on it.
 */
const RETIRE_GRACE_MS = 1000;

/**
 * A reconnecting WebSocket.
 *
 * ```ts
 * const rws = new ReconnectingWebSocket(async () => `wss://feed.example.com/?token=${await getToken()}`, {
 *   ping: { message: () => '{"op":"ping"}', isPong: (m) => m.data === '{"op":"pong"}' },
 * });
 * rws.sendJson({ op: 'subscribe', topic: 'prices' }); // 'queued' until the first socket opens
 * for await (const { data } of rws) console.log(data);
 * ```
 */
export class ReconnectingWebSocket implements AsyncIterable<IteratedMessage> {
  private readonly options: ResolvedReconnectingOptions;
  private readonly events: Emitter<ReconnectingWebSocketEvents>;
  private readonly reportError: (error: unknown, event: PropertyKey) => void;
  private readonly backoff: Backoff;
  private readonly queue: SendQueue<OutgoingData>;
  private readonly inboxes = new Set<MessageInbox>();
  private stateValue: ReconnectingState = 'connecting';
  /** The current socket (opening or open); listeners of any other socket ignore their events. */
  private socket: ExternalWebSocket | null = null;
  /** What the current socket's `error` event said, to hand on with its close. */
  private socketError: unknown = undefined;
  /** The current socket's connect timeout, until it opens. */
  private connectTimer: TimerHandle | null = null;
  /** The current socket's pings, once it is open (with the `ping` option). */
  private pinger: Pinger | null = null;
  private latency: number | null = null;
  /** The wait before the next attempt. */
  private retryTimer: TimerHandle | null = null;
  /** Bumped by every attempt and by the final close, so a stale async step (a URL provider) stops. */
  private generation = 0;
  /** A socket this class gave up on and that has not confirmed its close; the next one waits for it. */
  private readonly retirement: SocketRetirement;

  /**
   * Connect to `url` (a ws: or wss: URL, or an async function returning one before every attempt). The
   * first attempt starts at once, asynchronously, so listeners added right after construction hear
   * everything. Throws {@link InvalidOptionError} for an invalid URL or option.
   */
  constructor(url: UrlSource, options: ReconnectingWebSocketOptions = {}) {
    this.options = resolveReconnectingOptions(url, options);
    this.reportError = options.onListenerError ?? rethrowLater;
    this.events = new Emitter({ onListenerError: this.reportError });
    this.retirement = new SocketRetirement(this.options.clock, RETIRE_GRACE_MS);
    this.backoff = nested('backoff', () => new Backoff(options.backoff));
    this.queue = nested(
      'queue',
      () =>
        new SendQueue<OutgoingData>({
          ...options.queue,
          onDrop: (messages) => this.events.emit('dropped', { messages }),
        }),
    );
    this.connect();
  }

  /** Where the socket is in its lifecycle. */
  get state(): ReconnectingState {
    return this.stateValue;
  }

  /** The last round trip of ping and pong (ms) on the current connection; null before the first. */
  get latencyMs(): number | null {
    return this.latency;
  }

  /** The subprotocol the server chose for the current socket; '' when none or not open. */
  get protocol(): string {
    return this.stateValue === 'open' ? (this.socket?.protocol ?? '') : '';
  }

  /** How many messages wait in the send queue. */
  get queued(): number {
    return this.queue.size;
  }

  // ---------------------------------------------------------------- events

  /** Call `listener` on every `event`; returns a function that removes it. */
  on<K extends keyof ReconnectingWebSocketEvents>(
    event: K,
    listener: Listener<ReconnectingWebSocketEvents[K]>,
  ): () => void {
    return this.events.on(event, listener);
  }

  /** Call `listener` on the next `event` only; returns a function that removes it. */
  once<K extends keyof ReconnectingWebSocketEvents>(
    event: K,
    listener: Listener<ReconnectingWebSocketEvents[K]>,
  ): () => void {
    return this.events.once(event, listener);
  }

  /** Remove `listener` from `event`. */
  off<K extends keyof ReconnectingWebSocketEvents>(
    event: K,
    listener: Listener<ReconnectingWebSocketEvents[K]>,
  ): void {
    this.events.off(event, listener);
  }

  /**
   * The messages that arrive from now on, until the socket closes for good (then the buffered ones are
   * handed out and the loop ends). Each iterator has its own buffer of `iteratorBufferSize` messages.
   */
  [Symbol.asyncIterator](): MessageInbox {
    const inbox = new MessageInbox(this.options.iteratorBufferSize, (i) => this.inboxes.delete(i));
    if (this.stateValue === 'closed') inbox.end();
    else this.inboxes.add(inbox);
    return inbox;
  }

  // ---------------------------------------------------------------- sending

  /**
   * Send text or binary data: `sent` when written to the open socket, `queued` when held for the next
   * one (binary data is copied), `dropped` when closed for good or refused by a full queue (an evicted
   * older message is reported by the `dropped` event instead). Delivery is at most once: a message
   * written into a connection that then dies is lost. Throws InvalidArgumentError for other types.
   */
  send(data: OutgoingData): SendResult {
    if (!isOutgoingData(data)) {
      throw new InvalidArgumentError('send() takes a string, an ArrayBuffer or an ArrayBufferView');
    }
    if (this.stateValue === 'closed') return 'dropped';
    const socket = this.socket;
    // A closing socket accepts and silently discards data (browsers and ws alike); queueing it instead
    // lets it go out on the next connection.
    if (this.stateValue === 'open' && socket !== null && socket.readyState === OPEN && write(socket, data)) {
      return 'sent';
    }
    return this.queue.push(typeof data === 'string' ? data : copyBytes(data), this.options.clock.now());
  }

  /** Send `JSON.stringify(value)` as text. Throws InvalidArgumentError when it is not serializable. */
  sendJson(value: unknown): SendResult {
    let text: string | undefined;
    try {
      text = JSON.stringify(value);
    } catch (error) {
      throw new InvalidArgumentError(`sendJson() needs a JSON-serializable value: ${String(error)}`);
    }
    if (text === undefined) {
      throw new InvalidArgumentError(`sendJson() needs a JSON-serializable value, got ${typeof value}`);
    }
    return this.send(text);
  }

  // ---------------------------------------------------------------- lifecycle

  /**
   * Close for good with `code` (default 1000) and `reason`: no more attempts, iteration ends, queued
   * messages are reported as dropped (`cleared`). The state is `closed` at once; the close handshake
   * finishes in the background. Idempotent. Throws InvalidArgumentError for a code or reason the
   * WebSocket API would refuse.
   */
  close(code = 1000, reason = ''): void {
    checkCloseArgs(code, reason);
    if (this.stateValue === 'closed') return;
    const socket = this.socket;
    this.detach();
    if (socket !== null) {
      try {
        socket.close(code, reason);
      } catch {
        // Already closing: nothing left to do.
      }
      this.events.emit('close', { code, reason, reconnect: false, cause: undefined });
      if (this.isClosed()) return;
    }
    this.shutdown(code, reason);
  }

  // ---------------------------------------------------------------- attempts

  private connect(): void {
    const generation = ++this.generation;
    void this.attempt(generation);
  }

  /** One attempt: wait for a retiring socket, get the URL, create the socket. Never rejects. */
  private async attempt(generation: number): Promise<void> {
    await this.retirement.settled();
    if (generation !== this.generation) return;
    const source = this.options.url;
    let url: string;
    if (typeof source === 'string') url = source;
    else {
      let provided: unknown;
      try {
        provided = await source();
      } catch (error) {
        if (generation === this.generation) this.lost(ABNORMAL, 'the URL provider failed', error);
        return;
      }
      if (generation !== this.generation) return;
      try {
        url = checkUrl(provided);
      } catch (error) {
        this.lost(ABNORMAL, 'the URL provider returned an invalid URL', error);
        return;
      }
    }
    let socket: ExternalWebSocket;
    try {
      socket = createSocket(this.options, url);
    } catch (error) {
      this.lost(ABNORMAL, 'could not create the WebSocket', error);
      return;
    }
    this.socket = socket;
    this.socketError = undefined;
    this.listen(socket);
    const timeoutMs = this.options.connectTimeoutMs;
    this.connectTimer = this.options.clock.setTimeout(() => {
      if (this.socket === socket) this.abandon(socket, ABNORMAL, `not open within ${timeoutMs} ms`);
    }, timeoutMs);
  }

  private listen(socket: ExternalWebSocket): void {
    socket.addEventListener('open', () => {
      if (this.socket === socket) this.opened(socket);
    });
    socket.addEventListener('message', (event) => {
      if (this.socket === socket) this.received(event.data);
    });
    // ws throws an 'error' nobody listens to, so this listener stays even after the socket is abandoned.
    socket.addEventListener('error', (event) => {
      if (this.socket === socket) this.socketError = errorOf(event);
    });
    socket.addEventListener('close', (event) => {
      this.retirement.closed(socket);
      if (this.socket !== socket) return;
      const cause = this.socketError;
      this.detach();
      this.lost(event.code, event.reason, cause);
    });
  }

  private opened(socket: ExternalWebSocket): void {
    this.connectTimer?.cancel();
    this.connectTimer = null;
    const now = this.options.clock.now();
    this.backoff.connected(now);
    this.latency = null;
    // Queued messages go out before any listener hears of the open, so what it sends comes after them.
    // A listener of `dropped` (expired messages) may close this instance meanwhile: check every turn.
    while (this.socket === socket) {
      const data = this.queue.shift(now);
      if (data === undefined) break;
      write(socket, data);
    }
    if (this.socket !== socket) return;
    const ping = this.options.ping;
    if (ping !== undefined) {
      this.pinger = new Pinger(ping, this.options.clock, {
        send: (data) => write(socket, data),
        latency: (latencyMs) => {
          this.latency = latencyMs;
          this.events.emit('latency', { latencyMs });
        },
        dead: (reason) => {
          if (this.socket === socket) this.abandon(socket, PONG_TIMEOUT, reason);
        },
        error: this.reportError,
      });
      this.pinger.start();
    }
    this.setState('open', TransitionCode.Connected, 'open');
    if (this.socket === socket) this.events.emit('open', { protocol: socket.protocol });
  }

  private received(raw: unknown): void {
    const message = toIncoming(raw);
    // A Blob means the socket ignored binaryType; it cannot be read synchronously, so it is dropped.
    if (message === null) return;
    if (this.pinger?.received(message) === true) return;
    this.events.emit('message', message);
    for (const inbox of this.inboxes) inbox.push(message);
  }

  // ---------------------------------------------------------------- losing a connection

  /** Give up on the current socket (it timed out): close it, then handle the loss. */
  private abandon(socket: ExternalWebSocket, code: number, reason: string): void {
    const wasOpen = socket.readyState === OPEN;
    this.detach();
    this.retirement.retire(socket, wasOpen ? code : undefined, reason);
    this.lost(code, reason, undefined);
  }

  /** Stop listening to the current socket and its timers; the socket itself is left as it is. */
  private detach(): void {
    this.socket = null;
    this.socketError = undefined;
    this.connectTimer?.cancel();
    this.connectTimer = null;
    this.pinger?.stop();
    this.pinger = null;
  }

  /** The current socket or attempt ended: schedule the next attempt, or close for good. */
  private lost(code: number, reason: string, cause: unknown): void {
    this.backoff.disconnected(this.options.clock.now());
    const reconnect = this.call(
      'shouldReconnect',
      () => this.options.shouldReconnect({ code, reason }),
      null,
    );
    const verdict = reconnect === null ? defaultShouldReconnect({ code }) : reconnect === true;
    const delayMs = verdict ? this.backoff.next() : null;
    if (delayMs === null) {
      this.events.emit('close', { code, reason, reconnect: false, cause });
      // A listener may have closed this instance already.
      if (this.isClosed()) return;
      this.shutdown(code, verdict ? `gave up after ${this.backoff.attempt} attempts: ${reason}` : reason);
      return;
    }
    // Armed before any listener runs, so a listener's close() finds it and cancels it.
    this.retryTimer = this.options.clock.setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, delayMs);
    this.events.emit('close', { code, reason, reconnect: true, cause });
    if (this.isClosed()) return;
    this.setState('reconnecting', code, reason);
    if (this.isClosed()) return;
    this.events.emit('retry', { attempt: this.backoff.attempt, delayMs });
  }

  /** The end: cancel everything, end iteration, report what was still queued. */
  private shutdown(code: number, reason: string): void {
    this.generation += 1;
    this.detach();
    this.retryTimer?.cancel();
    this.retryTimer = null;
    // A retiring socket keeps its grace timer, so a `ws` socket whose peer is dead still gets terminated.
    const discarded = this.queue.clear();
    const inboxes = [...this.inboxes];
    this.inboxes.clear();
    for (const inbox of inboxes) inbox.end();
    this.setState('closed', code, reason);
    if (discarded.length > 0) this.events.emit('dropped', { messages: discarded });
  }

  private setState(to: ReconnectingState, code: number, reason: string): void {
    const from = this.stateValue;
    if (from === to) return;
    if (!canReconnectingTransition(from, to)) {
      // Unreachable unless this class has a bug; failing loudly beats a state machine quietly gone wrong.
      throw new Error(`ReconnectingWebSocket bug: no transition from ${from} to ${to}`);
    }
    this.stateValue = to;
    this.events.emit('state', { from, to, code, reason });
  }

  /** Whether the instance is closed; a method, so checks after a listener ran are not narrowed away. */
  private isClosed(): boolean {
    return this.stateValue === 'closed';
  }

  /** Run a callback option; when it throws, report the error and use `fallback`. */
  private call<T, F>(name: string, fn: () => T, fallback: F): T | F {
    try {
      return fn();
    } catch (error) {
      this.reportError(error, name);
      return fallback;
    }
  }
}

/** Write to a socket; false when it threw (only a socket that is not open does). */
function write(socket: ExternalWebSocket, data: OutgoingData): boolean {
  try {
    socket.send(data);
    return true;
  } catch {
    return false;
  }
}

/** Build a sub-component, naming its option errors after the option that holds them (`backoff.factor`). */
function nested<T>(prefix: string, build: () => T): T {
  try {
    return build();
  } catch (error) {
    if (error instanceof InvalidOptionError) {
      throw new InvalidOptionError(`${prefix}.${error.option}`, error.value, error.expected);
    }
    throw error;
  }
}

function rethrowLater(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}
