export { SwitchboardClient } from './client.js';
export {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_FORMAT,
  DEFAULT_REFRESH_MARGIN_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_TOKEN_TRANSPORT,
} from './client-options.js';
export type { ClientOptions } from './client-options.js';
export type { TransportName } from './transport-picker.js';
export type { WireFormat } from './wire-format.js';
// Bytes in payloads travel to JSON clients in their JSON form, {"$base64": ...}: these read and write it.
export { BINARY_TAG, binaryTag, bytesOfTag } from '@switchboard/protocol';
export type { BinaryTag } from '@switchboard/protocol';
export type { WireStats } from './wire-stats.js';
export type { FetchLike } from './http-socket.js';
export type {
  ChannelMessage,
  ClientEvents,
  ClosedEvent,
  ConnectedInfo,
  DisconnectedEvent,
  DroppedCommand,
  DroppedEvent,
  MembershipChange,
  ReconnectingEvent,
  ServerMessage,
  TokenErrorEvent,
  TokenRefreshedEvent,
  UnauthorizedEvent,
} from './client-events.js';
export type { TokenProvider, TokenSource, TokenTransport } from './token-source.js';
export { REFRESH_RETRIES } from './token-refresher.js';
export type {
  HistoryOptions,
  NotifyCommand,
  PublishOptions,
  RequestCommand,
  RequestOptions,
  ResultOf,
  SendStatus,
} from './commands.js';
export { TransitionCode } from './connection-state.js';
export type { ConnectionState, StateChange } from './connection-state.js';
export { Subscription } from './subscription.js';
export type { SubscribeOptions } from './subscription.js';
export { SubscriptionCode } from './subscription-state.js';
export type { StateLostEvent } from './client-events.js';
export type {
  SubscribedEvent,
  SubscriptionErrorEvent,
  SubscriptionEvents,
  SubscriptionState,
  SubscriptionStateChange,
} from './subscription-state.js';
export type { NetworkEvents } from './reconnector.js';
export type { Inbox, InboxHandler, InboxMessage, InboxOpenEvent, InboxStats } from './inbox.js';
export { DEFAULT_INBOX_DEDUPE_SIZE } from './inbox-options.js';
export type { InboxOptions } from './inbox-options.js';
export { DEVICE_STORAGE_KEY } from './device-id.js';
export type {
  Consumer,
  ConsumeOptions,
  ConsumerOpenEvent,
  ConsumerState,
  Job,
  JobHandler,
} from './consumer.js';
export { TypingIndicator, TYPING_DEFAULTS } from './typing-indicator.js';
export type { TypingOptions } from './typing-indicator.js';
export type { Listener } from './emitter.js';
export type { Clock, TimerHandle } from './clock.js';
export { systemClock } from './clock.js';
export type {
  OpenEventTarget,
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
  MessageDroppedError,
  NotConnectedError,
  RequestTimeoutError,
  ServerError,
  SwitchboardClientError,
  TokenProviderError,
  UnsubscribedError,
} from './errors.js';
export { Backoff, BACKOFF_DEFAULTS } from './backoff.js';
export type { BackoffOptions } from './backoff.js';
export { SendQueue, SEND_QUEUE_DEFAULTS } from './send-queue.js';
export type { ServerUrls } from './endpoints.js';
export type { DropReason } from './errors.js';
export type {
  DropCounts,
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
