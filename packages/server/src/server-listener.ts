/** The HTTP server Switchboard serves on: the application's (attached), a TLS one, or a plain one of its own. */
import { createServer as createHttpServer } from 'node:http';
import type { Server as HttpServer } from 'node:http';
import { hostServer } from './http/host-server.js';
import { httpServerOptions } from './http/http-deadlines.js';
import { guardOwnServer } from './http/silent-sockets.js';
import type { SilentSockets } from './http/silent-sockets.js';
import { TlsCertificate } from './http/tls.js';
import type { ResolvedLimits } from './limits/resolved-limits.js';
import type { ServerOptions } from './server-options.js';
import { TlsLoadError } from './errors.js';
import type { Clock } from './util/clock.js';
import type { Logger } from './util/logger.js';

/** The listener and what watches it. */
export interface Listener {
  /** False when attached to the application's server. */
  readonly ownsHttpServer: boolean;
  readonly tls: TlsCertificate | null;
  readonly http: HttpServer;
  /** The deadline and per-address count of sockets that have not spoken yet (own server only). */
  readonly silentSockets: SilentSockets | null;
}

/** Build the listener of `options` (`server`, `tls`, `http2`); `stop` stops Switchboard when a host closes. */
export function createListener(
  options: ServerOptions,
  limits: ResolvedLimits,
  stop: () => Promise<void>,
  guard: Parameters<typeof guardOwnServer>[2],
): Listener {
  const ownsHttpServer = options.server === undefined;
  const tls =
    options.tls === undefined
      ? null
      : new TlsCertificate(options.tls, httpServerOptions(limits), options.http2 === true);
  const http = hostServer(options.server, stop) ?? tls?.server ?? createHttpServer(httpServerOptions(limits));
  // Deadlines and the silent-socket watch on a server of our own only: an attached server's sockets,
  // deadlines and limits are its application's.
  const silentSockets = ownsHttpServer ? guardOwnServer(http, limits, guard) : null;
  return { ownsHttpServer, tls, http, silentSockets };
}

/**
 * Re-read the listener's `tls` files (the server's reloadTls()): rejects with {@link TlsLoadError}, still
 * serving the previous certificate, when a file is missing or bad or there is no `tls` option.
 */
export async function reloadTls(listener: Listener, logger: Logger, clock: Clock): Promise<void> {
  const tls = listener.tls;
  if (tls === null) throw new TlsLoadError('no tls option: this server has no certificate files to reload');
  const loaded = await tls.reload();
  // An expired certificate is still installed (refusing it would not bring a valid one back), but it
  // is the classic renewal incident, so it is logged louder.
  if (Date.parse(loaded.validTo) <= clock.now())
    logger.warn(loaded, 'TLS certificate loaded, but it has expired');
  else logger.info(loaded, 'TLS certificate loaded');
}
