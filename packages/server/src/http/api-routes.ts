/**
 * The server HTTP API (`/api/...`): any backend, in any language, publishes and sends through it.
 * Documented in docs/http-api.md.
 */
import { ErrorCode, MAX_HISTORY_LIMIT, channelNameProblem } from '@switchboard/protocol';
import type { Router, RouteContext, RouteHandler } from './router.js';
import type { RequestGuard } from './http-utils.js';
import { apiHandler } from './api-handler.js';
import type { Body, BodyRule } from './api-handler.js';
import type { Exclusion } from '../broker/broker.js';
import { InvalidArgumentError } from '../errors.js';
import type { Tracing } from '../tracing/tracing.js';
import { RESERVED_CHANNEL_PREFIX, isReservedChannel } from '../auth/admin-principal.js';

/** How connections are closed through the API. */
interface CloseArgs {
  readonly code: number;
  readonly reason: string;
}

/**
 * What the API routes call: the server's library API, through this interface only. Methods throw the
 * library's typed errors (InvalidArgumentError, ServerNotRunningError, BackendUnavailableError), which the
 * routes answer through the one error mapping of errors.ts.
 */
export interface ApiOperations {
  publish(
    channel: string,
    data: unknown,
    options: { readonly ephemeral: boolean; readonly exclude?: Exclusion; readonly idempotencyKey?: string },
  ): Promise<object>;
  broadcast(data: unknown, options: { readonly exclude?: Exclusion }): Promise<void>;
  sendToUser(userId: string, data: unknown, options: { readonly exclude?: Exclusion }): Promise<void>;
  sendToConnection(connectionId: string, data: unknown): Promise<void>;
  disconnectUser(userId: string, options: CloseArgs): Promise<void>;
  disconnectConnection(connectionId: string, options: CloseArgs): Promise<void>;
  stats(): object;
  channelInfo(channel: string): Promise<object>;
  history(channel: string, options: { readonly since?: number; readonly limit?: number }): Promise<object>;
  presence(channel: string): Promise<readonly object[]>;
  presenceStats(channel: string): Promise<object>;
  completeChannel(channel: string): Promise<object>;
}

/** Everything the API routes need. */
export interface ApiDependencies {
  readonly api: ApiOperations;
  readonly guard: RequestGuard;
  readonly maxBodyBytes: number;
  readonly maxChannelLength: number;
  /** A span per request; absent: none. */
  readonly tracing?: Tracing;
}

/** A bad field of a request: answered with its code (400 for most). */
function badInput(code: ErrorCode, message: string): InvalidArgumentError {
  return new InvalidArgumentError(code, message);
}

/** The refusal of a write to a reserved channel (`$admin:...`): 403 `permission_denied`. */
export function reservedChannel(channel: string): InvalidArgumentError {
  return new InvalidArgumentError(
    ErrorCode.PermissionDenied,
    `${channel} is reserved: channels starting with ${RESERVED_CHANNEL_PREFIX} are the server's own`,
  );
}

function exclusionOf(body: Body): Exclusion | undefined {
  const value = body['exclude'];
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badInput(ErrorCode.BadRequest, 'exclude must be an object');
  }
  const { connectionId, userId } = value as Body;
  if (connectionId !== undefined && typeof connectionId !== 'string') {
    throw badInput(ErrorCode.BadRequest, 'exclude.connectionId must be a string');
  }
  if (userId !== undefined && typeof userId !== 'string')
    throw badInput(ErrorCode.BadRequest, 'exclude.userId must be a string');
  return {
    ...(connectionId === undefined ? {} : { connectionId }),
    ...(userId === undefined ? {} : { userId }),
  };
}

function dataOf(body: Body): unknown {
  if (!('data' in body) || body['data'] === undefined)
    throw badInput(ErrorCode.BadRequest, 'data is required');
  return body['data'];
}

function closeOf(body: Body): { code: number; reason: string } {
  const code = body['code'] ?? 4502;
  const reason = body['reason'] ?? 'disconnected by the server';
  if (typeof code !== 'number' || !Number.isInteger(code) || code < 4000 || code > 4999) {
    throw badInput(ErrorCode.BadRequest, 'code must be an integer from 4000 to 4999');
  }
  if (typeof reason !== 'string' || Buffer.byteLength(reason) > 123) {
    throw badInput(ErrorCode.BadRequest, 'reason must be a string of at most 123 bytes');
  }
  return { code, reason };
}

