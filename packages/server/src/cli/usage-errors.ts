/**
 * Errors of the command line that are not about a value (bad values are the library's own
 * InvalidOptionError, named after the flag or variable the user wrote). None of these escape the CLI
 * process: main prints the message on one stderr line and exits with EXIT_USAGE.
 */
import { InvalidOptionError, SwitchboardError } from '../errors.js';

/** Base class of the command-line errors that are not a bad value. */
export class UsageError extends SwitchboardError {
  override name = 'UsageError';
}

/** An argument starts with `-` but names no option. */
export class UnknownOptionError extends UsageError {
  override name = 'UnknownOptionError';
  constructor(readonly flag: string) {
    // Only the flag name is echoed: `--api-kye=<secret>` must not print the secret.
    super('unknown_option', `unknown option ${flag} (see switchboard --help)`);
  }
}

/** A flag that takes a value came last, or was followed by another flag. */
export class MissingValueError extends UsageError {
  override name = 'MissingValueError';
  constructor(readonly flag: string) {
    super('missing_value', `missing value for ${flag}`);
  }
}

/** An on/off flag was given a value (`--no-demo=1`); its two forms say everything. */
export class UnexpectedValueError extends UsageError {
  override name = 'UnexpectedValueError';
  constructor(readonly flag: string) {
    super('unexpected_value', `${flag} takes no value`);
  }
}

/** A positional argument: the CLI takes none. */
export class UnexpectedArgumentError extends UsageError {
  override name = 'UnexpectedArgumentError';
  constructor(readonly argument: string) {
    super(
      'unexpected_argument',
      `unexpected argument ${JSON.stringify(argument)} (switchboard takes only options)`,
    );
  }
}

/** True for every error that means "the command line or environment is wrong": exit 2, no stack. */
export function isUsageError(error: unknown): error is UsageError | InvalidOptionError {
  return error instanceof UsageError || error instanceof InvalidOptionError;
}

/** `--help <topic>` named neither a group nor `all`. */
export class UnknownHelpTopicError extends UsageError {
  override name = 'UnknownHelpTopicError';
  constructor(
    readonly topic: string,
    topics: readonly string[],
  ) {
    super('unknown_help_topic', `unknown help topic ${JSON.stringify(topic)}; one of: ${topics.join(', ')}`);
  }
}
