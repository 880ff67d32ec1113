/**
 * Riding on an HTTP server, ours or the application's: Switchboard puts its `request` and `upgrade`
 * listeners in front of the server's, answers the paths it owns and hands every other request to the
 * listeners the application registered, before or after start(); detaching puts them all back. Also the
 * request dispatch under the base path.
 */
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { ErrorCode } from '@switchboard/protocol';
import type { Logger } from '../util/logger.js';
import { ServerNotRunningError } from '../errors.js';
import type { Router } from './router.js';
import { logHttpExposure } from './exposure.js';
import type { ApiExposure } from './exposure.js';
import { sendError, sendJson } from './http-utils.js';
import { closeHttp2Connections, isHttp2Server } from './http2-server.js';

/** Switchboard's public handlers (`SwitchboardServer.handleRequest` and `handleUpgrade`). */
export interface SwitchboardHandlers {
  handleRequest(req: IncomingMessage, res: ServerResponse): boolean;
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
}

/** How Switchboard sits on a server. */
export interface Placement {
  /** Attached to the application's server with basePath '': it takes upgrades only, no request. */
  readonly attachedAtRoot: boolean;
  /** Refuses an upgrade nobody handles (404). */
  readonly endpoint: { refuseUnknownPath(socket: Duplex): void };
  readonly inFront: AttachedHandlers['inFront'];
  readonly logger: Logger;
  /** The API options the start-up lines report. */
  readonly api: ApiExposure;
}

/**
 * Put Switchboard on `server` as `placement` says and say once what it exposes; returns the function
 * that detaches it. Attached at the root, every HTTP path may be the application's (its /health, its
 * /api), so only the WebSocket upgrades at /ws and /ws/:room are taken (docs/operations.md).
 */
export function attachSwitchboard(
  server: HttpServer,
  handlers: SwitchboardHandlers,
  placement: Placement,
): () => void {
  const { attachedAtRoot, endpoint } = placement;
  const detach = attachListeners(server, {
    request: attachedAtRoot ? null : (req, res) => handlers.handleRequest(req, res),
    upgrade: (req, socket, head) => handlers.handleUpgrade(req, socket, head),
    refuseUpgrade: (socket) => endpoint.refuseUnknownPath(socket),
    inFront: placement.inFront,
  });
  logHttpExposure(placement.logger, attachedAtRoot, placement.api);
  return detach;
}

/** What Switchboard answers on the server it is attached to. */
export interface AttachedHandlers {
  /**
   * Answer a request if its path is Switchboard's; false to pass it on. Null: Switchboard takes no
   * request on this server (attached with basePath ''), so its `request` listeners are left alone.
   */
  readonly request: ((req: IncomingMessage, res: ServerResponse) => boolean) | null;
  /** Handle an upgrade if its path is Switchboard's; false to pass it on. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** Refuse an upgrade nobody handles (the server has no upgrade listener of its own). */
  refuseUpgrade(socket: Duplex): void;
  /**
   * Listeners that must stay in front of Switchboard's (the silent-socket watch): `watch` is called once
   * Switchboard's are in place and returns the function that removes them.
   */
  readonly inFront: { watch(server: HttpServer): () => void } | null;
}

/** A listener as the emitter holds it (a `once` listener is a wrapper with the original on `listener`). */
type Listener = ((...args: unknown[]) => void) & { readonly listener?: unknown };

/**
 * Put Switchboard in front of `server`'s own listeners. Returns the function that detaches it and gives
 * the application its listeners back, in their order.
 *
 * A listener the application adds later (`server.on('request', app)` after start(), Express's
 * `app.listen()` pattern turned around) would run beside Switchboard's and answer a request twice, so it
 * is adopted: the emitter announces it (`newListener`, before adding it) and a microtask moves it behind
 * Switchboard. A microtask runs before the event loop polls for I/O again, so no request can reach it
 * in between. Removing an adopted listener with `server.off()` finds nothing: detach first.
 */
