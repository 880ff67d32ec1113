/**
 * Application-level ping/pong on one socket of a {@link ReconnectingWebSocket}. Browsers cannot send
 * WebSocket ping frames nor see pongs, so latency and liveness need the service's own ping message.
 *
 * One ping is outstanding at a time: a ping goes out `intervalMs` after the socket opened, the pong's
 * arrival measures the round trip, and the next ping goes out `intervalMs` after the previous one was
 * sent. No pong within `timeoutMs` means the connection is dead (a half-open TCP connection delivers
 * nothing and reports nothing, sometimes for hours).
 */
import type { Clock, TimerHandle } from './clock.js';
import { InvalidArgumentError } from './errors.js';
import { isOutgoingData } from './reconnecting-websocket-data.js';
import type { ReceivedMessage, OutgoingData } from './reconnecting-websocket-events.js';
import type { PingOptions } from './reconnecting-websocket-options.js';

/** What a {@link Pinger} needs from its socket's owner. */
export interface PingerHooks {
  /** Write a ping; false when the socket refused it (it is closing, and its close event follows). */
  send(data: OutgoingData): boolean;
  /** A pong answered; `latencyMs` is the round trip. */
  latency(latencyMs: number): void;
  /** No pong within the timeout; the connection should be given up. */
  dead(reason: string): void;
  /** A callback option threw (or returned something unusable); `name` says which. */
  error(error: unknown, name: string): void;
}

/** The pings of one open socket. */
export class Pinger {
  private timer: TimerHandle | null = null;
  private sentAt: number | null = null;
  private stopped = false;

  constructor(
    private readonly options: Required<PingOptions>,
    private readonly clock: Clock,
    private readonly hooks: PingerHooks,
  ) {}

  /** The socket opened: the first ping goes out after one interval. */
  start(): void {
    this.schedule(this.options.intervalMs);
  }

  /** Whether `message` is a pong, which the caller then keeps from its listeners. */
  received(message: ReceivedMessage): boolean {
    let pong = false;
    try {
      pong = this.options.isPong(message) === true;
    } catch (error) {
      this.hooks.error(error, 'ping.isPong');
    }
    if (!pong) return false;
    const sentAt = this.sentAt;
    // An unsolicited pong (some services send them on their own) measures nothing.
    if (sentAt === null || this.stopped) return true;
    this.sentAt = null;
    this.timer?.cancel();
    const now = this.clock.now();
    this.schedule(Math.max(0, sentAt + this.options.intervalMs - now));
    this.hooks.latency(now - sentAt);
    return true;
  }

  /** The socket is gone: no more pings or deadlines. Idempotent. */
  stop(): void {
    this.stopped = true;
    this.sentAt = null;
    this.timer?.cancel();
    this.timer = null;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimeout(() => this.ping(), delayMs);
  }

  private ping(): void {
    let data: unknown;
    try {
      data = this.options.message();
    } catch (error) {
      this.hooks.error(error, 'ping.message');
      this.schedule(this.options.intervalMs);
      return;
    }
    if (!isOutgoingData(data)) {
      this.hooks.error(
        new InvalidArgumentError('ping.message() must return a string, an ArrayBuffer or an ArrayBufferView'),
        'ping.message',
      );
      this.schedule(this.options.intervalMs);
      return;
    }
    if (!this.hooks.send(data)) return;
    this.sentAt = this.clock.now();
    const timeoutMs = this.options.timeoutMs;
    this.timer = this.clock.setTimeout(() => {
      if (!this.stopped) this.hooks.dead(`no pong within ${timeoutMs} ms`);
    }, timeoutMs);
  }
}
