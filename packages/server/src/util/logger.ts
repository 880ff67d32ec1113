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
}

/** A logger that discards everything. */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};
