/**
 * The pino loggers Switchboard makes itself: the CLI's (JSON lines on stdout) and the library's default
 * when `createServer()` is given no `logger` (warnings and errors on stderr). Both redact credentials.
 */
import { pino } from 'pino';
import type { DestinationStream, Logger as PinoLogger } from 'pino';

/** What replaces a redacted value. */
export const REDACTED = '[Redacted]';

/** Field names that hold credentials, wherever they sit in a logged object. */
const SECRET_FIELDS = [
  'authorization',
  'cookie',
  'token',
  'ticket',
  'apiKey',
  'password',
  'secret',
  'privateKey',
];

/**
 * Header names that hold credentials and are not valid identifiers. A browser may offer its token as
 * `switchboard.bearer.<token>` in Sec-WebSocket-Protocol (docs/security-auth.md).
 */
const SECRET_HEADERS = ['x-api-key', 'set-cookie', 'proxy-authorization', 'sec-websocket-protocol'];

/**
 * pino's redaction paths: each secret field at the top of a logged object and up to three levels down
 * (`headers.authorization`, `req.headers.cookie`, `options.auth.secret`), each secret header under any
 * `headers` up to two levels down. pino (fast-redact) has no recursive wildcard; these depths cover every
 * object Switchboard logs and a request logged as `req`.
 */
export const REDACT_PATHS: readonly string[] = [
  ...SECRET_FIELDS.flatMap((field) => [field, `*.${field}`, `*.*.${field}`, `*.*.*.${field}`]),
  ...SECRET_HEADERS.flatMap((header) => [
    `headers["${header}"]`,
    `*.headers["${header}"]`,
    `*.*.headers["${header}"]`,
  ]),
];

/** A pino logger named `switchboard` at `level`, writing to `destination`, with credentials redacted. */
export function createPinoLogger(level: string, destination?: DestinationStream): PinoLogger {
  const options = { name: 'switchboard', level, redact: { paths: [...REDACT_PATHS], censor: REDACTED } };
  return destination === undefined ? pino(options) : pino(options, destination);
}

/**
 * The library's logger when `createServer()` gets none: warnings and errors as JSON lines on stderr, so a
 * failing hook or a backend outage is never silent (pass `logger: silentLogger` for silence, or your own
 * logger for anything else). stderr, not stdout: the application's output stays its own.
 */
export function defaultLogger(): PinoLogger {
  return createPinoLogger('warn', process.stderr);
}
