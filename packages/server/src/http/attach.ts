/**
 * Riding on an HTTP server, ours or the application's: Switchboard takes the server's `request` and
 * `upgrade` listeners, answers the paths it owns and hands every other request to the listeners the
 * application had registered; detaching puts them back. Also the request dispatch under the base path.
 */
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { ErrorCode } from '@switchboard/protocol';
import type { Logger } from '../util/logger.js';
import { ServerNotRunningError } from '../errors.js';
import type { Router } from './router.js';
import { sendError, sendJson } from './http-utils.js';

/** What Switchboard answers on the server it is attached to. */
export interface AttachedHandlers {
  /** Answer a request if its path is Switchboard's; false to pass it on. */
  request(req: IncomingMessage, res: ServerResponse): boolean;
  /** Handle an upgrade if its path is Switchboard's; false to pass it on. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** Refuse an upgrade nobody handles (the server has no upgrade listener of its own). */
  refuseUpgrade(socket: Duplex): void;
}

/**
 * Put Switchboard in front of `server`'s own listeners. Returns the function that detaches it and gives
 * the application its listeners back.
 */
export function attachListeners(server: HttpServer, handlers: AttachedHandlers): () => void {
  // In attach mode the application's listeners keep every path Switchboard does not own.
  const requestListeners = server.listeners('request') as ((
    req: IncomingMessage,
    res: ServerResponse,
  ) => void)[];
  const upgradeListeners = server.listeners('upgrade') as ((
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
  ) => void)[];
  server.removeAllListeners('request');
  server.removeAllListeners('upgrade');
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    if (handlers.request(req, res)) return;
    if (requestListeners.length === 0) {
      req.resume();
      sendError(res, ErrorCode.NotFound, 'no such route');
      return;
    }
    for (const listener of requestListeners) listener.call(server, req, res);
  };
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (handlers.upgrade(req, socket, head)) return;
    if (upgradeListeners.length === 0) {
      handlers.refuseUpgrade(socket);
      return;
    }
    for (const listener of upgradeListeners) listener.call(server, req, socket, head);
  };
  server.on('request', onRequest);
  server.on('upgrade', onUpgrade);
  return () => {
    server.off('request', onRequest);
    server.off('upgrade', onUpgrade);
    for (const listener of requestListeners) server.on('request', listener);
    for (const listener of upgradeListeners) server.on('upgrade', listener);
  };
}

/**
 * Answer a request if its path is one of `router`'s below `basePath`; returns false otherwise, so a
 * framework can mount Switchboard as a fallback-aware handler. A route that throws is logged and answered
 * 500 (or its response destroyed when the head was already sent).
 */
export function dispatchRequest(
  router: Router,
  basePath: string,
  logger: Logger,
  req: IncomingMessage,
  res: ServerResponse,
): boolean {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (basePath !== '' && url.pathname !== basePath && !url.pathname.startsWith(`${basePath}/`)) return false;
  const path = url.pathname.slice(basePath.length) || '/';
  const match = router.match(req.method ?? 'GET', path);
  if (match.kind === 'not-found') return false;
  if (match.kind === 'method-not-allowed') {
    req.resume();
    sendJson(
      res,
      405,
      {
        error: { code: ErrorCode.BadRequest, message: `use ${match.allowed.join(' or ')}`, temporary: false },
      },
      { allow: match.allowed.join(', ') },
    );
    return true;
  }
  Promise.resolve(match.handler({ req, res, url, params: match.params })).catch((error: unknown) => {
    logger.error({ err: error, path }, 'request failed');
    if (!res.headersSent) sendError(res, ErrorCode.Internal, 'internal error');
    else res.destroy();
  });
  return true;
}

/** Listen on `port` (0 picks a free one) and `host`; rejects with the listen error (EADDRINUSE, ...). */
export function listen(server: HttpServer, port: number, host: string | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** Stop listening and drop every open HTTP connection (ours only: an attached server is the application's). */
export function closeListener(server: HttpServer): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** The base URL of a listening server for people: `localhost` stands for every interface. */
export function listenerUrl(server: HttpServer, host: string | undefined, basePath: string): string {
  const address = server.address() as AddressInfo | null;
  if (address === null) throw new ServerNotRunningError('server is not listening');
  const shown =
    host === undefined || host === '0.0.0.0' || host === '::'
      ? 'localhost'
      : host.includes(':')
        ? `[${host}]`
        : host;
  const scheme = 'cert' in server ? 'https' : 'http';
  return `${scheme}://${shown}:${address.port}${basePath}`;
}
