/**
 * The "one socket at a time" rule of a {@link ReconnectingWebSocket}. A socket it gives up on (no pong,
 * no open in time) is closed and tracked here until its close event, and the next attempt waits for
 * that: otherwise a server that is alive but slow would see the client twice, once on the old
 * connection it has not noticed dying and once on the new one.
 *
 * The wait is bounded. A dead peer never answers the close handshake, so after `graceMs` a `ws` socket
 * is terminated (its TCP socket destroyed) and the wait ends; browsers have no such call, so there the
 * old socket may linger until the browser gives up on it, while the new one goes ahead.
 */
import type { Clock, TimerHandle } from './clock.js';
import type { ExternalWebSocket } from './reconnecting-websocket-options.js';

interface Retiree {
  readonly socket: ExternalWebSocket;
  readonly timer: TimerHandle;
  readonly waiters: (() => void)[];
}

/** Tracks the socket being closed, if any, until it confirms. */
export class SocketRetirement {
  private current: Retiree | null = null;

  constructor(
    private readonly clock: Clock,
    private readonly graceMs: number,
  ) {}

  /**
   * Close `socket` with `code` and `reason` (without, when `code` is undefined: a socket still
   * connecting takes none, closing it just fails the handshake) and track it until {@link closed}.
   */
  retire(socket: ExternalWebSocket, code: number | undefined, reason: string): void {
    try {
      if (code === undefined) socket.close();
      else socket.close(code, reason);
    } catch {
      // Already closing.
    }
    // Unreachable while the owner waits for settled() before opening, but one retiree at most is tracked.
    const previous = this.current;
    if (previous !== null) {
      previous.socket.terminate?.();
      this.settle(previous);
    }
    const timer = this.clock.setTimeout(() => {
      const retiree = this.current;
      if (retiree?.socket !== socket) return;
      socket.terminate?.();
      this.settle(retiree);
    }, this.graceMs);
    this.current = { socket, timer, waiters: [] };
  }

  /** `socket` fired its close event. */
  closed(socket: ExternalWebSocket): void {
    const retiree = this.current;
    if (retiree?.socket === socket) this.settle(retiree);
  }

  /**
   * Resolves once no retired socket is pending. Always asynchronous, so a caller in a constructor fires
   * nothing before its caller could add listeners.
   */
  settled(): Promise<void> {
    const retiree = this.current;
    if (retiree === null) return Promise.resolve();
    return new Promise((resolve) => retiree.waiters.push(resolve));
  }

  private settle(retiree: Retiree): void {
    if (this.current === retiree) this.current = null;
    retiree.timer.cancel();
    for (const resolve of retiree.waiters.splice(0)) resolve();
  }
}
