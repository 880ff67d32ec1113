/** The events a {@link SwitchboardClient} emits and their payloads. */
import type { HeartbeatSettings } from '@switchboard/protocol';
import type { StateChange } from './connection-state.js';
import type { ServerError } from './errors.js';

/** What the server's `connected` push told the client about its connection. */
export interface ConnectedInfo {
  /** The protocol version the server speaks (1). */
  readonly version: number;
  readonly connectionId: string;
  readonly sessionId: string;
  /** The authenticated user, or null for an anonymous connection. */
  readonly userId: string | null;
  /**
   * How often the server pings a quiet connection and how long silence may last (ms); both 0 when the
   * server announced no usable settings, and then the client runs no heartbeat of its own.
   */
  readonly heartbeat: HeartbeatSettings;
  /** Server time when the connection was accepted, ms since the Unix epoch. */
  readonly time: number;
}

/** A message published to a channel this connection is subscribed to. */
export interface ChannelMessage<Data = unknown> {
  readonly channel: string;
  /** Sequential per channel (1, 2, 3, ...); absent on ephemeral messages. */
  readonly id?: number;
  readonly data: Data;
  /** When the server accepted the publish, ms since the Unix epoch. */
  readonly time: number;
}

/** A message the server sent to this connection or its user (`direct`), or to everyone (`broadcast`). */
export interface ServerMessage {
  readonly data: unknown;
  readonly time: number;
}

/** Someone joined or left a channel whose join/leave notices are enabled. */
export interface MembershipChange {
  readonly channel: string;
  /** The user who joined or left; null for an anonymous connection (then `connectionId` says which). */
  readonly userId: string | null;
  readonly connectionId?: string;
  /** What the application attached to the user's connection. */
  readonly info?: unknown;
  readonly time: number;
}

/** The socket closed without the application asking: the server closed it, it dropped, or went silent. */
export interface DisconnectedEvent {
  /** The WebSocket close code (1006 when the socket dropped or never opened; 4000 when the server went silent). */
  readonly code: number;
  readonly reason: string;
  /** Whether the code allows reconnecting (`shouldReconnect` of the protocol): false for 4500-4999 and final codes. */
  readonly reconnect: boolean;
}

/** The application closed the client. */
export interface ClosedEvent {
  /** The close code the client sent (1000 by default). */
  readonly code: number;
  readonly reason: string;
}

/** Every event of a client, by name. `Data` types channel messages. */
export interface ClientEvents<Data = unknown> {
  /** The connection state changed. */
  state: StateChange;
  /** The server's `connected` push arrived; the client is connected. */
  connected: ConnectedInfo;
  /** The connection ended without `close()`; see `reconnect`. */
  disconnected: DisconnectedEvent;
  /** `close()` ended the client. */
  closed: ClosedEvent;
  /** A message on a subscribed channel. */
  message: ChannelMessage<Data>;
  /** A message for this connection or its user. */
  direct: ServerMessage;
  /** A message for every connection. */
  broadcast: ServerMessage;
  /** Someone joined a channel with join/leave notices. */
  join: MembershipChange;
  /** Someone left a channel with join/leave notices. */
  leave: MembershipChange;
  /** An `error` push: a failure not tied to a request (for example a command sent without an id failed). */
  error: ServerError;
}
