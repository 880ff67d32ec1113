/**
 * Wire frames of protocol v1, as discriminated unions on `type`.
 *
 * Forward compatibility: both sides ignore fields they do not know, and clients ignore push types they do
 * not know. Later versions add fields (recovery positions, acks, tokens) and commands; a v1 peer keeps
 * working because nothing it relies on changes meaning.
 */
import type { ErrorCode } from './codes.js';
import type { DeliveryCommand, InboxPush, JobPush } from './delivery-frames.js';

/** The protocol version this package implements; sent in the `connected` push. */
export const PROTOCOL_VERSION = 1;

/**
 * Batched frames. A client that connects with `?batch=1` on `/ws` (the query parameter is
 * {@link BATCH_QUERY_PARAM}) accepts several server frames in one WebSocket text message, separated by
 * {@link FRAME_SEPARATOR}: the server coalesces a channel's messages of one event-loop turn into one
 * WebSocket message (one write per subscriber for many messages). A frame's JSON never holds a raw
 * newline (JSON escapes it inside strings, and the server never emits whitespace between tokens), so the
 * split is unambiguous. Any WebSocket message may be batched: a client that asks splits every message
 * (see `splitFrames`). Servers that do not know the parameter ignore it and send one frame per message,
 * which splits into itself. Without it, every WebSocket message holds exactly one frame.
 */
export const BATCH_QUERY_PARAM = 'batch';

/** The separator of frames batched in one WebSocket message (see {@link BATCH_QUERY_PARAM}). */
export const FRAME_SEPARATOR = '\n';

/**
 * The WebSocket subprotocol of protocol v1 in JSON text frames. Offering it is optional (a client that
 * offers nothing speaks JSON); it must be offered beside a `switchboard.bearer.<token>` subprotocol.
 */
export const JSON_SUBPROTOCOL = 'switchboard.v1';

/**
 * The WebSocket subprotocol of protocol v1 in MessagePack binary frames (docs/protocol.md#messagepack).
 * A client offers it, first when it also offers {@link JSON_SUBPROTOCOL} as a fallback; the server
 * selects the first offered one it speaks, and the format in use is the one it selected.
 */
export const MSGPACK_SUBPROTOCOL = 'switchboard.v1.msgpack';

/** How the frames of a protocol v1 connection are encoded: JSON text or MessagePack binary messages. */
export type FrameEncoding = 'json' | 'msgpack';

/** Fields every client command may carry. */
export interface CommandBase {
  /** Present when the client wants a reply; echoed in it. A non-negative safe integer. */
  readonly id?: number;
}

/**
 * A position in a channel's stream: the offset of the last message seen, and the epoch of the stream it
 * belongs to. A stream's epoch changes whenever its history is lost, so a position from another epoch
 * can never be recovered from.
 */
export interface StreamPosition {
  readonly offset: number;
  readonly epoch: string;
}

/**
 * Join a channel; the reply's result is {@link SubscribeResult}. With `since`, recover what was missed
 * after that position. Subscribing again to a channel the connection already holds, with `since`,
 * re-synchronises it (the server replays from `since`; the client drops what it already has).
 */
export interface SubscribeCommand extends CommandBase {
  readonly type: 'subscribe';
  readonly channel: string;
  readonly since?: StreamPosition;
}

/** Leave a channel; the reply's result is `{}`. */
export interface UnsubscribeCommand extends CommandBase {
  readonly type: 'unsubscribe';
  readonly channel: string;
}

/** Publish `data` to a channel; the reply's result is {@link PublishResult}. */
export interface PublishCommand extends CommandBase {
  readonly type: 'publish';
  readonly channel: string;
  readonly data: unknown;
  /** Skip history and allow dropping under pressure (typing indicators, cursors). Default false. */
  readonly ephemeral?: boolean;
  /** Do not deliver the message back to the publishing connection. Default false. */
  readonly excludeSelf?: boolean;
}

/** Send `data` to the application's message hook; the reply's result is what the hook returned. */
export interface SendCommand extends CommandBase {
  readonly type: 'send';
  readonly data: unknown;
}

