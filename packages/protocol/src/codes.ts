/**
 * Close codes and error codes of wire protocol v1.
 *
 * Close-code ranges tell a client whether to reconnect without a table lookup:
 * - 4000-4499: Switchboard codes after which a client SHOULD reconnect (with backoff);
 * - 4500-4999: Switchboard codes after which a client MUST NOT reconnect on its own;
 * - 1000-2999: the RFC 6455 codes, each listed in {@link CLOSE_CODE_INFO} with its advice;
 *   any other code below 4000 is treated as "reconnect" (a dropped transport).
 * The split at x500 follows Centrifugo's convention, which client authors already know.
 */
export const CloseCode = {
  /** The client asked to close, or the server ended the connection normally. */
  Normal: 1000,
  /** The server is shutting down or restarting; reconnect (to another node). */
  GoingAway: 1001,
  /** The peer broke the WebSocket protocol itself (set by the ws library). */
  ProtocolError: 1002,
  /** A binary frame arrived on a JSON connection, or a text frame on a MessagePack one. */
  UnsupportedData: 1003,
  /** The connection dropped without a close frame (never sent on the wire). */
  Abnormal: 1006,
  /** A text frame was not valid UTF-8. */
  InvalidFramePayload: 1007,
  /** A policy violation: a message in more than 16,384 fragments (set by the ws library). */
  PolicyViolation: 1008,
  /** A message was larger than the server's limit, in one frame or in fragments (set by the ws library). */
  MessageTooBig: 1009,
  /** The server hit an unexpected error. */
  InternalError: 1011,
  /**
   * The server is draining (a deploy, a restart): reconnect, to another node if there is one, after the
   * delay its reason hints (`retry after <n> ms`, close-hint.ts).
   */
  ServiceRestart: 1012,
  /** The server is overloaded; reconnect later with backoff. */
  TryAgainLater: 1013,
  /** No application frame arrived from the client within the heartbeat timeout (docs/protocol.md#heartbeats). */
  HeartbeatTimeout: 4000,
  /** The client read too slowly: its outbound buffer stayed over the limit, or it did not read what it was sent. */
  SlowConsumer: 4001,
  /** The server asks the client to reconnect (for example to rebalance nodes). */
  ForceReconnect: 4002,
  /** The client sent more than its rate limit allows (text frames and WebSocket pings alike). */
  RateLimited: 4003,
  /** The client's credentials expired; reconnect with fresh ones. */
  TokenExpired: 4004,
  /** A newer connection took over this session. */
  Replaced: 4500,
  /** The client sent too many invalid frames in a short time. */
  TooManyErrors: 4501,
  /** The server or the application disconnected the client and does not want it back. */
  Kicked: 4502,
  /** The room the client tried to join is at its member limit. */
  ChannelFull: 4503,
  /** Authentication failed or is missing. */
  Unauthorized: 4504,
  /** The client is not allowed to use this endpoint or channel. */
  Forbidden: 4505,
  /** The client did not complete its handshake in time. */
  HandshakeTimeout: 4506,
  /** The user or address holds as many connections as the server allows. */
  ConnectionLimit: 4507,
} as const;

/** One of the close codes in {@link CloseCode}. */
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** What a close code means and whether the client should reconnect after it. */
export interface CloseCodeInfo {
  readonly name: string;
  readonly reconnect: boolean;
  readonly description: string;
}

