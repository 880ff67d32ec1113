/** The CLI's logger: pino JSON lines on stdout, the format log collectors expect from a container. */
import { pino } from 'pino';
import type { Logger as PinoLogger } from 'pino';
import type { LogLevel } from './option-spec.js';

/**
 * A pino logger at `level`. pino's default destination is asynchronous and flushes itself on
 * process.exit, so the CLI can exit right after logging.
 */
export function createCliLogger(level: LogLevel): PinoLogger {
  return pino({ name: 'switchboard', level });
}
