/**
 * Inbound frames: every frame a transport reports arrives here (text, or MessagePack bytes on a
 * `switchboard.v1.msgpack` connection). It proves the connection alive, is charged to the connection's
 * rate limits, is decoded by the connection's codec, and goes to first-message authentication or to the
 * handler of the connection's wire dialect. Transport-level pings and pongs arrive here too, and are charged to the
 * same limits: a flood of control frames costs the server as much as one of text. They prove the
 * connection alive only where its dialect's heartbeat proof is `any` (hub/heartbeat-proof.ts).
 */
import { CloseCode, ErrorCode, decodeCommand, decodeCommandMsgpack } from '@switchboard/protocol';
import type { DecodeOptions, DecodeResult } from '@switchboard/protocol';
import type { ResolvedLimits } from '../limits/resolved-limits.js';
import { RateLimiter, rateLimited } from '../limits/rate-limiter.js';
import type { RateLimit } from '../limits/rate-limiter.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Clock } from '../util/clock.js';
import type { CommandContext } from './command-context.js';
import type { Connection } from './connection.js';
import type { Credentials } from './credentials.js';
import type { Closer, Delivery } from './delivery.js';
import type { ErrorReplies } from './error-replies.js';
import type { TransportProof } from './heartbeat-proof.js';
import type { HubCounters } from './hub-stats.js';
import { handleRoomFrame } from './room-handler.js';
import { handleV1Frame } from './v1-handler.js';

/** What inbound handling needs. */
export interface InboundOptions {
  /** Rate limits (messages and bytes per second, the refusal budget) and the longest channel name. */
  readonly limits: ResolvedLimits;
  /** Per dialect, whether transport pings and pongs prove the connection alive (else only text frames do). */
  readonly transportProof: TransportProof;
  readonly commands: CommandContext;
  readonly credentials: Credentials;
  readonly errors: ErrorReplies;
  /** Told of every pong: those that answer the server's pings are not charged. */
  readonly delivery: Delivery;
  /** Closes a connection once the commands it was allowed are answered (the rate-limit close, 4003). */
  readonly closeWhenAnswered: Closer;
  readonly counters: HubCounters;
  readonly metrics: Metrics;
  readonly clock: Clock;
}

/** Receives the frames of every connection. */
export class Inbound {
  /** Whether inbound frames are rate limited at all (decided once: the limits never change). */
  private readonly rateLimits: boolean;
  /** Whether a frame's size is charged (a bytes-per-second limit is set), so worth measuring. */
  private readonly countsBytes: boolean;
  /** The codecs' options, made once. */
  private readonly decodeOptions: DecodeOptions;

  constructor(private readonly options: InboundOptions) {
    this.rateLimits = rateLimited(options.limits);
    this.countsBytes = options.limits.bytesPerSecond > 0;
    this.decodeOptions = { maxChannelLength: options.limits.maxChannelLength };
  }

  /** One frame from a connection: text, or bytes on a MessagePack connection. */
  receive(connection: Connection, frame: string | Uint8Array): void {
    if (connection.state !== 'open' || connection.closeWhenAnswered !== null) return;
    const now = this.options.clock.now();
    connection.lastReceived = now;
    connection.awaitingPong = false;
    this.options.counters.framesReceived++;
    this.options.metrics.framesReceived(1);
    if (this.rateLimits && !this.withinRate(connection, frame, now)) return;
    if (connection.authDeadline !== 0) {
      this.options.credentials.firstFrame(connection, this.decode(frame));
      return;
    }
    if (connection.format === 'v1') handleV1Frame(this.options.commands, connection, this.decode(frame));
    else if (typeof frame === 'string') handleRoomFrame(this.options.commands, connection, frame);
  }

  /** A frame read as a v1 command by the codec of its kind: JSON text or MessagePack bytes. */
  private decode(frame: string | Uint8Array): DecodeResult {
    const options = this.decodeOptions;
    return typeof frame === 'string' ? decodeCommand(frame, options) : decodeCommandMsgpack(frame, options);
  }

  /**
   * A transport-level ping with `bytes` of payload. True when it is within the connection's rate limits,
   * and the transport answers it; a refused ping gets no answer (its answer would be a control frame
   * too), and counts towards the 4003 close like a refused text frame.
   */
  ping(connection: Connection, bytes: number): boolean {
    if (connection.state !== 'open' || connection.closeWhenAnswered !== null) return false;
    const now = this.options.clock.now();
    if (this.options.transportProof[connection.format]) connection.lastReceived = now;
    return !this.rateLimits || this.charge(connection, bytes, now) === null;
  }

  /**
   * A transport-level pong with `bytes` of payload: proof of life where the dialect's heartbeat proof is
   * `any`, and the answer to a read check either way. One that answers a ping of ours (the
   * heartbeat's, or the write policy's read check) is the server's own request and costs the client
   * nothing; any other is charged like a ping (a client may send pongs unasked, RFC 6455 section 5.5.3,
   * but not without limit).
   */
  pong(connection: Connection, bytes: number): void {
    if (connection.state !== 'open') return;
    const now = this.options.clock.now();
    if (this.options.transportProof[connection.format]) connection.lastReceived = now;
    if (this.options.delivery.pong(connection)) return;
    if (this.rateLimits && connection.closeWhenAnswered === null) this.charge(connection, bytes, now);
  }

  /**
   * Charge a frame of `size` bytes to the connection's message and byte buckets. Returns null when it is
   * within both; otherwise counts the refusal and returns the limit that refused it. A connection that
   * keeps going after its allowance of refusals is closed with 4003 once the commands it was allowed
   * before are answered; until then nothing more it sends is processed.
   */
  private charge(connection: Connection, size: number, now: number): RateLimit | null {
    const limiter = (connection.rate ??= new RateLimiter(this.options.limits, now));
    const limit = limiter.take(size, now);
    if (limit === null) return null;
    this.options.metrics.limitRejected(limit);
    if (limiter.strike(now))
      this.options.closeWhenAnswered(connection, CloseCode.RateLimited, 'rate limit exceeded');
    return limit;
  }

  /**
   * Charge a text frame to the connection's rate limits. Over either, the frame is answered with
   * `rate_limited` (temporary, and outside the malformed-frame budget: the frame may be fine) and not
   * processed; past the allowance of refusals, the connection is closed instead (see {@link charge}).
   */
  private withinRate(connection: Connection, frame: string | Uint8Array, now: number): boolean {
    const size = !this.countsBytes ? 0 : typeof frame === 'string' ? Buffer.byteLength(frame) : frame.length;
    const limit = this.charge(connection, size, now);
    if (limit === null) return true;
    if (connection.closeWhenAnswered !== null || connection.state !== 'open') return false;
    // Decoded only to answer the command's id; refusals are bounded by the strike budget, so is this work.
    let id: number | undefined;
    if (connection.format === 'v1') {
      const decoded = this.decode(frame);
      id = decoded.ok ? decoded.command.id : decoded.id;
    }
    this.options.errors.send(
      connection,
      ErrorCode.RateLimited,
      `over the ${limit} per second limit; slow down`,
      id,
    );
    return false;
  }
}

/** The reason of the 1003 close of a frame the connection's encoding does not use. */
export function unsupportedReason(connection: Connection): string {
  return connection.encoding === 'msgpack'
    ? 'text frames are not supported: this connection speaks MessagePack (switchboard.v1.msgpack)'
    : 'binary frames are not supported';
}