/** Documentation for every close code Switchboard sends; docs/codes.md is checked against it. */
export const CLOSE_CODE_INFO: Readonly<Record<CloseCode, CloseCodeInfo>> = {
  1000: {
    name: 'normal',
    reconnect: false,
    description: 'Normal closure: the client or server ended the session on purpose.',
  },
  1001: { name: 'going_away', reconnect: true, description: 'The server is shutting down or restarting.' },
  1002: {
    name: 'protocol_error',
    reconnect: false,
    description: 'The WebSocket protocol itself was violated.',
  },
  1003: {
    name: 'unsupported_data',
    reconnect: false,
    description:
      'A binary frame arrived on a JSON connection, or a text frame on a MessagePack one (`switchboard.v1.msgpack`).',
  },
  1006: {
    name: 'abnormal',
    reconnect: true,
    description: 'The transport dropped without a close frame (local only, never sent).',
  },
  1007: { name: 'invalid_frame_payload', reconnect: false, description: 'A text frame was not valid UTF-8.' },
  1008: {
    name: 'policy_violation',
    reconnect: false,
    description: 'The connection broke a server policy: a message came in more than 16,384 fragments.',
  },
  1009: {
    name: 'message_too_big',
    reconnect: false,
    description: 'A message exceeded the maximum message size, in one frame or in fragments.',
  },
  1011: { name: 'internal_error', reconnect: true, description: 'The server hit an unexpected error.' },
  1012: {
    name: 'service_restart',
    reconnect: true,
    description:
      'The server is draining (restart, deploy): reconnect to another node after the `retry after <n> ms` the reason ends with.',
  },
  1013: {
    name: 'try_again_later',
    reconnect: true,
    description: 'The server is overloaded; reconnect later with backoff.',
  },
  4000: {
    name: 'heartbeat_timeout',
    reconnect: true,
    description:
      'Nothing from the client application (a pong, any message) arrived within the heartbeat timeout.',
  },
  4001: {
    name: 'slow_consumer',
    reconnect: true,
    description:
      'The client read too slowly: its outbound buffer stayed over its limit, or what it was sent went unread.',
  },
  4002: {
    name: 'force_reconnect',
    reconnect: true,
    description: 'The server asked the client to reconnect.',
  },
  4003: {
    name: 'rate_limited',
    reconnect: true,
    description: 'The client exceeded its rate limit (WebSocket pings count); reconnect with backoff.',
  },
  4004: {
    name: 'token_expired',
    reconnect: true,
    description: 'The credentials expired; reconnect with fresh ones.',
  },
  4500: {
    name: 'replaced',
    reconnect: false,
    description: 'A newer connection for the same session replaced this one.',
  },
  4501: {
    name: 'too_many_errors',
    reconnect: false,
    description: 'Too many invalid frames in a short time.',
  },
  4502: {
    name: 'kicked',
    reconnect: false,
    description: 'The server or application disconnected the client.',
  },
  4503: { name: 'channel_full', reconnect: false, description: 'The room is at its member limit.' },
  4504: { name: 'unauthorized', reconnect: false, description: 'Authentication failed or is missing.' },
  4505: {
    name: 'forbidden',
    reconnect: false,
    description: 'The client may not use this endpoint or channel.',
  },
  4506: {
    name: 'handshake_timeout',
    reconnect: false,
    description: 'The handshake or first message did not arrive in time.',
  },
  4507: {
    name: 'connection_limit',
    reconnect: false,
    description: 'The user or address already holds as many connections as allowed.',
  },
};

/**
 * Whether a client should reconnect after the server closed with `code`.
 * Unknown codes follow the ranges: 4500-4999 stop, everything else reconnects.
 */
export function shouldReconnect(code: number): boolean {
  const info = (CLOSE_CODE_INFO as Readonly<Record<number, CloseCodeInfo | undefined>>)[code];
  if (info !== undefined) return info.reconnect;
  return !(code >= 4500 && code <= 4999);
}

/** Stable string codes carried by error replies and error pushes. */
export const ErrorCode = {
  /** The frame was not valid JSON (on a MessagePack connection: not one valid MessagePack value). */
  InvalidJson: 'invalid_json',
  /** The frame was JSON (or MessagePack) but not a command object (for example an array or a number). */
  InvalidFrame: 'invalid_frame',
  /** The command's `type` is missing or unknown. */
  UnknownCommand: 'unknown_command',
  /**
   * A field is missing or has the wrong type or value; also a payload JSON cannot carry intact (nested
   * more than 64 levels, or holding a number out of range such as 1e309).
   */
  BadRequest: 'bad_request',
  /** The channel name breaks the naming rules (length, characters). */
  InvalidChannel: 'invalid_channel',
  /** The work-queue name breaks the naming rules (length, characters). */
  InvalidQueue: 'invalid_queue',
  /** The user's inbox holds its maximum messages or bytes; retry once the user has read some. */
  InboxFull: 'inbox_full',
  /** The work queue holds its maximum jobs; retry once consumers have caught up. */
  QueueFull: 'queue_full',
  /** The connection is already subscribed to that channel. */
  AlreadySubscribed: 'already_subscribed',
  /** The connection is not subscribed to that channel. */
  NotSubscribed: 'not_subscribed',
  /** The channel is at its member limit. */
  ChannelFull: 'channel_full',
  /** The connection holds its maximum number of subscriptions. */
  TooManySubscriptions: 'too_many_subscriptions',
  /** The request was rejected by a rate limit; retry later. */
  RateLimited: 'rate_limited',
  /** The message exceeds the size limit. */
  MessageTooLarge: 'message_too_large',
  /** Authentication is missing or invalid. */
  Unauthorized: 'unauthorized',
  /** The caller is not allowed to do this. */
  PermissionDenied: 'permission_denied',
  /**
   * A request refused as possibly cross-site (the admin dashboard's POSTs): its origin is not the
   * server's, or its CSRF token is missing or wrong.
   */
  Forbidden: 'forbidden',
  /** The credentials expired; refresh them (the `refresh` command) or reconnect with fresh ones. */
  TokenExpired: 'token_expired',
  /** The target (user, connection, route) does not exist. */
  NotFound: 'not_found',
  /** The operation is not available (for example no application handler is installed). */
  NotAvailable: 'not_available',
  /** The application's handler rejected the request. */
  ApplicationError: 'application_error',
  /** A dependency is unavailable; retry later. */
  Unavailable: 'unavailable',
  /** The server is shutting down; retry on another node. */
  ShuttingDown: 'shutting_down',
  /** An unexpected server error. */
  Internal: 'internal',
} as const;

