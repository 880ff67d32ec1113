/**
 * The running part of the CLI: start the server, log its URL once, turn SIGTERM / SIGINT into a drain
 * (connections closed in batches over `drainMs` with 1012 and a reconnect hint, then a graceful stop)
 * followed by exit 0, and SIGHUP into a TLS reload.
 */
import { TlsLoadError } from '../errors.js';
import { createServer } from '../server.js';
import type { ServerOptions } from '../server-options.js';
import type { Engine } from '../engine/engine.js';
import type { Logger } from '../util/logger.js';
import { idleStreamTtlMs } from '../limits/resolved-limits.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, exitWithMessage } from './exit.js';
import type { CliConfig } from './parse-options.js';
import type { ResolvedLimits } from '../limits/resolved-limits.js';

/**
 * Extra time past shutdownTimeoutMs before a hung stop is abandoned: after the connection drain, stop()
 * still closes the broker and the HTTP server, which normally takes milliseconds.
 */
export const SHUTDOWN_MARGIN_MS = 5000;

/** How long a signalled process may take to exit: the drain window, the stop's wait, and the margin. */
export function stopDeadlineMs(limits: Pick<ResolvedLimits, 'drainMs' | 'shutdownTimeoutMs'>): number {
  return limits.drainMs + limits.shutdownTimeoutMs + SHUTDOWN_MARGIN_MS;
}

/** Start serving `config`; every way out of the process from here on goes through process.exit. */
export async function serve(config: CliConfig, logger: Logger): Promise<void> {
  let engine: Engine | undefined;
  if (config.redis !== undefined) {
    // Loaded only when asked for: the in-memory default never pays for the Redis client.
    const { createRedisEngine } = await import('../engine/redis-engine.js');
    // The inbox and queue bounds of the delivery options bound the Redis stores too.
    const { inbox, queues } = config.server;
    engine = createRedisEngine({
      ...config.redis,
      streamTtlMs: idleStreamTtlMs(config.limits),
      logger,
      ...(inbox?.limits === undefined ? {} : { inboxLimits: inbox.limits }),
      ...(queues?.limits === undefined ? {} : { queueLimits: queues.limits }),
    });
  }
  const server = createServer({ ...config.server, logger, ...(engine === undefined ? {} : { engine }) });
  try {
    await server.start();
  } catch (error) {
    // A certificate that cannot be loaded at start-up is configuration, like an unreadable API key file.
    exitWithMessage(
      error instanceof TlsLoadError ? EXIT_USAGE : EXIT_FAILURE,
      describeStartError(error, config.server),
    );
  }
  // Installed only once listening: stopping a half-started server would race its listen(), and a
  // signal before this point finds nothing to drain, so the default (die at once) is right.
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting without waiting for connections');
      process.exit(EXIT_FAILURE);
    }
    stopping = true;
    logger.info({ signal }, 'switchboard stopping');
    const deadlineMs = stopDeadlineMs(config.limits);
    setTimeout(() => {
      logger.error({ deadlineMs }, 'shutdown did not finish in time: exiting anyway');
      process.exit(EXIT_FAILURE);
    }, deadlineMs);
    // A drain, not a plain stop: the connections leave in batches, so the other nodes see a trickle of
    // reconnects instead of a storm (docs/operations.md#draining).
    server.drain().then(
      () => {
        logger.info({}, 'switchboard stopped');
        process.exit(EXIT_OK);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(EXIT_FAILURE);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // SIGHUP re-reads the certificate (nginx's convention), so a renewal needs no restart. Handled even
  // without TLS: Node's default for SIGHUP is to die, and a habitual `kill -HUP` must not stop a server.
  process.on('SIGHUP', () => {
    if (config.server.tls === undefined) {
      logger.warn({ signal: 'SIGHUP' }, 'nothing to reload: TLS is not configured');
      return;
    }
    logger.info({ signal: 'SIGHUP' }, 'reloading the TLS certificate');
    server.reloadTls().catch((error: unknown) => {
      logger.error({ err: error }, 'TLS reload failed: still serving the previous certificate');
    });
  });
  if (config.server.allowedOrigins === undefined) {
    // The library default keeps local development frictionless; a deployment should say who may connect.
    logger.warn(
      { option: 'SWITCHBOARD_ALLOWED_ORIGINS' },
      "no allowed origins: pages on any site may open connections with their visitors' cookies; set SWITCHBOARD_ALLOWED_ORIGINS (or * to allow every origin explicitly)",
    );
  }
  // Last, after the handlers: the kernel delivers a signal whenever it is sent, not on a JS tick, so a
  // supervisor that signals as soon as it reads this line would otherwise kill the process outright.
  logger.info(
    { url: server.url, nodeId: server.nodeId, engine: config.redis === undefined ? 'memory' : 'redis' },
    'switchboard listening',
  );
}

/** What a listen error means for the operator, in one line. */
function describeStartError(error: unknown, options: ServerOptions): string {
  const where = `${options.host ?? 'every interface'}, port ${options.port ?? '(default)'}`;
  if (error instanceof Error && 'code' in error && typeof error.code === 'string') {
    const hint = LISTEN_HINTS[error.code];
    if (hint !== undefined) return `cannot listen on ${where}: ${hint} (${error.code})`;
  }
  return `failed to start: ${error instanceof Error ? error.message : String(error)}`;
}

const LISTEN_HINTS: Readonly<Record<string, string>> = {
  EADDRINUSE: 'the address is already in use; stop the other process or choose another --port / PORT',
  EACCES: 'permission denied; ports below 1024 need privileges, choose another --port / PORT',
  EADDRNOTAVAIL: 'no such address on this machine; check --host / HOST',
  ENOTFOUND: 'the host name does not resolve; check --host / HOST',
};
