/**
 * Every HTTP route Switchboard serves under its base path: the operations routes, the ticket route (with
 * built-in JWT auth), the HTTP API behind one API-key guard, the plain-GET answers of the WebSocket
 * paths, and the Server-Sent Events streams. Routes see narrow interfaces, never the
 * server.
 */
import type { Tracing } from '../tracing/tracing.js';
import type { TokenAuthenticator } from '../auth/token-authenticator.js';
import type { Metrics } from '../metrics/metrics.js';
import type { TrustedProxies } from '../transports/client-ip.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { ApiKeyGuard } from './api-key.js';
import { addApiRoutes } from './api-routes.js';
import type { ApiOperations } from './api-routes.js';
import { addQueueRoutes } from './queue-routes.js';
import type { QueueApi } from './queue-routes.js';
import { addDeliveryRoutes } from './delivery-routes.js';
import type { DeliveryOperations } from './delivery-routes.js';
import { addWebhookRoutes } from './webhook-routes.js';
import type { WebhookLog } from './webhook-routes.js';
import { addOpsRoutes } from './ops-routes.js';
import type { OpsSource } from './ops-routes.js';
import type { Router } from './router.js';
import { addTicketRoute } from './ticket-route.js';
import { addWebSocketPathRoutes } from './websocket-endpoint.js';
import { addSseRoutes } from './sse-endpoint.js';
import type { SseAcceptor } from './sse-endpoint.js';
import { addHttpSessionRoutes } from './http-session-endpoint.js';
import type { SessionAcceptor } from './http-session-endpoint.js';
import type { Handshake } from '../transports/handshake.js';
import { addAdminRoutes } from './admin-routes.js';
import type { AdminRoutesOptions } from './admin-routes.js';

/** What the admin dashboard's routes need besides what every route has (server-admin.ts builds it). */
export type AdminParts = Pick<AdminRoutesOptions, 'api' | 'sessions' | 'checkPassword' | 'page'>;

/** What the routes are built from. */
export interface RoutesOptions {
  /** The HTTP API's key (`/api/...` and `/stats`); undefined leaves them to loopback clients. */
  readonly apiKey: string | undefined;
  /** Without a key, answer the HTTP API from the network too. */
  readonly apiInsecure: boolean;
  /** Wrong keys an address may try at once, and regains per second, before 429. */
  readonly apiKeyFailureBurst: number;
  readonly apiKeyFailureRefillPerSecond: number;
  /** The routes' prefix ('' or `/rt`). */
  readonly basePath: string;
  /** The largest API request body (bytes) and channel name. */
  readonly maxMessageBytes: number;
  readonly maxChannelLength: number;
  /** The `retry:` hint of SSE streams (ms). */
  readonly sseRetryMs: number;
  /** How long a long poll is held, and how long a polling connection may go without one (ms). */
  readonly pollTimeoutMs: number;
  /** The SSE endpoints admit streams through the handshake and hand them to the hub. */
  readonly sse: { readonly handshake: Handshake; readonly acceptor: SseAcceptor & SessionAcceptor };
  /** Serve `/metrics`; serve the demo page at `/`. */
  readonly metricsEndpoint: boolean;
  readonly demo: boolean;
  readonly ops: OpsSource;
  readonly api: ApiOperations & DeliveryOperations;
  /** The work-queue operations behind `/api/queues/...`. */
  readonly queues: QueueApi;
  /** The webhook dead-letter log behind `/api/webhooks/dead-letters`. */
  readonly webhooks: WebhookLog;
  /** The built-in JWT authenticator, which also serves `POST /auth/ticket`; null without `auth`. */
  readonly tokenAuthenticator: TokenAuthenticator | null;
  readonly trustedProxies: TrustedProxies;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly clock: Clock;
  /** A span per HTTP API request (OpenTelemetry). */
  readonly tracing: Tracing;
  /** The admin dashboard at `/admin`; null: off (its paths answer 404). */
  readonly admin: AdminParts | null;
}

/** Register every route on `router`. */
export function addRoutes(router: Router, options: RoutesOptions): void {
  const guard = new ApiKeyGuard({
    key: options.apiKey,
    insecure: options.apiInsecure,
    failureBurst: options.apiKeyFailureBurst,
    failureRefillPerSecond: options.apiKeyFailureRefillPerSecond,
    trustedProxies: options.trustedProxies,
    metrics: options.metrics,
    logger: options.logger,
    clock: options.clock,
  });
  addOpsRoutes(router, options.ops, { guard, metrics: options.metricsEndpoint, demo: options.demo });
  if (options.tokenAuthenticator !== null) addTicketRoute(router, options.tokenAuthenticator);
  const { tracing } = options;
  addApiRoutes(router, '/api', {
    api: options.api,
    guard,
    maxBodyBytes: options.maxMessageBytes,
    maxChannelLength: options.maxChannelLength,
    tracing,
  });
  addDeliveryRoutes(router, '/api', options.api, { guard, maxBodyBytes: options.maxMessageBytes, tracing });
  addQueueRoutes(router, '/api', {
    api: options.queues,
    guard,
    maxBodyBytes: options.maxMessageBytes,
    tracing,
  });
  addWebhookRoutes(router, '/api', options.webhooks, {
    guard,
    maxBodyBytes: options.maxMessageBytes,
    tracing,
  });
  const { admin, basePath, maxChannelLength, trustedProxies, logger, clock } = options;
  addAdminRoutes(
    router,
    admin === null
      ? null
      : {
          ...admin,
          basePath,
          maxBodyBytes: options.maxMessageBytes,
          maxChannelLength,
          trustedProxies,
          logger,
          clock,
        },
  );
  addWebSocketPathRoutes(router, options.basePath, options.maxChannelLength);
  addSseRoutes(router, {
    basePath: options.basePath,
    maxChannelLength: options.maxChannelLength,
    sseRetryMs: options.sseRetryMs,
    ...options.sse,
  });
  addHttpSessionRoutes(router, {
    basePath: options.basePath,
    maxMessageBytes: options.maxMessageBytes,
    pollTimeoutMs: options.pollTimeoutMs,
    sseRetryMs: options.sseRetryMs,
    handshake: options.sse.handshake,
    acceptor: options.sse.acceptor,
    clock: options.clock,
    metrics: options.metrics,
  });
}