/** One of the error codes in {@link ErrorCode}. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** What an error code means, whether retrying may succeed, and the HTTP status the server API uses. */
export interface ErrorCodeInfo {
  readonly temporary: boolean;
  readonly httpStatus: number;
  readonly description: string;
}

/** Documentation for every error code; docs/codes.md is checked against it. */
export const ERROR_CODE_INFO: Readonly<Record<ErrorCode, ErrorCodeInfo>> = {
  invalid_json: {
    temporary: false,
    httpStatus: 400,
    description:
      'The frame or request body is not valid JSON; on a MessagePack connection, the frame is not exactly one MessagePack value of the types protocol v1 allows (no extension types, string map keys only).',
  },
  invalid_frame: {
    temporary: false,
    httpStatus: 400,
    description: 'The JSON value (or MessagePack value) is not a command object.',
  },
  unknown_command: {
    temporary: false,
    httpStatus: 400,
    description: 'The command type is missing or unknown.',
  },
  bad_request: {
    temporary: false,
    httpStatus: 400,
    description:
      'A field is missing or has the wrong type or value, or `data` cannot travel as JSON intact (nested more than 64 levels, or a number out of range such as 1e309).',
  },
  invalid_channel: {
    temporary: false,
    httpStatus: 400,
    description: 'The channel name breaks the naming rules.',
  },
  invalid_queue: {
    temporary: false,
    httpStatus: 400,
    description: 'The work-queue name breaks the naming rules.',
  },
  inbox_full: {
    temporary: true,
    httpStatus: 507,
    description: "The user's inbox holds its maximum messages or bytes; retry once the user has read some.",
  },
  queue_full: {
    temporary: true,
    httpStatus: 507,
    description: 'The work queue holds its maximum jobs; retry once consumers have caught up.',
  },
  already_subscribed: {
    temporary: false,
    httpStatus: 409,
    description: 'Already subscribed to this channel.',
  },
  not_subscribed: { temporary: false, httpStatus: 409, description: 'Not subscribed to this channel.' },
  channel_full: { temporary: true, httpStatus: 409, description: 'The channel is at its member limit.' },
  too_many_subscriptions: {
    temporary: false,
    httpStatus: 409,
    description: 'The connection holds its maximum number of subscriptions.',
  },
  rate_limited: {
    temporary: true,
    httpStatus: 429,
    description: 'A rate limit rejected the request; retry later.',
  },
  message_too_large: {
    temporary: false,
    httpStatus: 413,
    description: 'The message exceeds the size limit.',
  },
  unauthorized: { temporary: false, httpStatus: 401, description: 'Authentication is missing or invalid.' },
  permission_denied: {
    temporary: false,
    httpStatus: 403,
    description: 'The caller is not allowed to do this.',
  },
  forbidden: {
    temporary: false,
    httpStatus: 403,
    description:
      "An admin dashboard request refused as possibly cross-site: its origin is not the server's, or its CSRF token is missing or wrong.",
  },
  token_expired: {
    temporary: false,
    httpStatus: 401,
    description: 'The credentials expired; refresh them or reconnect with fresh ones.',
  },
  not_found: { temporary: false, httpStatus: 404, description: 'The target does not exist.' },
  not_available: {
    temporary: false,
    httpStatus: 501,
    description: 'The operation is not available on this server.',
  },
  application_error: {
    temporary: false,
    httpStatus: 422,
    description: "The application's handler rejected the request.",
  },
  unavailable: { temporary: true, httpStatus: 503, description: 'A dependency is unavailable; retry later.' },
  shutting_down: {
    temporary: true,
    httpStatus: 503,
    description: 'The server is shutting down; retry on another node.',
  },
  internal: { temporary: true, httpStatus: 500, description: 'An unexpected server error.' },
};

/** Whether `value` is one of the protocol's error codes. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODE_INFO, value);
}
