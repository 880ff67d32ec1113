export { SwitchboardClient } from './client.js';
export { DEFAULT_REQUEST_TIMEOUT_MS } from './client-options.js';
export type { ClientOptions } from './client-options.js';
export type {
  ChannelMessage,
  ClientEvents,
  ClosedEvent,
  ConnectedInfo,
  DisconnectedEvent,
  MembershipChange,
  ServerMessage,
} from './client-events.js';
export type {
  NotifyCommand,
  PublishOptions,
  RequestCommand,
  RequestOptions,
  ResultOf,
  SendStatus,
} from './commands.js';
export { TransitionCode } from './connection-state.js';
export type { ConnectionState, StateChange } from './connection-state.js';
export type { Listener } from './emitter.js';
export type { Clock, TimerHandle } from './clock.js';
export { systemClock } from './clock.js';
export type {
  SocketCloseEvent,
  SocketMessageEvent,
  WebSocketConstructor,
  WebSocketLike,
} from './websocket-like.js';
export {
  ClientErrorCode,
  ConnectionClosedError,
  InvalidArgumentError,
  InvalidOptionError,
  NotConnectedError,
  RequestTimeoutError,
  ServerError,
  SwitchboardClientError,
} from './errors.js';
export { Backoff, BACKOFF_DEFAULTS } from './backoff.js';
export type { BackoffOptions } from './backoff.js';
export { SendQueue, SEND_QUEUE_DEFAULTS } from './send-queue.js';
export type {
  DropCounts,
  DropReason,
  DroppedItem,
  OverflowPolicy,
  SendQueueLimits,
  SendQueueOptions,
} from './send-queue.js';
export { ReconnectingWebSocket } from './reconnecting-websocket.js';
export { RECONNECTING_WEBSOCKET_DEFAULTS, defaultShouldReconnect } from './reconnecting-websocket-options.js';
export type {
  ExternalWebSocket,
  ExternalWebSocketConstructor,
  PingOptions,
  ReconnectingWebSocketOptions,
  UrlSource,
} from './reconnecting-websocket-options.js';
export type { MessageInbox } from './reconnecting-websocket-inbox.js';
export type {
  DroppedMessages,
  ReceivedMessage,
  IteratedMessage,
  OutgoingData,
  ReconnectingState,
  ReconnectingStateChange,
  ReconnectingWebSocketEvents,
  RetryScheduled,
  SendResult,
  SocketClosed,
} from './reconnecting-websocket-events.js';
