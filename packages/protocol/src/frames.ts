/**
 * Wire frames of protocol v1, as discriminated unions on `type`.
 *
 * Forward compatibility: both sides ignore fields they do not know, and clients ignore push types they do
 * not know. Later versions add fields (recovery positions, acks, tokens) and commands; a v1 peer keeps
 * working because nothing it relies on changes meaning.
 */
import type { ErrorCode } from './codes.js';

/** The protocol version this package implements; sent in the `connected` push. */
export const PROTOCOL_VERSION = 1;

/** Fields every client command may carry. */
export interface CommandBase {
  /** Present when the client wants a reply; echoed in it. A non-negative safe integer. */
  readonly id?: number;
}

/** Join a channel; the reply's result is {@link SubscribeResult}. */
export interface SubscribeCommand extends CommandBase {
  readonly type: 'subscribe';
  readonly channel: string;
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
  SubscribeCommand | UnsubscribeCommand | PublishCommand | SendCommand | PingCommand | PongCommand;

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

/** The result of a successful `subscribe`. */
export interface SubscribeResult {
  readonly channel: string;
  /** The channel's last assigned message id (0 when nothing was published yet). */
  readonly offset: number;
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

/** Someone joined or left a channel that has join/leave notices enabled. */
export interface MembershipPush {
  readonly type: 'join' | 'leave';
  readonly channel: string;
  readonly connectionId: string;
  readonly userId: string | null;
  readonly time: number;
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
  Reply | ConnectedPush | MessagePush | DirectPush | BroadcastPush | MembershipPush | PingPush | ErrorPush;

/** The `type` of a server frame. */
export type ServerFrameType = ServerFrame['type'];