/** Read a channel's retained history; the reply's result is {@link HistoryResult}. */
export interface HistoryCommand extends CommandBase {
  readonly type: 'history';
  readonly channel: string;
  /** Only messages after this offset. Default: the oldest retained. */
  readonly since?: number;
  /** At most this many messages (1-1000). Default 100. */
  readonly limit?: number;
}

/** Who is in a channel; the reply's result is {@link PresenceResult}. */
export interface PresenceCommand extends CommandBase {
  readonly type: 'presence';
  readonly channel: string;
}

/** How many are in a channel; the reply's result is {@link PresenceStatsResult}. */
export interface PresenceStatsCommand extends CommandBase {
  readonly type: 'presence_stats';
  readonly channel: string;
}

/**
 * Authenticate with a token as the first frame (first-message auth, for clients that cannot put a token in
 * the handshake). Until it succeeds, nothing else is accepted. The reply's result is {@link AuthResult}.
 */
export interface AuthCommand extends CommandBase {
  readonly type: 'auth';
  readonly token: string;
}

/**
 * Replace the connection's credentials before they expire (same user). The reply's result is
 * {@link AuthResult}; without it the server closes the connection with 4004 shortly after expiry.
 */
export interface RefreshCommand extends CommandBase {
  readonly type: 'refresh';
  readonly token: string;
}

/** The result of `auth` and `refresh`. */
export interface AuthResult {
  readonly userId: string | null;
  /** When the credentials expire (ms since the Unix epoch), or null when they do not. */
  readonly expiresAt: number | null;
}

/** Ask the server for a reply (`{}`), proving both directions work. */
export interface PingCommand extends CommandBase {
  readonly type: 'ping';
}

/** The answer to a server `ping` push. Never replied to. */
export interface PongCommand extends CommandBase {
  readonly type: 'pong';
}

/** Every command a client may send on the multiplexed endpoint. */
export type ClientCommand =
  | SubscribeCommand
  | UnsubscribeCommand
  | PublishCommand
  | SendCommand
  | HistoryCommand
  | PresenceCommand
  | PresenceStatsCommand
  | AuthCommand
  | RefreshCommand
  | PingCommand
  | PongCommand
  | DeliveryCommand;

/** The `type` of a client command. */
export type CommandType = ClientCommand['type'];

/** The error carried by an error reply or an error push. */
export interface ErrorPayload {
  readonly code: ErrorCode;
  readonly message: string;
  /** True when the same request may succeed if retried later. */
  readonly temporary: boolean;
}

/** A successful answer to a command with an `id`. */
export interface ResultReply {
  readonly type: 'reply';
  readonly id: number;
  readonly result: unknown;
}

/** A failed answer to a command with an `id`. */
export interface ErrorReply {
  readonly type: 'reply';
  readonly id: number;
  readonly error: ErrorPayload;
}

/** The answer to a command with an `id`. */
export type Reply = ResultReply | ErrorReply;

/**
 * A message as history and recovery return it: a `message` push without `type` and `channel`. `Data` is
 * the payload type the application's channel map promises (unknown: whatever JSON was published).
 */
export interface HistoryMessage<Data = unknown> {
  readonly id: number;
  readonly data: Data;
  readonly time: number;
}

/** The result of a successful `subscribe`. */
export interface SubscribeResult {
  readonly channel: string;
  /** The channel's position when the subscription started (offset 0 when nothing was published yet). */
  readonly offset: number;
  readonly epoch: string;
  /**
   * Present when the command had `since`: true when every message after `since` is in `messages` (the
   * client missed nothing); false when the position could not be recovered (other epoch, or history
   * already trimmed past it) and nothing is replayed: the application must reload its state.
   */
  readonly recovered?: boolean;
  /** With `since` and `recovered: true`: the missed messages, in order, before any live message. */
  readonly messages?: readonly HistoryMessage[];
}

/** The result of `history`; `Data` types the messages' payloads (see {@link HistoryMessage}). */
export interface HistoryResult<Data = unknown> {
  readonly channel: string;
  /** The channel's current position. */
  readonly offset: number;
  readonly epoch: string;
  readonly messages: readonly HistoryMessage<Data>[];
  /** False when messages after `since` were already trimmed, so the list does not start right after it. */
  readonly complete: boolean;
}

