/**
 * The admin dashboard at `<base>/admin` (docs/admin.md): the page and its bundle, sign-in and sign-out,
 * and the JSON API the page calls, behind the session guard (admin-session.ts). Without the `admin`
 * option every `/admin...` path answers 404 `not_available`. Every sign-in and every action is logged as
 * an audit line (`audit: "admin"`, the client address, the session). Routes see {@link AdminApi} only.
 */
import type { IncomingMessage } from 'node:http';
import { ErrorCode, channelNameProblem } from '@switchboard/protocol';
import { InvalidArgumentError } from '../errors.js';
import { limitKey } from '../limits/connection-limits.js';
import { ThrottledLog } from '../limits/throttled-log.js';
import { clientAddress } from '../transports/client-ip.js';
import type { TrustedProxies } from '../transports/client-ip.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { ApiAnswer, apiHandler } from './api-handler.js';
import type { Body, BodyRule } from './api-handler.js';
import type { AdminPage } from './admin-page.js';
import { AdminGuard, LoginThrottle, overTls, sameOrigin, sessionCookie } from './admin-session.js';
import type { AdminSession, AdminSessions } from './admin-session.js';
import { readJsonBody, sendError } from './http-utils.js';
import type { RouteContext, RouteHandler, Router } from './router.js';
import { sendStaticAsset } from './static-asset.js';

/** What the dashboard's API calls (server-admin.ts); methods throw the library's typed errors. */
export interface AdminApi {
  readonly nodeId: string;
  readonly intervalMs: number;
  /** A single-use connection token for a session ending at `sessionEnd` (ms), and its lifetime (s). */
  connectionToken(sessionEnd: number): { readonly token: string; readonly expiresIn: number };
  overview(): Promise<object>;
  search(q: string): Promise<object>;
  channel(channel: string): Promise<object>;
  user(userId: string): Promise<object>;
  publish(channel: string, data: unknown): Promise<{ readonly offset?: number }>;
  disconnectUser(userId: string, reason: string): Promise<void>;
  disconnectConnection(connectionId: string, reason: string): Promise<void>;
  /** False when the user has no such dead letter. */
  redeliver(userId: string, id: string): Promise<boolean>;
}

/** What the admin routes are built from. */
export interface AdminRoutesOptions {
  readonly api: AdminApi;
  readonly sessions: AdminSessions;
  /** Whether `password` is the admin password (in constant time). */
  checkPassword(password: string): boolean;
  /** The page and its files, once loaded at start-up; null before. */
  page(): AdminPage | null;
  readonly basePath: string;
  readonly maxBodyBytes: number;
  readonly maxChannelLength: number;
  readonly trustedProxies: TrustedProxies;
  readonly logger: Logger;
  readonly clock: Clock;
}

/** The answer of every `/admin...` path while the dashboard is off. */
const OFF = 'the admin dashboard is off: set SWITCHBOARD_ADMIN_PASSWORD (admin.password)';

/** The longest search text. */
export const MAX_SEARCH_LENGTH = 200;

/** Failed sign-ins logged: bursts of 20, then one a second, the rest counted in the next line. */
const FAILURE_LOG_RATE = { burst: 20, perSecond: 1 } as const;

