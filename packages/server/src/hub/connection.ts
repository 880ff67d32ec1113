import type { FrameEncoding, StreamPosition } from '@switchboard/protocol';
import type { HeartbeatTarget } from './heartbeat-scheduler.js';
import type { WireFormat } from './outbound.js';
import type { SseCursor } from './sse-stream.js';
import type { SessionRecord } from './session-registry.js';
import type { Publication } from '../broker/broker.js';
import type { TransportKind, TransportSocket } from '../transports/transport.js';
import type { TokenBucket } from '../limits/token-bucket.js';
import type { RateLimiter } from '../limits/rate-limiter.js';

/** The empty list every connection without scopes or channel grants shares (never mutated). */
export const NO_STRINGS: readonly string[] = Object.freeze([]);

/** Lifecycle of a connection: it only moves forward. */
export type ConnectionState = 'open' | 'closing' | 'closed';

/** What the application sees of a connection in hooks and API results. */
export interface ConnectionInfo {
  readonly id: string;
  readonly userId: string | null;
  /** The session this connection holds; the same across resumes. */
  readonly sessionId: string;
  readonly transport: TransportKind;
  readonly format: WireFormat;
  /** How its frames are encoded: `msgpack` for a `/ws` client that chose `switchboard.v1.msgpack`. */
  readonly encoding: FrameEncoding;
  readonly remoteAddress: string;
  /** Milliseconds since the Unix epoch. */
  readonly connectedAt: number;
  /** Whatever the authenticator attached (for example token claims). */
  readonly info: unknown;
  /** Application data kept with the session: it survives a resume within the session grace period. */
  readonly data: Map<string, unknown>;
  /** Channels the connection is subscribed to right now. */
  channels(): string[];
}

/**
 * One client connection as the hub tracks it. Deliberately a plain record with no timers and no closures:
 * its size is paid once per connection (see docs/benchmarks.md).
 */
export class Connection implements HeartbeatTarget, ConnectionInfo {
  heartbeatSlot = 0;
  state: ConnectionState = 'open';
  /**
   * Last time a frame that proves life arrived: any text frame, and transport pings and pongs where the
   * dialect's heartbeat proof is `any`.
   */
  lastReceived: number;
  /** An application ping went out and no application frame came back since. */
  awaitingPong = true;
  /** When the outbound buffer went over the soft limit; 0 while under it. */
  overBufferSince = 0;
  /**
   * Bytes written since the peer last proved it had read what came before (see Delivery's read check);
   * counted only on transports whose pings prove reads.
   */
  unreadBytes = 0;
  /** When the read check in flight (a transport ping) went out; 0 when none is in flight. */
  readCheckAt = 0;
  /** {@link unreadBytes} when that read check went out: what its pong proves read. */
  readCheckBytes = 0;
  /** Transport pings sent and not answered yet (their pongs are the server's own request: not charged). */
  pingsOut = 0;
  /** The code the server closed the connection with; 0 until it does (or when the peer closed first). */
  closeCode = 0;
  /** Admitted commands not answered yet (a close waiting for them is {@link closeWhenAnswered}). */
  inFlight = 0;
  /** A close that waits until every admitted command is answered; null when none is waiting. */
  closeWhenAnswered: { readonly code: number; readonly reason: string } | null = null;
  /** `send` commands waiting on the application's hook. */
  pendingSends = 0;
  /** Created on the first client error only: most connections never need one. */
  errorBudget: TokenBucket | null = null;
  /** Inbound message and byte buckets, created on the first frame (null while rate limits are off). */
  rate: RateLimiter | null = null;
  /** See {@link subscriptions}; null until the first subscribe (an empty Map costs ~200 bytes). */
  private subscribed: Map<string, StreamPosition | null> | null = null;
  /** Live messages held back per channel while a subscription recovers; null when none is recovering. */
  recovering: Map<string, Publication[]> | null = null;
  /** Frames held back while a resumed session is restored, so that `connected` stays first; else null. */
  held: Buffer[] | null = null;
  /**
   * The client reads several frames per WebSocket message, separated by newlines (v1 `?batch=1`): its
   * channel messages are coalesced per event-loop turn (see ChannelRegistry).
   */
  batch = false;
  /** An SSE stream's position in each of its channels; null for WebSocket connections. */
  sse: SseCursor | null = null;
  /** The channel a `room`-format connection belongs to; null for v1 connections. */
  room: string | null = null;
  /** Set by the hub right after construction (or after first-message authentication). */
  session!: SessionRecord<Connection>;
  /** How its frames are encoded (the transport's choice, fixed at the handshake). */
  readonly encoding: FrameEncoding;
  /** Waiting for a first-message `auth` until this time (ms since the Unix epoch); 0 once authenticated. */
  authDeadline = 0;
  /** When the credentials expire (ms since the Unix epoch); 0 when they do not. */
  expiresAt = 0;
  /** Scopes the credentials grant. */
  scopes: readonly string[] = NO_STRINGS;
  /** Channels (or patterns) the credentials grant. */
  grants: readonly string[] = NO_STRINGS;

  constructor(
    readonly id: string,
    public userId: string | null,
    readonly format: WireFormat,
    readonly socket: TransportSocket,
    readonly remoteAddress: string,
    readonly connectedAt: number,
    public info: unknown,
  ) {
    this.lastReceived = connectedAt;
    this.encoding = socket.encoding ?? 'json';
  }

  /**
   * Subscribed channels, each with the position its subscription started at (null until known). Created
   * on first use: most connections of a large deployment are idle, and many never subscribe.
   */
  get subscriptions(): Map<string, StreamPosition | null> {
    return (this.subscribed ??= new Map());
  }

  get sessionId(): string {
    return this.session.id;
  }

  get data(): Map<string, unknown> {
    return this.session.state;
  }

  get transport(): TransportKind {
    return this.socket.kind;
  }

  channels(): string[] {
    return this.subscribed === null ? [] : [...this.subscribed.keys()];
  }
}
