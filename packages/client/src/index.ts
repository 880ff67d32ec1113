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