/** Register the dashboard's routes, or (`options` null) the 404s of a server without it. */
export function addAdminRoutes(router: Router, options: AdminRoutesOptions | null): void {
  if (options === null) {
    const off: RouteHandler = ({ req, res }) => {
      req.resume();
      sendError(res, ErrorCode.NotAvailable, OFF, 404);
    };
    for (const method of ['GET', 'POST']) router.add(method, '/admin', off).add(method, '/admin/*path', off);
    return;
  }
  const { api, sessions, logger, clock, trustedProxies } = options;
  const guard = new AdminGuard(sessions);
  const throttle = new LoginThrottle(clock);
  const failures = new ThrottledLog(logger, 'admin: sign-in refused', FAILURE_LOG_RATE, clock.now(), 'info');
  const cookiePath = `${options.basePath}/admin`;
  const addressOf = (req: IncomingMessage): string =>
    clientAddress(req.socket.remoteAddress ?? '', req.headers['x-forwarded-for'], trustedProxies);
  const audit = (req: IncomingMessage, event: string, fields: Record<string, unknown> = {}): void => {
    const session = guard.session(req);
    logger.info(
      {
        audit: 'admin',
        event,
        address: addressOf(req),
        ...(session === undefined ? {} : { session: session.nonce.slice(0, 8) }),
        ...fields,
      },
      `admin: ${event}`,
    );
  };
  const cookie = (req: IncomingMessage, value: string | null): string =>
    sessionCookie(value, {
      path: cookiePath,
      maxAgeSeconds: Math.floor(sessions.ttl / 1000),
      secure: overTls(req, trustedProxies),
    });
  const route = (
    handler: (ctx: RouteContext, body: Body, session: AdminSession) => Promise<unknown>,
    bodyRule: BodyRule = 'none',
  ): RouteHandler =>
    apiHandler(
      { guard, maxBodyBytes: options.maxBodyBytes },
      (ctx, body) => handler(ctx, body, guard.session(ctx.req) as AdminSession),
      bodyRule,
    );
  const channelOf = (value: string | undefined): string => {
    const problem = channelNameProblem(value, options.maxChannelLength);
    if (problem !== null) throw new InvalidArgumentError(ErrorCode.InvalidChannel, problem);
    return value as string;
  };

  const servePage: RouteHandler = ({ res }) => {
    const body = options.page()?.body ?? null;
    if (body === null) {
      sendError(
        res,
        ErrorCode.NotAvailable,
        'the admin page is missing (packages/server/public/admin/index.html)',
        404,
      );
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-length': body.length,
      'content-security-policy': options.page()?.csp ?? "default-src 'none'",
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
    });
    res.end(body);
  };
  router.add('GET', '/admin', servePage);
  router.add('GET', '/admin/:file', ({ req, res, params }) => {
    const name = params['file'] ?? '';
    const asset = options.page()?.assets.get(name);
    if (asset !== undefined) sendStaticAsset(req, res, asset);
    else if (name.startsWith('admin.'))
      sendError(res, ErrorCode.NotAvailable, 'the admin bundle was not built (npm run build)', 404);
    else sendError(res, ErrorCode.NotFound, `no such file: ${name}`, 404);
  });

  router.add('POST', '/admin/login', async ({ req, res }) => {
    const address = addressOf(req);
    const key = limitKey(address);
    if (!sameOrigin(req)) {
      req.resume();
      sendError(res, ErrorCode.Forbidden, 'cross-origin request refused', 403);
      return;
    }
    const retryAfter = throttle.retryAfter(key);
    if (retryAfter > 0) {
      req.resume();
      failures.log({ audit: 'admin', event: 'login', outcome: 'throttled', address }, clock.now());
      sendError(res, ErrorCode.RateLimited, 'too many failed sign-ins from this address; retry later', 429, {
        'retry-after': String(retryAfter),
      });
      return;
    }
    const read = await readJsonBody(req, options.maxBodyBytes);
    if (!read.ok) {
      sendError(res, read.code, read.message, read.status);
      return;
    }
    const password = (read.value as { password?: unknown } | null)?.password;
    if (typeof password !== 'string') {
      sendError(res, ErrorCode.BadRequest, 'the body must be {"password": "..."}');
      return;
    }
    if (!options.checkPassword(password)) {
      throttle.failed(key);
      failures.log({ audit: 'admin', event: 'login', outcome: 'failure', address }, clock.now());
      sendError(res, ErrorCode.Unauthorized, 'wrong admin password', 401);
      return;
    }
    const { session, value } = sessions.issue();
    logger.info(
      { audit: 'admin', event: 'login', outcome: 'success', address, session: session.nonce.slice(0, 8) },
      'admin: login',
    );
    res.writeHead(204, { 'set-cookie': cookie(req, value), 'cache-control': 'no-store' });
    res.end();
  });
  router.add(
    'POST',
    '/admin/logout',
    route(async (ctx) => {
      audit(ctx.req, 'logout');
      ctx.res.setHeader('set-cookie', cookie(ctx.req, null));
      return new ApiAnswer(204);
    }, 'optional'),
  );

  router.add(
    'GET',
    '/admin/api/session',
    route(async (_ctx, _body, session) => ({
      user: 'admin',
      csrfToken: sessions.csrf(session),
      expiresAt: session.expiresAt,
      nodeId: api.nodeId,
      intervalMs: api.intervalMs,
      channel: '$admin:nodes',
    })),
  );
  router.add(
    'POST',
    '/admin/api/connect',
    route(async (ctx, _body, session) => {
      logger.debug({ audit: 'admin', event: 'connect', address: addressOf(ctx.req) }, 'admin: connect');
      return api.connectionToken(session.expiresAt);
    }, 'optional'),
  );
  router.add(
    'GET',
    '/admin/api/overview',
    route(() => api.overview()),
  );
  router.add(
    'GET',
    '/admin/api/search',
    route(async (ctx) => {
      const q = ctx.url.searchParams.get('q') ?? '';
      if (q.length < 1 || q.length > MAX_SEARCH_LENGTH)
        throw new InvalidArgumentError(
          ErrorCode.BadRequest,
          `q must be 1 to ${MAX_SEARCH_LENGTH} characters`,
        );
      return api.search(q);
    }),
  );
  router.add(
    'GET',
    '/admin/api/channels/:channel',
    route((ctx) => api.channel(channelOf(ctx.params['channel']))),
  );
  router.add(
    'GET',
    '/admin/api/users/:userId',
    route((ctx) => api.user(ctx.params['userId'] ?? '')),
  );
  router.add(
    'POST',
    '/admin/api/channels/:channel/publish',
    route(async (ctx, body) => {
      const channel = channelOf(ctx.params['channel']);
      if (!('data' in body) || body['data'] === undefined)
        throw new InvalidArgumentError(ErrorCode.BadRequest, 'data is required');
      const published = await api.publish(channel, body['data']);
      audit(ctx.req, 'publish', { channel, ...published });
      return { ok: true, ...published };
    }, 'required'),
  );
  router.add(
    'POST',
    '/admin/api/users/:userId/disconnect',
    route(async (ctx, body) => {
      const userId = ctx.params['userId'] ?? '';
      const reason = reasonOf(body);
      await api.disconnectUser(userId, reason);
      audit(ctx.req, 'disconnect_user', { userId, reason });
      return { ok: true };
    }, 'optional'),
  );
  router.add(
    'POST',
    '/admin/api/connections/:connectionId/disconnect',
    route(async (ctx, body) => {
      const connectionId = ctx.params['connectionId'] ?? '';
      const reason = reasonOf(body);
      await api.disconnectConnection(connectionId, reason);
      audit(ctx.req, 'disconnect_connection', { connectionId, reason });
      return { ok: true };
    }, 'optional'),
  );
  router.add(
    'POST',
    '/admin/api/users/:userId/dead-letters/:id/redeliver',
    route(async (ctx) => {
      const userId = ctx.params['userId'] ?? '';
      const id = ctx.params['id'] ?? '';
      if (!(await api.redeliver(userId, id)))
        throw new InvalidArgumentError(ErrorCode.NotFound, 'no such dead letter');
      audit(ctx.req, 'redeliver', { userId, id });
      return { ok: true };
    }, 'optional'),
  );
}

/** The close reason of a disconnect: default "disconnected by an administrator", at most 123 bytes. */
function reasonOf(body: Body): string {
  const reason = body['reason'] ?? 'disconnected by an administrator';
  if (typeof reason !== 'string' || Buffer.byteLength(reason) > 123)
    throw new InvalidArgumentError(ErrorCode.BadRequest, 'reason must be a string of at most 123 bytes');
  return reason;
}
