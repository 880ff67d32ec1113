/** How the `switchboard` process ends: its exit codes and the one-line stderr message of a failure. */

/** Stopped cleanly after SIGTERM or SIGINT (or printed --help / --version). */
export const EXIT_OK = 0;
/** A runtime failure: the port was taken, shutdown hung or failed, a second signal forced the exit. */
export const EXIT_FAILURE = 1;
/** A bad command line or configuration: 2, the shell and getopt convention for bad usage. */
export const EXIT_USAGE = 2;

/**
 * Print `switchboard: <message>` as one line on stderr and exit. Writes to pipes and files are
 * synchronous in Node on POSIX, so the line is not lost by exiting at once.
 */
export function exitWithMessage(code: number, message: string): never {
  process.stderr.write(`switchboard: ${message}\n`);
  process.exit(code);
}
