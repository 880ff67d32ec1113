/**
 * The transport seam. A transport turns a network connection (WebSocket today; SSE and polling later)
 * into a {@link TransportSocket} the hub writes to, and reports what arrives through a
 * {@link ConnectionHandle}. Transports never see channels or users.
 */

/** Which transport carries a connection. */
export type TransportKind = 'websocket' | 'sse' | 'polling';

/**
 * One encoded text frame shared by every recipient of a fan-out. A transport frames it for its wire on
 * first use and keeps the result here, so a fan-out frames each wire format once, whatever the number of
 * recipients: every recipient after the first costs one socket write of the same Buffer.
 */
export class PreparedFrame {
  /** The WebSocket framing of {@link payload} (header and payload), built by the first WebSocket write. */
  websocket: Buffer | null = null;

  /** @param payload the frame's text as UTF-8 (one JSON value, or several joined by newlines). */
  constructor(readonly payload: Buffer) {}
}

/** The hub's view of one network connection. Every method must return without waiting on the network. */
export interface TransportSocket {
  readonly kind: TransportKind;
  /** Queue one encoded text frame. Never blocks; bytes wait in {@link bufferedAmount}. */
  send(frame: Buffer): void;
  /**
   * Queue a frame shared with other connections (a fan-out). The same contract as {@link send}; the
   * transport frames it for its wire at most once for all of them. Nothing is written once the
   * connection is closing.
   */
  sendPrepared(frame: PreparedFrame): void;
  /** Bytes queued for this connection and not yet handed to the kernel. */
  readonly bufferedAmount: number;
  /** Send a transport-level ping if the transport has one (the heartbeat's safety net). */
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
  /** A frame the protocol cannot use arrived (binary on a text protocol). */
  receiveUnsupported(): void;
  /** Proof of life below the application protocol (a WebSocket pong). */
  receiveTransportPong(): void;
  /** The connection is gone; called exactly once. */
  closed(code: number, reason: string): void;
}
