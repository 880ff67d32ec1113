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
  /** Room format: the join was authorized before the upgrade, under this connection id (the hook saw it). */
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
