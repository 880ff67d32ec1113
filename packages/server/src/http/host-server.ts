/**
 * The `server` option: the application's server Switchboard attaches to. An http(s).Server as it is; a
 * Fastify instance by its `server`, with a `preClose` hook that stops Switchboard when Fastify closes;
 * anything else is refused with an error that says what to pass instead.
 */
import { Server as HttpServer } from 'node:http';
import { Server as HttpsServer } from 'node:https';
import { InvalidOptionError } from '../errors.js';

/**
 * A framework instance that owns its server and its lifecycle, as Fastify does: its `server`, and
 * `addHook('preClose', hook)`. Typed loosely so that Fastify's overloaded `addHook` fits without a
 * dependency on its types.
 */
export interface FrameworkInstance {
  readonly server: unknown;
  readonly addHook: (...args: never[]) => unknown;
}

/** What the `server` option accepts. */
export type HostServer = HttpServer | HttpsServer | FrameworkInstance;

const EXPECTED =
  'an http.Server or https.Server (what Express app.listen() and http.createServer() return), or a Fastify instance';

/**
 * The HTTP server to attach to, or undefined when `option` is (Switchboard creates its own). For a
 * Fastify instance, `stop` is registered as its `preClose` hook: Fastify's close waits for the server's
 * connections to end, WebSockets included, before its `onClose` hooks run, so a stop there would wait
 * for itself (stop() stays idempotent, so calling it from `onClose` too is harmless).
 * @throws InvalidOptionError for anything else, and for a Fastify instance already started.
 */
export function hostServer(
  option: HostServer | undefined,
  stop: () => Promise<void>,
): HttpServer | undefined {
  if (option === undefined) return undefined;
  if (isHttpServer(option)) return option as HttpServer;
  if (typeof option === 'function') {
    // An Express (or Connect, Koa's callback()) app is a request listener, not a server.
    throw new InvalidOptionError(
      'server',
      'a function',
      `${EXPECTED}; an Express app is a request handler: pass the server app.listen() returns`,
    );
  }
  const candidate = option as Partial<FrameworkInstance> | null;
  if (typeof candidate !== 'object' || candidate === null || !('server' in candidate)) {
    throw new InvalidOptionError('server', describe(option), EXPECTED);
  }
  if (!isHttpServer(candidate.server)) {
    throw new InvalidOptionError(
      'server',
      'an object whose server is not an http(s).Server',
      `${EXPECTED} (an HTTP/2 Fastify instance is not supported)`,
    );
  }
  if (typeof candidate.addHook !== 'function') {
    throw new InvalidOptionError('server', 'an object with a server but no addHook', EXPECTED);
  }
  const addHook = candidate.addHook as (name: 'preClose', hook: () => Promise<void>) => unknown;
  try {
    addHook.call(candidate, 'preClose', stop);
  } catch {
    // Fastify takes no hook once it is ready or listening (FST_ERR_INSTANCE_ALREADY_LISTENING).
    throw new InvalidOptionError(
      'server',
      'a Fastify instance that has already started',
      'one not ready or listening yet (create Switchboard before fastify.listen()), or pass fastify.server and call stop() in your own preClose hook',
    );
  }
  return candidate.server as HttpServer;
}

function isHttpServer(value: unknown): value is HttpServer | HttpsServer {
  return value instanceof HttpServer || value instanceof HttpsServer;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === 'string' && name !== '' ? `a ${name}` : 'an object';
}
