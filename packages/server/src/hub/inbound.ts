/**
 * Inbound frames: every text frame a transport reports arrives here. It proves the connection alive, is
 * charged to the connection's rate limits, and goes to first-message authentication or to the handler of
 * the connection's wire dialect.
 */
import { CloseCode, ErrorCode, decodeCommand } from '@switchboard/protocol';
import type { ResolvedLimits } from '../limits/resolved-limits.js';
import { RateLimiter, rateLimited } from '../limits/rate-limiter.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Clock } from '../util/clock.js';
import type { CommandContext } from './command-context.js';
import type { Connection } from './connection.js';
import type { Credentials } from './credentials.js';
import type { Closer } from './delivery.js';
import type { ErrorReplies } from './error-replies.js';
import type { HubCounters } from './hub-stats.js';
import { handleRoomFrame } from './room-handler.js';
import { handleV1Frame } from './v1-handler.js';

/** What inbound handling needs. */
export interface InboundOptions {
  /** Rate limits (messages and bytes per second, the refusal budget) and the longest channel name. */
  readonly limits: ResolvedLimits;
  readonly commands: CommandContext;
  readonly credentials: Credentials;
  readonly errors: ErrorReplies;
  readonly close: Closer;
  readonly counters: HubCounters;
  readonly metrics: Metrics;
  readonly clock: Clock;
}

/** Receives the frames of every connection. */
export class Inbound {
  /** Whether inbound frames are rate limited at all (decided once: the limits never change). */
  private readonly rateLimits: boolean;

  constructor(private readonly options: InboundOptions) {
    this.rateLimits = rateLimited(options.limits);
  }

  /** One text frame from a connection. */
  receive(connection: Connection, text: string): void {
    if (connection.state !== 'open') return;
    const now = this.options.clock.now();
    connection.lastReceived = now;
    connection.awaitingPong = false;
    this.options.counters.framesReceived++;
    this.options.metrics.framesReceived(1);
    if (this.rateLimits && !this.withinRate(connection, text, now)) return;
    if (connection.authDeadline !== 0) {
      this.options.credentials.firstFrame(connection, text);
      return;
    }
    if (connection.format === 'v1') handleV1Frame(this.options.commands, connection, text);
    else handleRoomFrame(this.options.commands, connection, text);
  }

  /**
   * Charge a frame to the connection's message and byte buckets. Over either, the frame is answered with
   * `rate_limited` (temporary, and outside the malformed-frame budget: the frame may be fine) and not
   * processed; a connection that keeps going after its allowance of refusals is closed with 4003.
   */
  private withinRate(connection: Connection, text: string, now: number): boolean {
    const limits = this.options.limits;
    const limiter = (connection.rate ??= new RateLimiter(limits, now));
    const limit = limiter.take(limiter.countsBytes ? Buffer.byteLength(text) : 0, now);
    if (limit === null) return true;
    this.options.metrics.limitRejected(limit);
    if (limiter.strike(now)) {
      this.options.close(connection, CloseCode.RateLimited, 'rate limit exceeded');
      return false;
    }
    // Decoded only to answer the command's id; refusals are bounded by the strike budget, so is this work.
    let id: number | undefined;
    if (connection.format === 'v1') {
      const decoded = decodeCommand(text, { maxChannelLength: limits.maxChannelLength });
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
