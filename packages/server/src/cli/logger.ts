/** The CLI's logger: pino JSON lines on stdout, the format log collectors expect from a container. */
import type { Logger as PinoLogger } from 'pino';
import { createPinoLogger } from '../util/pino-logger.js';
import type { LogLevel } from './option-spec.js';

/**
 * A pino logger at `level`, credentials redacted (util/pino-logger.ts). pino's default destination is
 * asynchronous and flushes itself on process.exit, so the CLI can exit right after logging.
 */
export function createCliLogger(level: LogLevel): PinoLogger {
  return createPinoLogger(level);
}
