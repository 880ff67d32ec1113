/**
 * `GET /api/webhooks/dead-letters`: this node's webhook dead-letter log (deliveries given up on), behind
 * the same API-key guard as the rest of `/api`. Documented in docs/delivery.md and docs/openapi.yaml.
 */
import { apiHandler } from './api-handler.js';
import type { ApiHandlerDependencies } from './api-handler.js';
import type { Router } from './router.js';

/** What the route reads: the node's webhooks, through this interface only. */
export interface WebhookLog {
  /** The dead letters, oldest first. */
  deadLetters(): readonly object[];
  /** Dead letters dropped from the log because it was full. */
  readonly droppedDeadLetters: number;
}

/** Register the webhook routes under `prefix` (`/api`). */
export function addWebhookRoutes(
  router: Router,
  prefix: string,
  webhooks: WebhookLog,
  deps: ApiHandlerDependencies,
): void {
  router.add(
    'GET',
    `${prefix}/webhooks/dead-letters`,
    apiHandler(
      deps,
      // The log is in memory and bounded (webhookDelivery.deadLetterLimit): it is answered whole.
      () => Promise.resolve({ deadLetters: webhooks.deadLetters(), dropped: webhooks.droppedDeadLetters }),
      'none',
    ),
  );
}