export function attachListeners(server: HttpServer, handlers: AttachedHandlers): () => void {
  const chains: ListenerChain[] = [];
  const { request } = handlers;
  if (request !== null) {
    chains.push(
      new ListenerChain(server, 'request', (app) => (...args) => {
        const [req, res] = args as [IncomingMessage, ServerResponse];
        if (request(req, res)) return;
        if (app.length === 0) {
          req.resume();
          sendError(res, ErrorCode.NotFound, 'no such route');
          return;
        }
        for (const listener of app) listener.apply(server, args);
      }),
    );
  }
  chains.push(
    new ListenerChain(server, 'upgrade', (app) => (...args) => {
      const [req, socket, head] = args as [IncomingMessage, Duplex, Buffer];
      if (handlers.upgrade(req, socket, head)) return;
      if (app.length === 0) {
        handlers.refuseUpgrade(socket);
        return;
      }
      for (const listener of app) listener.apply(server, args);
    }),
  );
  // The watch's listeners are announced while `resident` is set, so they are not adopted.
  let resident: unknown[] | null = [];
  const onNewListener = (event: string | symbol, listener: unknown): void => {
    if (resident !== null) resident.push(listener);
    else for (const chain of chains) if (chain.event === event) chain.adoptSoon();
  };
  server.on('newListener', onNewListener);
  const removeInFront = handlers.inFront?.watch(server);
  for (const chain of chains) chain.keep(resident);
  resident = null;
  return () => {
    server.off('newListener', onNewListener);
    removeInFront?.();
    for (const chain of chains) chain.detach();
  };
}

/** One event's listeners: Switchboard's in front, the application's (adopted) behind it. */
class ListenerChain {
  private readonly app: Listener[] = [];
  private readonly ours: Listener;
  private kept: readonly unknown[] = [];
  private scheduled = false;
  private attached = true;

  constructor(
    private readonly server: HttpServer,
    readonly event: 'request' | 'upgrade',
    dispatch: (app: readonly Listener[]) => Listener,
  ) {
    this.ours = dispatch(this.app);
    this.adopt();
    server.on(event, this.ours);
  }

  /** Listeners that stay where they are (announced while the chain was set up). */
  keep(listeners: readonly unknown[]): void {
    this.kept = listeners;
  }

  /** Adopt whatever was just added, once the code adding it has finished. */
  adoptSoon(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      if (this.attached) this.adopt();
    });
  }

  detach(): void {
    this.attached = false;
    this.server.off(this.event, this.ours);
    for (const listener of this.app) this.server.on(this.event, listener);
    this.app.length = 0;
  }

  private adopt(): void {
    for (const listener of this.server.rawListeners(this.event) as Listener[]) {
      if (listener === this.ours || this.isKept(listener)) continue;
      // The raw listener (a `once` wrapper included) is moved as it is: it keeps its own once-only state.
      this.server.removeListener(this.event, listener);
      this.app.push(listener);
    }
  }

  private isKept(listener: Listener): boolean {
    return (
      this.kept.includes(listener) ||
      (listener.listener !== undefined && this.kept.includes(listener.listener))
    );
  }
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
  let handled: unknown;
  try {
    handled = match.handler({ req, res, url, params: match.params, route: match.route });
  } catch (error) {
    // A route that throws before its first await (Node refusing a header, say) is answered the same way:
    // thrown out of a `request` listener, it would take the process down.
    handled = Promise.reject(error);
  }
  Promise.resolve(handled).catch((error: unknown) => {
    logger.error({ err: error, path }, 'request failed');
    if (!res.headersSent) sendError(res, ErrorCode.Internal, 'internal error');
    else res.destroy();
  });
  return true;
}

/** The port `server` listens on. */
export function listenerPort(server: HttpServer): number {
  const address = server.address();
  if (address === null || typeof address === 'string')
    throw new ServerNotRunningError('server is not listening');
  return address.port;
}

/** The listening socket's accept queue unless `listenBacklog` says otherwise (Node's default is 511). */
export const DEFAULT_LISTEN_BACKLOG = 4096;

/** Where and how a server Switchboard owns listens (the createServer options of the same names). */
export interface ListenOptions {
  /** 0 picks a free port. Default 8080. */
  readonly port?: number | undefined;
  readonly host?: string | undefined;
  /** The accept queue (listen(2)'s backlog). Default {@link DEFAULT_LISTEN_BACKLOG}. */
  readonly listenBacklog?: number | undefined;
}

/** Listen as `options` say; rejects with the listen error (EADDRINUSE, ...). */
export function listen(server: HttpServer, options: ListenOptions): Promise<void> {
  const { port = 8080, host, listenBacklog: backlog = DEFAULT_LISTEN_BACKLOG } = options;
  return new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once('error', onError);
    server.listen({ port, ...(host === undefined ? {} : { host }), backlog }, () => {
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
    if (isHttp2Server(server)) closeHttp2Connections(server);
    else server.closeAllConnections();
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
