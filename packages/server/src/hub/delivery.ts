/**
 * The write policy: how a frame reaches a connection without ever waiting on its socket. Over the soft
 * buffer limit, ephemeral messages are dropped and counted and reliable ones queue while the connection is
 * marked slow; past the hard limit, or slow for too long, the connection is closed as a slow consumer.
 * Every delivery and drop is counted here, once per fan-out (never per recipient).
 *
 * "Slow for too long" has two witnesses. The process's own queue (`bufferedAmount`) over the soft limit
 * for the timeout; and, because the kernel's socket buffers take several MB before anything queues in the
 * process (4 MB per paused loopback socket on the machine of docs/benchmarks.md), a read check: once a
 * connection has been sent more than the soft limit since it last proved it read, a transport ping goes
 * out, and a connection whose pong has not come back within the timeout has not read what it was sent
 * before it. Pongs come back in order with everything before them, so a reading client answers at once.
 */
import { CloseCode, encodeServerFrame } from '@switchboard/protocol';
import type { ServerFrame } from '@switchboard/protocol';
import type { DropReason, Metrics } from '../metrics/metrics.js';
import type { Clock } from '../util/clock.js';
import type { PreparedFrame } from '../transports/transport.js';
import type { Connection } from './connection.js';
import type { HubCounters } from './hub-stats.js';
import { PING_PREPARED, PING_PREPARED_MSGPACK, payloadIn } from './outbound.js';
import { SSE_KEEPALIVE } from './sse-stream.js';

/** The outbound hard limit is this multiple of the soft limit: past it, even reliable messages cannot wait. */
export const HARD_BUFFER_FACTOR = 4;

/** Closes a connection: the connection lifecycle's `close`, which also removes it from every registry. */
export type Closer = (connection: Connection, code: number, reason: string) => void;

/**
 * What one fan-out did, reported to the counters and metrics once at its end (never per recipient).
 * Counts are in messages: each frame written counts `weight` (a batched frame carries several).
 */
export class DeliveryTally {
  delivered = 0;
  backpressure = 0;
  slowConsumer = 0;
  closed = 0;

  constructor(readonly weight = 1) {}
}

/** What the write policy needs. */
export interface DeliveryOptions {
  /** The soft limit of a connection's outbound buffer (bytes); the hard limit is {@link HARD_BUFFER_FACTOR} times it. */
  readonly maxBufferedBytes: number;
  /** How long a connection may stay over the soft limit before it is closed (ms). */
  readonly slowConsumerTimeoutMs: number;
  readonly counters: HubCounters;
  readonly metrics: Metrics;
  readonly clock: Clock;
  /** Closes a slow consumer (4001). */
  readonly close: Closer;
}

/** Writes frames to connections under the buffer limits, and counts what was delivered and dropped. */
export class Delivery {
  private readonly softLimit: number;
  private readonly hardLimit: number;

  constructor(private readonly options: DeliveryOptions) {
    this.softLimit = options.maxBufferedBytes;
    this.hardLimit = options.maxBufferedBytes * HARD_BUFFER_FACTOR;
  }

  /**
   * Write one frame to one connection (replies, errors, recovered messages). Returns false, counting the
   * drop, when the policy refused it.
   */
  write(connection: Connection, frame: Buffer, ephemeral: boolean): boolean {
    const refused = this.refuse(connection, frame.length, ephemeral);
    if (refused !== null) {
      this.drop(refused, 1);
      return false;
    }
    if (connection.held !== null) connection.held.push(frame);
    else {
      connection.socket.send(frame);
      this.wrote(connection, frame.length);
    }
    return true;
  }

  /**
   * {@link write} for a fan-out: the frame is shared by every recipient (the transport frames it once),
   * and outcomes are tallied, `tally.weight` messages per frame, for {@link settle} to report once.
   */
  writePrepared(
    connection: Connection,
    frame: PreparedFrame,
    ephemeral: boolean,
    tally: DeliveryTally,
  ): void {
    const refused = this.refuse(connection, frame.payload.length, ephemeral);
    if (refused === null) {
      if (connection.held !== null) connection.held.push(frame.payload);
      else {
        connection.socket.sendPrepared(frame);
        this.wrote(connection, frame.payload.length);
      }
      tally.delivered += tally.weight;
    } else if (refused === 'backpressure') tally.backpressure += tally.weight;
    else if (refused === 'slow_consumer') tally.slowConsumer += tally.weight;
    else tally.closed += tally.weight;
  }

  /** Report what a fan-out did: once per fan-out, never per recipient. */
  settle(tally: DeliveryTally): void {
    this.delivered(tally.delivered);
    if (tally.backpressure > 0) this.drop('backpressure', tally.backpressure);
    if (tally.slowConsumer > 0) this.drop('slow_consumer', tally.slowConsumer);
    if (tally.closed > 0) this.drop('closed', tally.closed);
  }

  /** Count `count` messages delivered outside a fan-out. */
  delivered(count: number): void {
    this.options.counters.messagesDelivered += count;
    this.options.metrics.messagesDelivered(count);
  }

  /** Count `count` messages not delivered, under `reason`. */
  drop(reason: DropReason, count: number): void {
    this.options.counters.messagesDropped += count;
    this.options.metrics.messagesDropped(reason, count);
  }

  /** Encode and write one protocol frame (replies, errors, the `connected` push), in the connection's encoding. */
  writeFrame(connection: Connection, frame: ServerFrame): void {
    this.write(connection, payloadIn(connection.encoding, encodeServerFrame(frame)), false);
  }

