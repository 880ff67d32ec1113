/**
 * The HTTP API of guaranteed delivery (`/api/users/:userId/deliver`, the dead-letter routes), behind the
 * same API-key guard as the rest of `/api`. Documented in docs/delivery.md and docs/openapi.yaml.
 */
import { ErrorCode } from '@switchboard/protocol';
import { ApiAnswer, apiHandler } from './api-handler.js';
import type { ApiHandlerDependencies } from './api-handler.js';
import { queryInteger } from './api-routes.js';
import type { Router } from './router.js';
import { InvalidArgumentError } from '../errors.js';

/** What the delivery routes call: the server's library API, through this interface only. */
export interface DeliveryOperations {
  deliver(
    userId: string,
    data: unknown,
    options: { readonly ttlMs?: number; readonly maxAttempts?: number; readonly idempotencyKey?: string },
  ): Promise<{ readonly id: string; readonly duplicate: boolean }>;
  deadLetters(userId: string, options: { readonly limit?: number }): Promise<readonly object[]>;
  redeliverDeadLetter(userId: string, id: string): Promise<{ readonly id: string } | null>;
  deleteDeadLetter(userId: string, id: string): Promise<boolean>;
}

/** Most dead letters one `GET .../dead-letters` returns. */
const MAX_LIMIT = 1000;

/** Register the delivery routes under `prefix` (`/api`). */
export function addDeliveryRoutes(
  router: Router,
  prefix: string,
  api: DeliveryOperations,
  deps: ApiHandlerDependencies,
): void {
  router.add(
    'POST',
    `${prefix}/users/:userId/deliver`,
    apiHandler(deps, async (ctx, body) => {
      if (!('data' in body) || body['data'] === undefined)
        throw new InvalidArgumentError(ErrorCode.BadRequest, 'data is required');
      const header = ctx.req.headers['idempotency-key'];
      const idempotencyKey = body['idempotencyKey'] ?? (typeof header === 'string' ? header : undefined);
      const ttlMs = number(body, 'ttlMs');
      const maxAttempts = number(body, 'maxAttempts');
      if (idempotencyKey !== undefined && typeof idempotencyKey !== 'string')
        throw new InvalidArgumentError(ErrorCode.BadRequest, 'idempotencyKey must be a string');
      const result = await api.deliver(ctx.params['userId'] ?? '', body['data'], {
        ...(ttlMs === undefined ? {} : { ttlMs }),
        ...(maxAttempts === undefined ? {} : { maxAttempts }),
        ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
      });
      // Answered only now: the store holds the message.
      return new ApiAnswer(201, { id: result.id, duplicate: result.duplicate });
    }),
  );
  router.add(
    'GET',
    `${prefix}/users/:userId/dead-letters`,
    apiHandler(
      deps,
      async (ctx) => {
        const limit = queryInteger(ctx.url, 'limit', 1, MAX_LIMIT);
        const deadLetters = await api.deadLetters(
          ctx.params['userId'] ?? '',
          limit === undefined ? {} : { limit },
        );
        return { deadLetters };
      },
      'none',
    ),
  );
  router.add(
    'POST',
    `${prefix}/users/:userId/dead-letters/:id/redeliver`,
    apiHandler(
      deps,
      async (ctx) => {
        const redelivered = await api.redeliverDeadLetter(ctx.params['userId'] ?? '', ctx.params['id'] ?? '');
        if (redelivered === null) throw new InvalidArgumentError(ErrorCode.NotFound, 'no such dead letter');
        return { id: redelivered.id };
      },
      'optional',
    ),
  );
  router.add(
    'DELETE',
    `${prefix}/users/:userId/dead-letters/:id`,
    apiHandler(
      deps,
      async (ctx) => {
        if (!(await api.deleteDeadLetter(ctx.params['userId'] ?? '', ctx.params['id'] ?? '')))
          throw new InvalidArgumentError(ErrorCode.NotFound, 'no such dead letter');
        return new ApiAnswer(204);
      },
      'none',
    ),
  );
}

/** An optional integer field of the body. */
function number(body: Record<string, unknown>, name: string): number | undefined {
  const value = body[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value))
    throw new InvalidArgumentError(ErrorCode.BadRequest, `${name} must be an integer`);
  return value;
}
