/** Why a message was not delivered to a connection. Every drop is counted under one of these. */
export type DropReason =
  /** An ephemeral message met a full outbound buffer. */
  | 'backpressure'
  /** The connection was closed as a slow consumer with messages still due to it. */
  | 'slow_consumer'
  /** The target connection closed while the message was in flight. */
  | 'closed';

/** Counts shown in /stats and exported as gauges. */
export interface GaugeSnapshot {
  readonly connections: number;
  readonly users: number;
  readonly channels: number;
}

/**
 * The metrics seam. Calls sit on hot paths, so implementations must be cheap; per-recipient work is
 * reported once per fan-out with a count, never once per recipient.
 */
export interface Metrics {
  connectionOpened(transport: string): void;
  connectionClosed(transport: string, code: number): void;
  /** A connection attempt was refused before or during the handshake. */
  handshakeRejected(status: number, reason: string): void;
  /** Frames received from clients. */
  framesReceived(count: number): void;
  /** Messages written to client connections. */
  messagesDelivered(count: number): void;
  /** A publish, user send, connection send or broadcast entered the hub. */
  messagePublished(kind: 'channel' | 'user' | 'connection' | 'broadcast'): void;
  messagesDropped(reason: DropReason, count: number): void;
  /** An error reply or error push with `code` went to a client. */
  clientError(code: string): void;
  /** A heartbeat tick visited `visited` connections in `durationMs`. */
  heartbeatTick(visited: number, durationMs: number): void;
  /** Register the source of the connection/user/channel gauges. */
  setGaugeSource(source: () => GaugeSnapshot): void;
  /** The metrics in the Prometheus text format, or null when this implementation exports none. */
  render(): Promise<{ contentType: string; body: string } | null>;
}

/** Metrics that record nothing. */
export class NoopMetrics implements Metrics {
  connectionOpened(): void {}
  connectionClosed(): void {}
  handshakeRejected(): void {}
  framesReceived(): void {}
  messagesDelivered(): void {}
  messagePublished(): void {}
  messagesDropped(): void {}
  clientError(): void {}
  heartbeatTick(): void {}
  setGaugeSource(): void {}
  render(): Promise<null> {
    return Promise.resolve(null);
  }
}