  /** Write a frame rendered as JSON, in the connection's encoding. */
  writeText(connection: Connection, text: string): void {
    this.write(connection, payloadIn(connection.encoding, text), false);
  }

  /** Write a JSON value as it is (the room dialect's own frames). */
  writeRaw(connection: Connection, value: unknown): void {
    this.write(connection, Buffer.from(JSON.stringify(value)), false);
  }

  /** Send a successful reply to command `id`. */
  reply(connection: Connection, id: number, result: unknown): void {
    this.writeFrame(connection, { type: 'reply', id, result });
  }

  /**
   * The heartbeat's ping (an SSE stream's keep-alive comment): never dropped as ephemeral (a slow
   * connection is the slow-consumer rule's).
   */
  ping(connection: Connection): void {
    const frame =
      connection.format === 'sse'
        ? SSE_KEEPALIVE
        : connection.encoding === 'msgpack'
          ? PING_PREPARED_MSGPACK
          : PING_PREPARED;
    const refused = this.refuse(connection, frame.payload.length, false);
    if (refused !== null) this.drop(refused, 1);
    else if (connection.held !== null) connection.held.push(frame.payload);
    else {
      connection.socket.sendPrepared(frame);
      this.wrote(connection, frame.payload.length);
    }
  }

  /** Send a transport-level ping (the heartbeat's safety net, or a read check) and count it as out. */
  transportPing(connection: Connection): void {
    connection.pingsOut++;
    connection.socket.ping();
  }

  /**
   * A transport pong. True when it answers a ping of ours (pongs come in the order of their pings); once
   * every ping out is answered, a read check among them is too: the peer has read everything written
   * before it. What was written since may be past the soft limit already, and no further write may come
   * to ask again, so the next check goes out now.
   */
  pong(connection: Connection): boolean {
    if (connection.pingsOut === 0) return false;
    if (--connection.pingsOut > 0 || connection.readCheckAt === 0) return true;
    connection.readCheckAt = 0;
    connection.unreadBytes -= connection.readCheckBytes;
    if (connection.unreadBytes > this.softLimit && connection.state === 'open') this.checkRead(connection);
    return true;
  }

  /**
   * The slow-consumer rule, checked once per heartbeat visit: a connection back under the soft limit is
   * no longer slow; one over it for `slowConsumerTimeoutMs`, or whose read check has gone unanswered that
   * long, is closed (4001). True when it was closed.
   */
  closeIfSlow(connection: Connection, now: number): boolean {
    const timeout = this.options.slowConsumerTimeoutMs;
    if (connection.readCheckAt !== 0 && now - connection.readCheckAt >= timeout) {
      this.closeSlow(connection);
      return true;
    }
    if (connection.overBufferSince === 0) return false;
    if (connection.socket.bufferedAmount <= this.softLimit) {
      connection.overBufferSince = 0;
      return false;
    }
    if (now - connection.overBufferSince < timeout) return false;
    this.closeSlow(connection);
    return true;
  }

  /** Close a connection that did not keep up: counted as one message dropped for it, then 4001. */
  private closeSlow(connection: Connection): void {
    this.drop('slow_consumer', 1);
    this.options.close(connection, CloseCode.SlowConsumer, 'slow consumer');
  }

  /**
   * Count `length` bytes written to a connection, and ask it to prove it reads once it has been sent more
   * than the soft limit since it last did. A few additions per write; the ping goes once per soft limit's
   * worth of bytes at most (once per MiB by default), and its pong is never charged to the client's rate
   * limits.
   */
  private wrote(connection: Connection, length: number): void {
    if ((connection.unreadBytes += length) > this.softLimit && connection.readCheckAt === 0)
      this.checkRead(connection);
  }

  /** Send a read check: a transport ping whose pong proves every earlier frame was read. */
  private checkRead(connection: Connection): void {
    if (!connection.socket.pingsProveReads) {
      // Nothing can prove reads on this transport: only bufferedAmount speaks for it.
      connection.unreadBytes = 0;
      return;
    }
    connection.readCheckAt = this.options.clock.now();
    connection.readCheckBytes = connection.unreadBytes;
    this.transportPing(connection);
  }

  /**
   * Why `length` more bytes cannot be queued for `connection`, or null when they can. A connection past
   * the hard limit is closed here (4001). A connection holding its frames (a resume) takes everything.
   */
  private refuse(connection: Connection, length: number, ephemeral: boolean): DropReason | null {
    // A reply or push racing the connection's close: nobody can receive it, but it is still counted.
    if (connection.state !== 'open') return 'closed';
    if (connection.held !== null) return null;
    if (
      connection.readCheckAt !== 0 &&
      this.options.clock.now() - connection.readCheckAt >= this.options.slowConsumerTimeoutMs
    ) {
      // Not reading, and still being written to: closed at this write rather than at its next heartbeat visit.
      this.options.close(connection, CloseCode.SlowConsumer, 'slow consumer');
      return 'slow_consumer';
    }
    const buffered = connection.socket.bufferedAmount + length;
    if (buffered <= this.softLimit) return null;
    if (ephemeral) return 'backpressure';
    if (buffered > this.hardLimit) {
      this.options.close(connection, CloseCode.SlowConsumer, 'outbound buffer full');
      return 'slow_consumer';
    }
    if (connection.overBufferSince === 0) connection.overBufferSince = this.options.clock.now();
    return null;
  }
}
