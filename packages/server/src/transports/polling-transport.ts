/**
 * The long-polling transport: protocol v1 frames wait in a queue until a poll (`GET
 * /v1/poll/:connection?cursor=N`) takes them. Each frame has a sequence number; a poll's cursor is the
 * last one its client received, so a frame leaves the queue only once a later poll acknowledged it, and a
 * poll lost on the way (a proxy timeout, a dropped response) loses nothing: the next poll asks again.
 * The unacknowledged frames are the connection's outbound buffer, bounded by the hub's write policy like
 * a WebSocket's (the slow-consumer close). docs/protocol.md#http-transports.
 */
import type { ConnectionHandle, PreparedFrame, TransportSocket } from './transport.js';

/** The code reported when the client stopped polling (no close handshake: as for a vanished WebSocket peer). */
export const POLL_ABANDONED = 1006;

/** What a poll is answered with: the frames after its cursor, and the close once every frame was taken. */
export interface PollAnswer {
  /** The sequence number of the last frame in `frames` (the cursor of the next poll). */
  readonly cursor: number;
  /** The frames' texts, in order. */
  readonly frames: readonly Buffer[];
  /** Present when the connection ended: nothing follows. */
  readonly close?: { readonly code: number; readonly reason: string };
}

/** A poll waiting for frames: answered once, by the transport or by the timeout. */
export type PollWaiter = (answer: PollAnswer) => void;

/** One polling connection seen through the transport seam. */
export class PollingTransportSocket implements TransportSocket {
  readonly kind = 'polling' as const;
  /** A poll's cursor proves reads, but only by a poll, never in answer to a ping. */
  readonly pingsProveReads = false;
  /** Set once the hub accepted the connection. */
  handle: ConnectionHandle | undefined;
  /** The frames not yet acknowledged, oldest first; `first` is the sequence number of `queue[0]`. */
  private queue: Buffer[] = [];
  private first = 1;
  private bytes = 0;
  private waiter: PollWaiter | null = null;
  private closing: { code: number; reason: string } | null = null;
  /** When the last poll ended (or the connection opened): a connection nobody polls is abandoned. */
  idleSince: number;

  /** @param onReady called when a waiting poll can be answered (the owner answers them in one batch). */
  constructor(
    now: number,
    private readonly onReady: (socket: PollingTransportSocket) => void,
  ) {
    this.idleSince = now;
  }

  send(frame: Buffer): void {
    if (this.closing !== null) return;
    this.queue.push(frame);
    this.bytes += frame.length;
    if (this.waiter !== null) this.onReady(this);
  }
  sendPrepared(frame: PreparedFrame): void {
    // The queue holds the shared payload itself: a fan-out costs one array slot per recipient.
    this.send(frame.payload);
  }
  get bufferedAmount(): number {
    return this.bytes;
  }
  ping(): void {
    // No transport-level ping: the hub's v1 ping frame is queued like any other frame.
  }
  close(code: number, reason: string): void {
    if (this.closing !== null) return;
    this.closing = { code, reason };
    // The close reaches the client with the frames before it, on its next poll.
    if (this.waiter !== null) this.onReady(this);
    // Reported after the hub's close call returns, as a WebSocket reports its close event later.
    queueMicrotask(() => this.report(code, reason));
  }
  terminate(): void {
    this.close(POLL_ABANDONED, 'connection dropped');
  }

  /** Whether the connection ended (its last poll may still be due). */
  get ended(): boolean {
    return this.closing !== null;
  }

  /** Whether a poll is waiting. */
  get waiting(): boolean {
    return this.waiter !== null;
  }

  /**
   * A poll with `cursor`: drop the frames it acknowledges, then answer at once when frames are after it
   * or the connection ended, else hold `waiter` until {@link flush} or {@link expire}. A poll that arrives
   * while another waits answers the older one empty (a client has one poll outstanding).
   */
  poll(cursor: number, waiter: PollWaiter): void {
    this.acknowledge(cursor);
    this.expire();
    this.waiter = waiter;
    if (this.queue.length > 0 || this.closing !== null) this.flush();
  }

  /** Answer the waiting poll with everything queued (and the close, when the connection ended). */
  flush(): void {
    const waiter = this.waiter;
    if (waiter === null) return;
    this.waiter = null;
    const frames = this.queue.slice();
    const cursor = this.first + frames.length - 1;
    waiter(this.closing === null ? { cursor, frames } : { cursor, frames, close: this.closing });
  }

  /** Answer the waiting poll with no frames (its hold time is over). */
  expire(): void {
    const waiter = this.waiter;
    if (waiter === null) return;
    this.waiter = null;
    waiter({ cursor: this.first - 1, frames: [] });
  }

  /** The poll's response ended (sent or cut): the next one must come within the renewal timeout. */
  pollEnded(now: number): void {
    this.idleSince = now;
  }

  /** The client stopped polling, or closed the connection itself (`DELETE`). */
  abandon(code: number, reason: string): void {
    if (this.closing === null) {
      this.closing = { code, reason };
      this.report(code, reason);
    }
    this.expire();
  }

  /** Forget every frame up to `cursor` (the client has them). */
  private acknowledge(cursor: number): void {
    const count = Math.min(Math.max(cursor - this.first + 1, 0), this.queue.length);
    if (count === 0) return;
    for (let i = 0; i < count; i++) this.bytes -= (this.queue[i] as Buffer).length;
    this.queue = this.queue.slice(count);
    this.first += count;
  }

  private report(code: number, reason: string): void {
    const handle = this.handle;
    this.handle = undefined;
    handle?.closed(code, reason);
  }
}
