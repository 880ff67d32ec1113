/** What an endpoint parsed from the handshake's URL for the hub, by wire dialect. */
export interface AcceptOptions {
  /** v1: resume this session if it is still within its grace period. */
  readonly sessionId?: string;
  /** Room format: the channel to join. */
  readonly room?: string;
  /** Room format: replay every message after this id (`?last_message_id=N`). */
  readonly lastMessageId?: number;
  /** Room format: the epoch `lastMessageId` belongs to (`?epoch=`), when the client knows it. */
  readonly epoch?: string;
  /** v1: the client reads several frames per WebSocket message, separated by newlines (`?batch=1`). */
  readonly batch?: boolean;
  /** SSE: the stream's channels, sorted and distinct (their order is the event id's). */
  readonly channels?: readonly string[];
  /** SSE: where the client stands (`Last-Event-ID`, or `?last_event_id=` on a first connect); opaque. */
  readonly lastEventId?: string;
  /**
   * Room format and SSE: the join was authorized before the upgrade (or the stream's response), under this
   * connection id (the hook saw it).
   */
  readonly joinAuthorizedAs?: string;
}

/**
 * Whether a user may join a room, decided before the upgrade. `connectionId` is the id the connection will
 * be opened under, reserved for the authorize hook to see; absent when no rule or hook could refuse.
 */
export interface JoinDecision {
  readonly allowed: boolean;
  readonly connectionId?: string;
}
