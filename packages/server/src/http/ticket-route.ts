/**
 * `POST <base>/auth/ticket`: trade a bearer token for a one-time ticket a browser can put in the WebSocket
 * URL (`?ticket=`). The ticket lives `ticketTtlMs` (30 s by default), opens one connection, and opens it
 * for the user the token named. Documented in docs/security-auth.md.
 */
import { ErrorCode, ERROR_CODE_INFO } from '@switchboard/protocol';
import type { Router } from './router.js';
import { sendError, sendJson } from './http-utils.js';
import type { TokenAuthenticator } from '../auth/token-authenticator.js';

/** The ticket route's path, below the base path. */
export const TICKET_PATH = '/auth/ticket';

/** Register `POST /auth/ticket` on `router`. */
export function addTicketRoute(router: Router, authenticator: TokenAuthenticator): void {
  router.add('POST', TICKET_PATH, async ({ req, res }) => {
    // The route reads no body; drain whatever came so the connection can be reused.
    req.resume();
    const outcome = await authenticator.verifyAuthorization(req.headers.authorization);
    if (!outcome.ok) {
      // RFC 6750 section 3: name the scheme; name the error only when a token was presented.
      const challenge =
        req.headers.authorization === undefined
          ? 'Bearer realm="switchboard"'
          : 'Bearer realm="switchboard", error="invalid_token"';
      sendJson(
        res,
        outcome.status,
        {
          error: {
            code: outcome.code,
            message: outcome.message,
            temporary: ERROR_CODE_INFO[outcome.code].temporary,
          },
        },
        { 'www-authenticate': challenge },
      );
      return;
    }
    const issued = await authenticator.issueTicket(outcome.principal);
    if (issued === null) {
      sendError(res, ErrorCode.Unavailable, 'too many outstanding tickets; retry shortly', 503);
      return;
    }
    sendJson(res, 200, { ticket: issued.ticket, expires_in: issued.expiresIn });
  });
}
