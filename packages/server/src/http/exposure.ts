/**
 * What the HTTP side exposes, said once at start-up: an attached server at the root keeps its own routes,
 * and the HTTP API without a key is loopback-only (info) or, opened with `apiInsecure`, open to the
 * network (a warning), like Centrifugo's `api_insecure`.
 */
import type { Logger } from '../util/logger.js';

/** The options the start-up lines are about. */
export interface ApiExposure {
  readonly apiKey?: string | undefined;
  readonly apiInsecure?: boolean | undefined;
}

/**
 * Log what the HTTP side exposes (nothing about a keyed API: that is the safe, expected setup).
 * `attachedAtRoot`: attached to the application's server with basePath '', where no HTTP route is served.
 */
export function logHttpExposure(logger: Logger, attachedAtRoot: boolean, exposure: ApiExposure): void {
  if (attachedAtRoot) {
    logger.info(
      { basePath: '', websocket: ['/ws', '/ws/:room'] },
      "attached with basePath '': Switchboard takes only WebSocket upgrades at /ws and /ws/:room and leaves every HTTP request to the application; to serve its HTTP routes (/api, /health, /ready, /stats, /metrics, /auth/ticket) set a basePath (e.g. '/switchboard') or answer them yourself with switchboard.handleRequest(req, res)",
    );
  }
  if (exposure.apiKey !== undefined) return;
  if (exposure.apiInsecure === true) {
    logger.warn(
      { option: 'SWITCHBOARD_API_INSECURE' },
      'the HTTP API (/api, /stats) is open to the network without a key: anyone who reaches it can publish, send and disconnect users; set SWITCHBOARD_API_KEY (apiKey) instead',
    );
  } else {
    logger.info(
      { option: 'SWITCHBOARD_API_KEY' },
      'the HTTP API (/api, /stats) has no key and answers loopback clients only; set SWITCHBOARD_API_KEY (apiKey) to use it from the network',
    );
  }
}
