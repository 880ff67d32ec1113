export { createServer, SwitchboardServer } from './server.js';
export type {
  ServerState,
  PublishOptions,
  SendOptions,
  DisconnectOptions,
  ServerStats,
  ChannelInfo,
  HistoryResult,
} from './server-results.js';
export {
  ADMISSION_LIMITS_OFF,
  DEFAULT_LIMITS,
  LIMIT_BOUNDS,
  resolveLimits,
} from './limits/resolved-limits.js';
export type { ResolvedLimits } from './limits/resolved-limits.js';
export type { ServerOptions } from './server-options.js';
export type { DeliverOptions, DeliverResult, DeadLetterEntry } from './server-delivery.js';
export type { PostgresOptions } from './server-stores.js';
export type { DeliveryStoreKind, InboxOptions, QueueOptions } from './hub/guaranteed-config.js';
export type {
  DeadLetter,
  DeadLetterReason,
  DeadLettered,
  DeliverInput,
  DeliverOutcome,
  InboxLimits,
  InboxMessage,
  InboxStore,
  PendingMessage,
} from './inbox/inbox-store.js';
export { DEFAULT_INBOX_LIMITS } from './inbox/inbox-store.js';
export type {
  Claimed,
  EnqueueInput,
  EnqueueOutcome,
  QueueJob,
  QueueLimits,
  QueueStore,
} from './inbox/queue-store.js';
export { DEFAULT_QUEUE_LIMITS } from './inbox/queue-store.js';
export { MemoryInboxStore } from './inbox/memory-inbox-store.js';
export { MemoryQueueStore } from './inbox/memory-queue-store.js';
export type { ServerHooks, DisconnectInfo, DeadLetterEvent, UndeliveredMessage } from './hub/hooks.js';
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
export type { ChannelActivityStats } from './hub/channel-activity.js';
export type { RecentError } from './hub/recent-errors.js';
export type { HealthOptions, HealthReason, HealthReport } from './metrics/process-health.js';
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
  AdmissionReason,
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
  InboxFullError,
  InvalidQueueError,
  QueueFullError,
} from './errors.js';
export type { EnqueueOptions, EnqueueResult, QueueDeadLetter, QueueDepth } from './hub/queue-operations.js';
export type { Job, JobHandler, WorkerHandle } from './hub/queue-worker.js';
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
