/** The events a {@link SwitchboardClient} emits and their payloads. */
import type {
  AnyChannelMap,
  BroadcastOf,
  ChannelOf,
  DirectOf,
  HeartbeatSettings,
  IsChannelMap,
  PayloadOf,
  StreamPosition,
} from '@switchboard/protocol';
import type { NotifyCommand } from './commands.js';
import type { StateChange } from './connection-state.js';
import type { DropReason, ServerError } from './errors.js';
import type { WireFormat } from './wire-format.js';

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
  /**
   * True when this connection resumed the previous one's session (same `sessionId`): the server restored
   * its subscriptions. The client re-syncs every subscription from its own position either way.
   */
  readonly resumed: boolean;
  /**
   * The wire format in use: `msgpack` when the `format` option asked for it and the server selected it
   * over WebSocket; `json` otherwise (JSON asked for, an older server, or an SSE or polling fallback).
   */
  readonly format: WireFormat;
}

/**
 * Messages of a channel were lost for good: the server could not replay from the client's position (its
 * history window was exceeded, or the stream's epoch changed). The subscription continues live from
 * `position`; the application reloads its state (from its own backend) and keeps applying live messages.
 */
export interface StateLostEvent {
  readonly channel: string;
  /** Where the client was: the last message it delivered. */
  readonly since: StreamPosition;
  /** Where it continues from: messages after `since` up to this one were not delivered. */
  readonly position: StreamPosition;
  readonly reason: string;
}

/**
 * A message published to a channel this connection is subscribed to. With a channel map, `Channel` is the
 * pattern's names (`` `chat:${string}` ``) and `Data` its payload.
 */
export interface ChannelMessage<Data = unknown, Channel extends string = string> {
  readonly channel: Channel;
  /** Sequential per channel (1, 2, 3, ...); absent on ephemeral messages. */
  readonly id?: number;
  readonly data: Data;
  /** When the server accepted the publish, ms since the Unix epoch. */
  readonly time: number;
}

