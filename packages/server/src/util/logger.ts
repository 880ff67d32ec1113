/**
 * The logging seam: the subset of pino's API Switchboard calls. A pino logger satisfies it as it is; the
 * library default writes warnings and errors to stderr (util/pino-logger.ts), and the CLI passes a pino
 * logger on stdout.
 */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  /**
   * Whether lines at `level` are written (pino has it). Optional: without it every line is built. The hub
   * asks before building a line per connection that is usually not written (the `debug` lines).
   */
  isLevelEnabled?(level: string): boolean;
}

/** Whether `logger` writes `level` lines (true when it cannot tell). */
export function logs(logger: Logger, level: 'debug' | 'info' | 'warn' | 'error'): boolean {
  return logger.isLevelEnabled?.(level) ?? true;
}

/** A logger that discards everything. */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  isLevelEnabled: () => false,
};
