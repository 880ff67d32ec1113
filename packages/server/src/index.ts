export { createServer, SwitchboardServer } from './server.js';
export type {
  ServerState,
  PublishOptions,
  SendOptions,
  DisconnectOptions,
  ServerStats,
  ChannelInfo,
  HistoryResult,
} from './server.js';
export { DEFAULT_LIMITS, LIMIT_BOUNDS, resolveLimits } from './server-options.js';
export type {
  ServerOptions,
  ServerHooks,
  ChannelRule,
  DisconnectInfo,
  ResolvedLimits,
  Engine,
} from './server-options.js';
export type { ConnectionInfo } from './hub/connection.js';
export type { WireFormat } from './hub/outbound.js';
export type { HubStats, ChannelStats } from './hub/hub.js';
export type {
  Broker,
  BrokerHandler,
  Envelope,
  Exclusion,
  Publication,
  PublicationInput,
} from './broker/broker.js';
export { MemoryBroker } from './broker/memory-broker.js';
export type { Metrics, DropReason, GaugeSnapshot } from './metrics/metrics.js';
export { NoopMetrics } from './metrics/metrics.js';
export { PrometheusMetrics } from './metrics/prometheus-metrics.js';
export type { PrometheusMetricsOptions } from './metrics/prometheus-metrics.js';
export type { Authenticator, AuthOutcome, HandshakeRequest, Principal } from './auth/authenticator.js';
export { AnonymousAuthenticator } from './auth/authenticator.js';
export type { Clock, TimerHandle } from './util/clock.js';
export { systemClock } from './util/clock.js';
export type { Logger } from './util/logger.js';
export { silentLogger } from './util/logger.js';
export {
  SwitchboardError,
  InvalidOptionError,
  ServerNotRunningError,
  InvalidArgumentError,
  ApplicationError,
} from './errors.js';
export type { TransportKind, TransportSocket, ConnectionHandle } from './transports/transport.js';
export { createMemoryEngine } from './engine/memory-engine.js';
export type {
  HistoryStore,
  HistoryPolicy,
  HistoryPage,
  StoredMessage,
  Recovery,
} from './history/history-store.js';
export { MemoryHistoryStore } from './history/memory-history-store.js';
export type { MemoryHistoryStoreOptions } from './history/memory-history-store.js';
export type { PresenceStore, PresenceMember } from './presence/presence-store.js';
export { MemoryPresenceStore } from './presence/memory-presence-store.js';
export { Authorizer } from './auth/authorizer.js';
export type {
  AuthorizeHook,
  AuthorizationRequest,
  ChannelOperation,
  ChannelPermissions,
  Permission,
} from './auth/authorizer.js';
export type { AuthRefusal } from './auth/authenticator.js';
