export { createServer, SwitchboardServer } from './server.js';
export type {
  ServerState,
  PublishOptions,
  SendOptions,
  DisconnectOptions,
  ServerStats,
  ChannelInfo,
  HistoryResult,
} from './server-options.js';
export {
  ADMISSION_LIMITS_OFF,
  DEFAULT_LIMITS,
  LIMIT_BOUNDS,
  resolveLimits,
} from './limits/resolved-limits.js';
export type { ResolvedLimits } from './limits/resolved-limits.js';
export type { ServerOptions } from './server-options.js';
export type { ServerHooks, DisconnectInfo, UndeliveredMessage } from './hub/hooks.js';
export {
  verifyWebhookSignature,
  signWebhook,
  SIGNATURE_HEADER,
  WEBHOOK_ID_HEADER,
} from './webhooks/webhook-signature.js';
export { Webhooks } from './webhooks/webhooks.js';
export type {
  WebhookDeadLetter,
  WebhookDeliveryOptions,
  WebhookEvent,
  WebhookFailure,
  WebhookOptions,
  WebhookTarget,
} from './webhooks/webhooks.js';
export { UndeliveredSweep, undeliveredSweepFor } from './hub/undelivered-sweep.js';
export type { OnlineStore, OfflineClaim, OfflineTransition } from './presence/online-store.js';
export { MemoryOnlineStore } from './presence/memory-online-store.js';
export type { ChannelRule } from './hub/channel.js';
export type { Engine } from './engine/engine.js';
export type { ConnectionInfo } from './hub/connection.js';
export type { WireFormat } from './hub/outbound.js';
export type { HubStats, ChannelStats } from './hub/hub.js';
export type {
  Broker,
  BrokerHandler,
  EngineHealth,
  Envelope,
  Exclusion,
  Publication,
  PublicationInput,
} from './broker/broker.js';
export { MemoryBroker } from './broker/memory-broker.js';
export type {
  Metrics,
  ApiKeyRejection,
  CloseInitiator,
  DropReason,
  GaugeSnapshot,
  LimitName,
} from './metrics/metrics.js';
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
  TlsLoadError,
  BackendUnavailableError,
} from './errors.js';
export type { TlsOptions } from './http/tls.js';
export type { TransportKind, TransportSocket, ConnectionHandle } from './transports/transport.js';
export { PreparedFrame } from './transports/transport.js';
export { frameText } from './transports/websocket-frame.js';
export { createMemoryEngine } from './engine/memory-engine.js';
export { MemorySessionStore } from './sessions/memory-session-store.js';
export type { SessionSnapshot, SessionStore } from './sessions/session-store.js';
export type { ClusterCounts, LocalCounts, NodeMembership, NodeRegistry } from './nodes/node-registry.js';
export type {
  HistoryStore,
  HistoryPolicy,
  HistoryPage,
  StoredMessage,
  Recovery,
} from './history/history-store.js';
export { MemoryHistoryStore } from './history/memory-history-store.js';
export type {
  HistoryReadLimits,
  HistoryReadLoad,
  HistoryReadRefusals,
  HistoryReadStats,
} from './history/history-read-pacing.js';
export type { MemoryHistoryStoreOptions } from './history/memory-history-store.js';
export type { MemoryEngineOptions } from './engine/memory-engine.js';
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
export { TokenAuthenticator } from './auth/token-authenticator.js';
export type { IssuedTicket, TokenAuthenticatorDependencies } from './auth/token-authenticator.js';
export type { AuthOptions, JwtAlgorithm } from './auth/auth-options.js';
export type { TicketStore } from './auth/ticket-store.js';
export { MemoryTicketStore } from './auth/memory-ticket-store.js';
export type { MemoryTicketStoreOptions } from './auth/memory-ticket-store.js';
export { APP_SUBPROTOCOL, BEARER_SUBPROTOCOL_PREFIX, redactUrl } from './auth/token-sources.js';
