/**
 * Which help the command line asks for: `--help` (or `-h`) alone is the overview, `--help <group>` or
 * `--help=<group>` one group in full, `--help all` every group in full.
 */
import { GROUP_ORDER, isOptionGroup } from './option-groups.js';
import type { OptionGroup } from './option-spec.js';
import { UnknownHelpTopicError } from './usage-errors.js';

/** What `--help` prints: the overview, one group, or every group. */
export type HelpTopic = 'overview' | 'all' | OptionGroup;

/**
 * The help topic `argv` asks for, or undefined when it does not ask for help. Only the argument right
 * after `--help` can be a topic, and only when it is not itself a flag, so `--help --port 1` is the
 * overview. Throws UnknownHelpTopicError for a topic that is neither a group nor `all`.
 */
export function findHelpTopic(argv: readonly string[]): HelpTopic | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg.startsWith('--help=')) return checkTopic(arg.slice('--help='.length));
    if (arg !== '--help' && arg !== '-h') continue;
    const next = argv[i + 1];
    return next === undefined || next.startsWith('-') ? 'overview' : checkTopic(next);
  }
  return undefined;
}

function checkTopic(topic: string): HelpTopic {
  if (topic === 'all' || isOptionGroup(topic)) return topic;
  throw new UnknownHelpTopicError(topic, [...GROUP_ORDER, 'all']);
}
