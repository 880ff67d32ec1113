/**
 * One HTTP API route's frame: the API-key check, the JSON body (required, optional or none), the answer
 * (200 with the handler's value, or the status of an {@link ApiAnswer}), and the one error mapping of
 * errors.ts. Every `/api/...` route goes through it.
 */
import { ErrorCode } from '@switchboard/protocol';
import { refuseRequest } from './api-key.js';
import { hasBody, readJsonBody, sendError, sendJson } from './http-utils.js';
import type { RequestGuard } from './http-utils.js';
import type { RouteContext, RouteHandler } from './router.js';
import { errorReplyOf } from '../errors.js';
import type { Tracing } from '../tracing/tracing.js';

/** A JSON object body. */
export type Body = Record<string, unknown>;

/** Whether a route reads a JSON body: always, only when the request has one, or never. */
export type BodyRule = 'required' | 'optional' | 'none';

/** An answer other than 200: `201` with a body, `204` without one. */
export class ApiAnswer {
  constructor(
    readonly status: number,
    readonly body?: unknown,
  ) {}
}

/** What every API route needs. */
export interface ApiHandlerDependencies {
  /** The API key guard, or the admin dashboard's session guard. */
  readonly guard: RequestGuard;
  readonly maxBodyBytes: number;
  /** Each request in a SERVER span, child of its W3C `traceparent`; absent: none. */
  readonly tracing?: Tracing;
}

/** Wrap an API handler: its value is answered 200 (an {@link ApiAnswer}: its status), its errors mapped. */
export function apiHandler(
  deps: ApiHandlerDependencies,
  handler: (ctx: RouteContext, body: Body) => Promise<unknown>,
  bodyRule: BodyRule = 'required',
): RouteHandler {
  const answer = answerWith(deps, handler, bodyRule);
  const tracing = deps.tracing;
  if (tracing === undefined) return answer;
  return (ctx: RouteContext): Promise<void> =>
    tracing.http(ctx.req.method ?? 'POST', ctx.route ?? ctx.url.pathname, ctx.req.headers, async () => {
      await answer(ctx);
      return ctx.res.statusCode;
    });
}

function answerWith(
  deps: ApiHandlerDependencies,
  handler: (ctx: RouteContext, body: Body) => Promise<unknown>,
  bodyRule: BodyRule,
): (ctx: RouteContext) => Promise<void> {
  return async (ctx: RouteContext): Promise<void> => {
    const refusal = deps.guard.check(ctx.req);
    if (refusal !== null) {
      refuseRequest(ctx.req, ctx.res, refusal);
      return;
    }
    let body: Body = {};
    // A route whose fields are all optional accepts a bare `curl -X POST` (no body, no content-type).
    if (bodyRule === 'required' || (bodyRule === 'optional' && hasBody(ctx.req))) {
      const read = await readJsonBody(ctx.req, deps.maxBodyBytes);
      if (!read.ok) {
        sendError(ctx.res, read.code, read.message, read.status);
        return;
      }
      if (typeof read.value !== 'object' || read.value === null || Array.isArray(read.value)) {
        sendError(ctx.res, ErrorCode.BadRequest, 'body must be a JSON object');
        return;
      }
      body = read.value as Body;
    }
    try {
      const result = await handler(ctx, body);
      if (!(result instanceof ApiAnswer)) sendJson(ctx.res, 200, result);
      else if (result.body !== undefined) sendJson(ctx.res, result.status, result.body);
      else {
        ctx.res.writeHead(result.status, { 'cache-control': 'no-store' });
        ctx.res.end();
      }
    } catch (error) {
      // An unexpected error is the router's to log and answer 500.
      const reply = errorReplyOf(error);
      if (reply === null) throw error;
      if (reply.code === ErrorCode.Unavailable) ctx.res.setHeader('Retry-After', '1');
      sendError(ctx.res, reply.code, reply.message);
    }
  };
}
