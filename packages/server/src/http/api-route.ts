/**
 * One HTTP API route's common steps, shared by every `/api/...` route file: the API key check, the JSON
 * body (required, optional or none), the JSON answer, and the one error mapping of errors.ts (a typed
 * library error becomes its code and HTTP status; anything else is the router's 500).
 */
import { ErrorCode } from '@switchboard/protocol';
import type { RouteContext, RouteHandler } from './router.js';
import { refuseRequest } from './api-key.js';
import type { ApiKeyGuard } from './api-key.js';
import { hasBody, readJsonBody, sendError, sendJson } from './http-utils.js';
import { errorReplyOf } from '../errors.js';

/** A request's JSON body (an object). */
export type Body = Record<string, unknown>;

/** Whether a route reads a JSON body: always, only when the request has one, or never. */
export type BodyRule = 'required' | 'optional' | 'none';

/** What an API route needs: the key guard and the largest body. */
export interface ApiRouteDependencies {
  readonly guard: ApiKeyGuard;
  readonly maxBodyBytes: number;
}

/** A route handler that runs `handler` behind the API key and answers its result with `status`. */
export function apiRoute(
  deps: ApiRouteDependencies,
  handler: (ctx: RouteContext, body: Body) => Promise<unknown>,
  bodyRule: BodyRule = 'required',
  status = 200,
): RouteHandler {
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
      sendJson(ctx.res, status, await handler(ctx, body));
    } catch (error) {
      // An unexpected error is the router's to log and answer 500.
      const reply = errorReplyOf(error);
      if (reply === null) throw error;
      if (reply.code === ErrorCode.Unavailable) ctx.res.setHeader('Retry-After', '1');
      sendError(ctx.res, reply.code, reply.message);
    }
  };
}
