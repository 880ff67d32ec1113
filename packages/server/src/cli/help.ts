/**
 * The text of `switchboard --help`, generated from the option table: an overview with one line per
 * option, grouped by concern, and `--help <group>` / `--help all` with every detail. Fits 100 columns.
 */
import type { HelpTopic } from './help-topic.js';
import { GROUP_ORDER, OPTION_GROUPS } from './option-groups.js';
import { OPTION_TABLE } from './option-table.js';
import { describeAllowed, describeDefault, describeFlag } from './option-describe.js';
import type { OptionGroup, OptionSpec } from './option-spec.js';

/** Lines are wrapped to this many columns. */
export const HELP_WIDTH = 100;

const INDENT = '  ';
const DETAIL_INDENT = '      ';
/** The overview's default column: past the longest `--flag <type>` (44 characters). */
const DEFAULT_COLUMN = 48;

/** The help for `topic`: the overview, one group in full, or every group in full. */
export function renderHelp(topic: HelpTopic = 'overview'): string {
  const lines = ['Usage: switchboard [options]', '       switchboard --help [<group> | all]', ''];
  if (topic === 'overview' || topic === 'all') {
    lines.push(
      ...wrap(
        'Runs a standalone Switchboard server: the in-memory engine (or Redis with --redis-url), the demo ' +
          'page on, JSON logs on stdout. Every option can also be set by its environment variable; a flag ' +
          'wins over its variable, and an empty variable counts as unset. SIGTERM or SIGINT drains ' +
          '(connections closed in batches over --drain-ms) and stops; a second one exits at once.',
        '',
      ),
      '',
    );
  }
  if (topic === 'overview') lines.push(...overview());
  else for (const group of topic === 'all' ? GROUP_ORDER : [topic]) lines.push(...groupInDetail(group));
  lines.push(
    'Other:',
    `${INDENT}-h, --help [<group> | all]  This overview, or every detail of one group or of all of them.`,
    `${INDENT}--version                   Print the version and exit.`,
    '',
    'Exit codes: 0 stopped cleanly, 1 runtime failure, 2 bad command line or configuration.',
    'Reference: docs/configuration.md (every option, its createServer name and its variable).',
  );
  return `${lines.join('\n')}\n`;
}

/** The options of `group`, in table order. */
export function optionsOf(group: OptionGroup): OptionSpec[] {
  return OPTION_TABLE.filter((spec) => spec.group === group);
}

/** Every group: its title, then one line per option with its value type and default. */
function overview(): string[] {
  const lines = [
    ...wrap(
      `Options by group, with their default. \`switchboard --help <group>\` shows each option's ` +
        `environment variable, allowed values and description; \`--help all\` shows every group. ` +
        `Variables: ${variableRule()}.`,
      '',
    ),
    '',
  ];
  for (const group of GROUP_ORDER) {
    lines.push(`${OPTION_GROUPS[group].title} (--help ${group}):`);
    for (const spec of optionsOf(group)) {
      const left = `${INDENT}${spec.flag === null ? `${spec.env} (variable only)` : describeFlag(spec)}`;
      lines.push(`${left.padEnd(DEFAULT_COLUMN - 1)} ${describeDefault(spec)}`);
    }
    lines.push('');
  }
  return lines;
}

/** One group in full: each option's flag and variable, then its description, default and allowed values. */
function groupInDetail(group: OptionGroup): string[] {
  const { title, summary } = OPTION_GROUPS[group];
  const lines = [
    `${title} (--help ${group}):`,
    ...wrap(`${summary[0]?.toUpperCase() ?? ''}${summary.slice(1)}.`, INDENT),
    '',
  ];
  for (const spec of optionsOf(group)) {
    const flag = describeFlag(spec);
    const head =
      flag.length + spec.env.length + 4 <= HELP_WIDTH - INDENT.length
        ? `${flag.padEnd(DEFAULT_COLUMN - INDENT.length - 1)} ${spec.env}`
        : `${flag} ${spec.env}`;
    lines.push(`${INDENT}${head}`);
    lines.push(...wrap(spec.description, DETAIL_INDENT));
    lines.push(
      ...wrap(`Default: ${describeDefault(spec)}. Allowed: ${describeAllowed(spec)}.`, DETAIL_INDENT),
    );
  }
  lines.push('');
  return lines;
}

/**
 * How a flag's variable is named, with the exceptions read from the table, so the overview needs no
 * variable column: `SWITCHBOARD_` + the flag in capitals, except PORT, HOST, REDIS_URL, ...
 */
function variableRule(): string {
  const exceptions = OPTION_TABLE.filter(
    (spec) => spec.flag !== null && spec.env !== conventionalVariable(spec.flag),
  ).map((spec) => `${spec.flag ?? ''} is ${spec.env}`);
  const rule = 'SWITCHBOARD_ and the flag in capitals (--max-connections is SWITCHBOARD_MAX_CONNECTIONS)';
  return exceptions.length === 0 ? rule : `${rule}, except: ${exceptions.join(', ')}`;
}

/** `--max-connections` -> `SWITCHBOARD_MAX_CONNECTIONS`. */
export function conventionalVariable(flag: string): string {
  return `SWITCHBOARD_${flag.slice(2).replaceAll('-', '_').toUpperCase()}`;
}

/** `text` as lines of at most HELP_WIDTH columns, each starting with `indent` (a longer word stays whole). */
function wrap(text: string, indent: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line !== '' && indent.length + line.length + 1 + word.length > HELP_WIDTH) {
      lines.push(indent + line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(indent + line);
  return lines;
}