/** Register the API routes under `prefix` (for example `/api`). */
export function addApiRoutes(router: Router, prefix: string, deps: ApiDependencies): void {
  const server = deps.api;

  const guarded = (
    handler: (ctx: RouteContext, body: Body) => Promise<unknown>,
    bodyRule: BodyRule = 'required',
  ): RouteHandler => apiHandler(deps, handler, bodyRule);

  const channelOf = (value: unknown): string => {
    const problem = channelNameProblem(value, deps.maxChannelLength);
    if (problem !== null) throw badInput(ErrorCode.InvalidChannel, problem);
    return value as string;
  };
  // Reserved channels (`$admin:...`) are the server's own: the API may read them, never write them.
  const writableChannelOf = (value: unknown): string => {
    const channel = channelOf(value);
    if (isReservedChannel(channel)) throw reservedChannel(channel);
    return channel;
  };

  router.add(
    'POST',
    `${prefix}/publish`,
    guarded(async (ctx, body) => {
      const channel = writableChannelOf(body['channel']);
      const ephemeral = body['ephemeral'] ?? false;
      if (typeof ephemeral !== 'boolean') throw badInput(ErrorCode.BadRequest, 'ephemeral must be a boolean');
      const data = dataOf(body);
      const exclude = exclusionOf(body);
      const header = ctx.req.headers['idempotency-key'];
      const idempotencyKey = body['idempotencyKey'] ?? (typeof header === 'string' ? header : undefined);
      if (idempotencyKey !== undefined && typeof idempotencyKey !== 'string')
        throw badInput(ErrorCode.BadRequest, 'idempotencyKey must be a string');
      return server.publish(channel, data, {
        ephemeral,
        ...(exclude === undefined ? {} : { exclude }),
        ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
      });
    }),
  );
  router.add(
    'POST',
    `${prefix}/broadcast`,
    guarded(async (_ctx, body) => {
      const data = dataOf(body);
      const exclude = exclusionOf(body);
      await server.broadcast(data, exclude === undefined ? {} : { exclude });
      return {};
    }),
  );
  router.add(
    'POST',
    `${prefix}/users/:userId/send`,
    guarded(async (ctx, body) => {
      const data = dataOf(body);
      const exclude = exclusionOf(body);
      await server.sendToUser(ctx.params['userId'] ?? '', data, exclude === undefined ? {} : { exclude });
      return {};
    }),
  );
  router.add(
    'POST',
    `${prefix}/connections/:connectionId/send`,
    guarded(async (ctx, body) => {
      await server.sendToConnection(ctx.params['connectionId'] ?? '', dataOf(body));
      return {};
    }),
  );
  router.add(
    'POST',
    `${prefix}/users/:userId/disconnect`,
    guarded(async (ctx, body) => {
      await server.disconnectUser(ctx.params['userId'] ?? '', closeOf(body));
      return {};
    }, 'optional'),
  );
  router.add(
    'POST',
    `${prefix}/connections/:connectionId/disconnect`,
    guarded(async (ctx, body) => {
      await server.disconnectConnection(ctx.params['connectionId'] ?? '', closeOf(body));
      return {};
    }, 'optional'),
  );
  router.add(
    'POST',
    `${prefix}/channels/:channel/complete`,
    guarded(async (ctx) => {
      const channel = writableChannelOf(ctx.params['channel']);
      return { channel, ...(await server.completeChannel(channel)) };
    }, 'optional'),
  );
  router.add(
    'GET',
    `${prefix}/stats`,
    guarded(() => Promise.resolve(server.stats()), 'none'),
  );
  router.add(
    'GET',
    `${prefix}/channels/:channel`,
    guarded(async (ctx) => {
      const channel = channelOf(ctx.params['channel']);
      return server.channelInfo(channel);
    }, 'none'),
  );
  router.add(
    'GET',
    `${prefix}/channels/:channel/history`,
    guarded(async (ctx) => {
      const channel = channelOf(ctx.params['channel']);
      const since = queryInteger(ctx.url, 'since', 0, Number.MAX_SAFE_INTEGER);
      const limit = queryInteger(ctx.url, 'limit', 1, MAX_HISTORY_LIMIT);
      return server.history(channel, {
        ...(since === undefined ? {} : { since }),
        ...(limit === undefined ? {} : { limit }),
      });
    }, 'none'),
  );
  router.add(
    'GET',
    `${prefix}/channels/:channel/presence`,
    guarded(async (ctx) => {
      const channel = channelOf(ctx.params['channel']);
      return { channel, users: await server.presence(channel) };
    }, 'none'),
  );
  router.add(
    'GET',
    `${prefix}/channels/:channel/presence/stats`,
    guarded(async (ctx) => {
      const channel = channelOf(ctx.params['channel']);
      return { channel, ...(await server.presenceStats(channel)) };
    }, 'none'),
  );
}

/** An optional integer query parameter within bounds; a malformed one is a 400. */
export function queryInteger(url: URL, name: string, min: number, max: number): number | undefined {
  const raw = url.searchParams.get(name);
  if (raw === null) return undefined;
  const value = Number(raw);
  if (!/^\d{1,16}$/.test(raw) || value < min || value > max) {
    throw badInput(ErrorCode.BadRequest, `${name} must be an integer from ${min} to ${max}`);
  }
  return value;
}