/** One user present in a channel. */
export interface PresenceEntry {
  /** The user id, or null for an anonymous connection (then `connectionId` says which). */
  readonly userId: string | null;
  readonly connectionId?: string;
  /** This user's connections in the channel. */
  readonly connections: number;
  /** What the application attached to the user's connection (from the authenticator). */
  readonly info?: unknown;
}

/** The result of `presence`. */
export interface PresenceResult {
  readonly channel: string;
  readonly users: readonly PresenceEntry[];
}

/** The result of `presence_stats`. */
export interface PresenceStatsResult {
  readonly channel: string;
  readonly users: number;
  readonly connections: number;
}

/** The result of a successful `publish`. Ephemeral publishes carry no `id`. */
export interface PublishResult {
  readonly id?: number;
}

/** Heartbeat settings the server announces to each connection. */
export interface HeartbeatSettings {
  /** How often (ms) the server pings a quiet connection. */
  readonly interval: number;
  /** How long (ms) either side may stay silent before the other considers it dead. */
  readonly timeout: number;
}

/** First frame on every multiplexed connection. */
export interface ConnectedPush {
  readonly type: 'connected';
  readonly version: number;
  readonly connectionId: string;
  readonly sessionId: string;
  /** The authenticated user, or null for an anonymous connection. */
  readonly userId: string | null;
  readonly heartbeat: HeartbeatSettings;
  /** Server time, milliseconds since the Unix epoch. */
  readonly time: number;
  /**
   * True when the connection resumed a session (`/ws?session=ID` within the grace period): its
   * subscriptions were restored, listed in `subscriptions` with their recovery outcome.
   */
  readonly resumed?: boolean;
  /** On resume: each restored channel and whether the messages missed while away were replayed. */
  readonly subscriptions?: readonly RestoredSubscription[];
}

/** A subscription restored on session resume. */
export interface RestoredSubscription extends StreamPosition {
  readonly channel: string;
  readonly recovered: boolean;
}

/** A message published to a channel the connection is subscribed to. */
export interface MessagePush {
  readonly type: 'message';
  readonly channel: string;
  /** Sequential per channel; absent on ephemeral messages. */
  readonly id?: number;
  readonly data: unknown;
  readonly time: number;
}

/** A message sent to this connection or to its user. */
export interface DirectPush {
  readonly type: 'direct';
  readonly data: unknown;
  readonly time: number;
}

/** A message broadcast to every connection. */
export interface BroadcastPush {
  readonly type: 'broadcast';
  readonly data: unknown;
  readonly time: number;
}

/**
 * A user joined or left a channel with presence enabled. A user whose last connection drops is announced
 * as leaving only after the presence grace period, and only if they have not come back.
 */
export interface MembershipPush {
  readonly type: 'join' | 'leave';
  readonly channel: string;
  readonly userId: string | null;
  /** Set for anonymous connections, whose presence is per connection. */
  readonly connectionId?: string;
  readonly info?: unknown;
  readonly time: number;
}

/**
 * The server ended a subscription. With `resubscribe: true` the client must subscribe again from its
 * last position (for example after the server detected a gap it could not fill); otherwise the
 * subscription is over.
 */
export interface UnsubscribedPush {
  readonly type: 'unsubscribed';
  readonly channel: string;
  readonly resubscribe: boolean;
  readonly reason: string;
}

/** The server checks that the connection is alive; answer with a `pong` command. */
export interface PingPush {
  readonly type: 'ping';
}

/** An error not tied to a command id (for example a frame that was not JSON). */
export interface ErrorPush extends ErrorPayload {
  readonly type: 'error';
}

/** Every frame the server sends on the multiplexed endpoint. */
export type ServerFrame =
  | Reply
  | ConnectedPush
  | MessagePush
  | DirectPush
  | BroadcastPush
  | MembershipPush
  | UnsubscribedPush
  | PingPush
  | ErrorPush
  | InboxPush
  | JobPush;

/** The `type` of a server frame. */
export type ServerFrameType = ServerFrame['type'];
