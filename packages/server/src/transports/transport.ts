/**
 * The transport seam. A transport turns a network connection (WebSocket today; SSE and polling later)
 * into a {@link TransportSocket} the hub writes to, and reports what arrives through a
 * {@link ConnectionHandle}. Transports never see channels or users.
 */
import type { FrameEncoding } from '@switchboard/protocol';

/** Which transport carries a connection. */
export type TransportKind = 'websocket' | 'sse' | 'polling';

/**
 * One encoded frame shared by every recipient of a fan-out. A transport frames it for its wire on first
 * use and keeps the result here, so a fan-out frames each wire format once, whatever the number of
 * recipients: every recipient after the first costs one socket write of the same Buffer.
 */
export class PreparedFrame {
  /** The WebSocket framing of {@link payload} (header and payload), built by the first WebSocket write. */
  websocket: Buffer | null = null;
  /** The SSE event of protocol v1 over an SSE stream (`/v1/sse`), built by the first such write. */
  sseV1: Buffer | null = null;
  /**
   * The WebSocket framing for connections that negotiated permessage-deflate: {@link payload} compressed
   * once (no context takeover) with RSV1 set, or the plain framing when compression would not shrink it.
   * Built by the first write to such a connection; every other one gets the same bytes.
   */
  websocketDeflated: Buffer | null = null;
  /** False for a frame that must travel uncompressed (a channel whose rule says `compress: false`). */
  compressible = true;

  /**
   * @param payload the frame's text as UTF-8 (one JSON value, or several joined by newlines), or with
   *   `binary`, its MessagePack bytes (one value, or several back to back)
   * @param binary a MessagePack frame, written as a binary WebSocket message (default false: text)
   */
  constructor(
    readonly payload: Buffer,
    readonly binary = false,
  ) {}
}

/** The hub's view of one network connection. Every method must return without waiting on the network. */
export interface TransportSocket {
  readonly kind: TransportKind;
  /**
   * How protocol v1 frames are encoded on this connection: `msgpack` when the WebSocket handshake
   * selected `switchboard.v1.msgpack` (binary messages), else `json` (text). Absent: `json`.
   */
  readonly encoding?: FrameEncoding;
  /**
   * Queue one encoded frame, in the connection's {@link encoding}. Never blocks; bytes wait in
   * {@link bufferedAmount}.
   */
  send(frame: Buffer): void;
  /**
   * Queue a frame shared with other connections (a fan-out). The same contract as {@link send}; the
   * transport frames it for its wire at most once for all of them. Nothing is written once the
   * connection is closing.
   */
  sendPrepared(frame: PreparedFrame): void;
  /** Bytes queued for this connection and not yet handed to the kernel. */
  readonly bufferedAmount: number;
  /**
   * Whether {@link ping} is answered by a pong ({@link ConnectionHandle.receiveTransportPong}) that proves
   * the peer has read every frame sent before the ping (WebSocket: yes, frames are read in order; a
   * transport without pings: no). The write policy uses that proof to see a peer that stopped reading
   * while the kernel's socket buffers still take what is sent, which {@link bufferedAmount} cannot show.
   */
  readonly pingsProveReads: boolean;
  /** Send a transport-level ping if the transport has one (the heartbeat's safety net, the read check). */
  ping(): void;
  /** Start a clean close with `code` and `reason` (at most 123 bytes). */
  close(code: number, reason: string): void;
  /** Drop the connection at once, without a close handshake. */
  terminate(): void;
}

/** What a transport reports about a connection the hub accepted. */
export interface ConnectionHandle {
  /** A text frame arrived. */
  receiveText(text: string): void;
  /** A binary frame arrived on a connection whose encoding is `msgpack`. */
  receiveBinary(bytes: Uint8Array): void;
  /** A frame the connection's encoding cannot use arrived (binary on JSON, text on MessagePack). */
  receiveUnsupported(): void;
  /**
   * A transport-level ping arrived (a WebSocket ping with `bytes` of payload). The transport answers it
   * (a pong echoing the payload) only when this returns true: control frames are charged to the
   * connection's rate limits like text frames, and a refused ping gets no answer.
   */
  receiveTransportPing(bytes: number): boolean;
  /** A transport-level pong arrived, with `bytes` of payload: proof of life below the application protocol. */
  receiveTransportPong(bytes: number): void;
  /**
   * The transport refused what the peer sent and is closing the connection with `code` (WebSocket: 1002 a
   * protocol error, 1007 invalid UTF-8, 1008 a message in too many fragments, 1009 a message over the
   * size limit). The peer gets that code; {@link closed} follows, with whatever code the end brought.
   */
  receiveInvalid(code: number, reason: string): void;
  /** The connection is gone; called exactly once. */
  closed(code: number, reason: string): void;
}