/** A message the server sent to this connection or its user (`direct`), or to everyone (`broadcast`). */
export interface ServerMessage<Data = unknown> {
  readonly data: Data;
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

/**
 * A connection or an attempt ended without the application asking: the server closed it, it dropped,
 * it never opened, or the server went silent.
 */
export interface DisconnectedEvent {
  /**
   * The WebSocket close code: 1006 when the socket dropped or never opened (or no `connected` push came
   * within `connectTimeoutMs`, or the token provider failed: see the `tokenError` event); 4000 when the
   * server went silent.
   */
  readonly code: number;
  readonly reason: string;
  /**
   * Whether the client will try again (a `reconnecting` event follows). False after a code that forbids
   * it (4500-4999 and the final RFC 6455 codes), with `reconnect: false`, or when attempts ran out.
   */
  readonly reconnect: boolean;
}

/** The client scheduled its next attempt. */
export interface ReconnectingEvent {
  /** Attempts since the last connection that stayed up (1 for the first retry). */
  readonly attempt: number;
  /** How long the client waits before it (ms); an `online` event cuts the wait short. */
  readonly delayMs: number;
}

/** A command queued while offline that was dropped before it could be sent. */
export interface DroppedCommand {
  readonly command: NotifyCommand;
  /** `overflow`, `expired` or `cleared` (see `MessageDroppedError`). */
  readonly reason: DropReason;
  /** When it was queued, on the client's clock. */
  readonly queuedAt: number;
}

/** Commands dropped from the offline queue, oldest first. */
export interface DroppedEvent {
  readonly commands: readonly DroppedCommand[];
}

/** The application closed the client. */
export interface ClosedEvent {
  /** The close code the client sent (1000 by default). */
  readonly code: number;
  readonly reason: string;
}

/** The connection's credentials were renewed in-band (`refresh`) before they expired. */
export interface TokenRefreshedEvent {
  /** When the new credentials expire: ms since the Unix epoch on the server's clock; null for never. */
  readonly expiresAt: number | null;
}

/** Getting or renewing credentials failed. */
export interface TokenErrorEvent {
  /**
   * What failed: a TokenProviderError (the provider threw or returned no usable token; its `cause` is
   * what it threw), a ServerError (the server refused a `refresh`: `unauthorized`, `token_expired`, or
   * `permission_denied` for another user's token; or, during `connect`, the server did not wait for
   * `auth`), or a RequestTimeoutError (no reply to `refresh`).
   */
  readonly error: Error;
  /**
   * `connect`: a connection attempt failed before its socket opened (a `disconnected` event follows);
   * `refresh`: an in-band renewal failed, and the connection stays up until its credentials expire.
   */
  readonly during: 'connect' | 'refresh';
  /**
   * Whether the client tries again: the next connection attempt after a backoff delay, or another refresh
   * (a few, with backoff, before the credentials expire). After the last failed refresh the server closes
   * the connection with 4004 once the credentials expire, and the client reconnects with a fresh token.
   */
  readonly retry: boolean;
}

/** The server refused the credentials and closed with 4504: the client stopped trying (`disconnected`). */
export interface UnauthorizedEvent {
  /** The close code, 4504. */
  readonly code: number;
  /** The close reason. */
  readonly reason: string;
  /**
   * The server's refusal: code `unauthorized` (a bad token) or `token_expired` (an expired one), with the
   * server's message; `unauthorized` with the close reason when no error reply preceded the close.
   */
  readonly error: ServerError;
}

/**
 * The client-wide `message` event's payload: with a channel map, one member per pattern (its names and
 * payload); else `ChannelMessage<T>`, `T` being the client's default payload type.
 */
export type MessageOf<T> =
  IsChannelMap<T> extends true
    ? MapMessage<T & AnyChannelMap, ChannelOf<T & AnyChannelMap>>
    : ChannelMessage<T>;

/** One ChannelMessage per channel pattern (distributes over the union of patterns' names). */
type MapMessage<M extends AnyChannelMap, C> = C extends string ? ChannelMessage<PayloadOf<M, C>, C> : never;

/** The `direct` event's payload type: the map's `direct`, else unknown. */
export type DirectDataOf<T> = IsChannelMap<T> extends true ? DirectOf<T & AnyChannelMap> : unknown;

/** The `broadcast` event's payload type: the map's `broadcast`, else unknown. */
export type BroadcastDataOf<T> = IsChannelMap<T> extends true ? BroadcastOf<T & AnyChannelMap> : unknown;

/**
 * Every event of a client, by name. `T` is the client's: a channel map types messages per channel (and
 * `direct`, `broadcast`); any other type is the payload type of every channel's messages.
 */
export interface ClientEvents<T = unknown> {
  /** The connection state changed. */
  state: StateChange;
  /** The server's `connected` push arrived; the client is connected. */
  connected: ConnectedInfo;
  /** A connection or attempt ended without `close()`; see `reconnect`. */
  disconnected: DisconnectedEvent;
  /** The next attempt is scheduled. */
  reconnecting: ReconnectingEvent;
  /** `close()` ended the client. */
  closed: ClosedEvent;
  /** A message on a subscribed channel: in order and at most once per id for channels with a Subscription. */
  message: MessageOf<T>;
  /** A subscription lost messages for good (the subscription's `stateLost` event, for every channel). */
  stateLost: StateLostEvent;
  /** Commands queued while offline were dropped. */
  dropped: DroppedEvent;
  /** A message for this connection or its user. */
  direct: ServerMessage<DirectDataOf<T>>;
  /** A message for every connection. */
  broadcast: ServerMessage<BroadcastDataOf<T>>;
  /** Someone joined a channel with join/leave notices. */
  join: MembershipChange;
  /** Someone left a channel with join/leave notices. */
  leave: MembershipChange;
  /** An `error` push: a failure not tied to a request (for example a command sent without an id failed). */
  error: ServerError;
  /** The credentials were renewed in-band before they expired. */
  tokenRefreshed: TokenRefreshedEvent;
  /** The token provider failed, or a refresh did; see `retry`. */
  tokenError: TokenErrorEvent;
  /** The server refused the credentials (close 4504); the client stopped trying. */
  unauthorized: UnauthorizedEvent;
}
