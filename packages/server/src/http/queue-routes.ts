/**
 * The work-queue routes of the HTTP API (docs/http-api.md, docs/delivery.md): enqueue, depth, and dead
 * letters (list, redeliver, delete). The library API does the checking; these routes read the request.
 */
import { ErrorCode } from '@switchboard/protocol';
import type { Router } from './router.js';
import { ApiAnswer, apiHandler } from './api-handler.js';
import type { ApiHandlerDependencies, Body } from './api-handler.js';
import { InvalidArgumentError } from '../errors.js';

/**
 * What the queue routes call: the work-queue operations of the library API (hub/queue-operations.ts).
 * Methods throw the library's typed errors.
 */
export interface QueueApi {
  enqueue(
    queue: string,
    data: unknown,
    options: { readonly maxAttempts?: number; readonly ttlMs?: number; readonly idempotencyKey?: string },
  ): Promise<{ readonly id: string; readonly duplicate: boolean }>;
  depth(queue: string): Promise<object>;
  deadLetters(queue: string, limit?: number): Promise<readonly object[]>;
  redeliverDeadLetter(queue: string, id: string): Promise<{ readonly id: string } | null>;
  deleteDeadLetter(queue: string, id: string): Promise<boolean>;
}

/** What the queue routes need. */
export interface QueueRouteDependencies extends ApiHandlerDependencies {
  readonly api: QueueApi;
}

function notFound(message: string): InvalidArgumentError {
  return new InvalidArgumentError(ErrorCode.NotFound, message);
}

/** A numeric body field, passed on as it is (the library checks its range); absent stays absent. */
function numberField(body: Body, name: string): number | undefined {
  const value = body[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'number')
    throw new InvalidArgumentError(ErrorCode.BadRequest, `${name} must be an integer`);
  return value;
}

/** Register the queue routes under `prefix` (`/api`). */
export function addQueueRoutes(router: Router, prefix: string, deps: QueueRouteDependencies): void {
  const api = deps.api;
  const base = `${prefix}/queues/:queue`;
  router.add(
    'POST',
    `${base}/enqueue`,
    apiHandler(
      deps,
      async (ctx, body) => {
        if (!('data' in body) || body['data'] === undefined)
          throw new InvalidArgumentError(ErrorCode.BadRequest, 'data is required');
        const header = ctx.req.headers['idempotency-key'];
        const idempotencyKey = body['idempotencyKey'] ?? (typeof header === 'string' ? header : undefined);
        if (idempotencyKey !== undefined && typeof idempotencyKey !== 'string')
          throw new InvalidArgumentError(ErrorCode.BadRequest, 'idempotencyKey must be a string');
        const maxAttempts = numberField(body, 'maxAttempts');
        const ttlMs = numberField(body, 'ttlMs');
        const stored = await api.enqueue(ctx.params['queue'] ?? '', body['data'], {
          ...(maxAttempts === undefined ? {} : { maxAttempts }),
          ...(ttlMs === undefined ? {} : { ttlMs }),
          ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
        });
        return new ApiAnswer(201, stored);
      },
      'required',
    ),
  );
  router.add(
    'GET',
    base,
    apiHandler(deps, (ctx) => api.depth(ctx.params['queue'] ?? ''), 'none'),
  );
  router.add(
    'GET',
    `${base}/dead-letters`,
    apiHandler(
      deps,
      async (ctx) => {
        const queue = ctx.params['queue'] ?? '';
        const raw = ctx.url.searchParams.get('limit');
        if (raw !== null && !/^\d{1,7}$/.test(raw))
          throw new InvalidArgumentError(ErrorCode.BadRequest, 'limit must be an integer from 1 to 1000');
        const letters = await api.deadLetters(queue, raw === null ? undefined : Number(raw));
        return { queue, deadLetters: letters };
      },
      'none',
    ),
  );
  router.add(
    'POST',
    `${base}/dead-letters/:id/redeliver`,
    apiHandler(
      deps,
      async (ctx) => {
        const queue = ctx.params['queue'] ?? '';
        const id = ctx.params['id'] ?? '';
        const redelivered = await api.redeliverDeadLetter(queue, id);
        if (redelivered === null) throw notFound(`no dead letter ${id} in queue ${queue}`);
        return redelivered;
      },
      'optional',
    ),
  );
  router.add(
    'DELETE',
    `${base}/dead-letters/:id`,
    apiHandler(
      deps,
      async (ctx) => {
        const queue = ctx.params['queue'] ?? '';
        const id = ctx.params['id'] ?? '';
        if (!(await api.deleteDeadLetter(queue, id)))
          throw notFound(`no dead letter ${id} in queue ${queue}`);
        return {};
      },
      'none',
    ),
  );
}
