/**
 * The server's dealings with its engine beyond the seams: the token authenticator on the engine's ticket
 * store, readiness from its health, and its release.
 */
import type { AuthOptions } from './auth/auth-options.js';
import { TokenAuthenticator } from './auth/token-authenticator.js';
import type { Clock } from './util/clock.js';
import type { Engine } from './engine/engine.js';
import type { Readiness } from './http/ops-routes.js';
import type { ServerState } from './server-results.js';
import type { Logger } from './util/logger.js';

/** Ready when running and the engine can serve; else why not (for `/ready`). */
export function engineReadiness(state: ServerState, engine: Engine): Readiness {
  if (state !== 'running') return { ready: false, status: state };
  const health = engine.health?.();
  if (health === undefined || health.ready) return { ready: true, status: 'ready' };
  return {
    ready: false,
    status: 'not_ready',
    ...(health.reason === undefined ? {} : { reason: health.reason }),
    ...(health.details === undefined ? {} : { details: health.details }),
  };
}

/** Withdraw this node from the shared registry and release the engine's connections; never throws. */
export async function closeEngine(engine: Engine, logger: Logger): Promise<void> {
  await engine.nodes?.close().catch((error: unknown) => {
    logger.warn({ err: error }, 'leaving the node registry failed');
  });
  await engine.close?.().catch((error: unknown) => {
    logger.warn({ err: error }, 'closing the engine failed');
  });
}

/** The `auth` option's authenticator (null without one), on the engine's shared ticket store when it has one. */
export function engineTokenAuthenticator(
  auth: AuthOptions | undefined,
  engine: Engine,
  clock: Clock,
  logger: Logger,
): TokenAuthenticator | null {
  if (auth === undefined) return null;
  // Tickets minted on one node must open connections on any: a shared engine's store wins over the
  // in-memory default (an explicit auth.ticketStore still wins over both).
  const shared =
    auth.ticketStore === undefined && engine.tickets !== undefined
      ? { ...auth, ticketStore: engine.tickets }
      : auth;
  return new TokenAuthenticator(shared, { clock, logger });
}
