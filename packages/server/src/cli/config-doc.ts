/**
 * The generated part of docs/configuration.md: a markdown table of the option table. The prose around it
 * is written by hand; only the text between the two markers is generated, by scripts/gen-config-docs.mjs,
 * and test/configuration-docs.test.ts fails when the file and the table disagree.
 */
import { GROUP_ORDER, OPTION_GROUPS } from './option-groups.js';
import { OPTION_TABLE } from './option-table.js';
import { describeAllowed, describeDefault, describeFlag, valueName } from './option-describe.js';
import type { OptionSpec } from './option-spec.js';

/** Opens the generated region of docs/configuration.md. */
export const BEGIN_MARKER =
  '<!-- BEGIN GENERATED OPTION TABLE: edit packages/server/src/cli/option-table.ts -->';
/** Closes the generated region of docs/configuration.md. */
export const END_MARKER = '<!-- END GENERATED OPTION TABLE -->';

/** The markdown tables: one per option group, under its own heading, one row per option. */
export function renderOptionTable(): string {
  return GROUP_ORDER.map((group) => {
    const { title, summary } = OPTION_GROUPS[group];
    const heading = `### ${title} (\`--help ${group}\`)\n\n${summary[0]?.toUpperCase() ?? ''}${summary.slice(1)}.`;
    return `${heading}\n\n${renderGroupTable(OPTION_TABLE.filter((spec) => spec.group === group))}`;
  }).join('\n\n');
}

function renderGroupTable(specs: readonly OptionSpec[]): string {
  const header = ['Option', 'Flag', 'Environment variable', 'Type', 'Default', 'Allowed', 'Description'];
  const rows = specs.map((spec) => [
    spec.cliOnly === true ? '(CLI only)' : code(spec.name),
    spec.flag === null ? '(none)' : code(describeFlag(spec)),
    code(spec.env),
    spec.type === 'boolean' ? 'boolean' : valueName(spec),
    spec.defaultText === undefined ? code(describeDefault(spec)) : describeDefault(spec),
    describeAllowed(spec),
    spec.description,
  ]);
  const line = (cells: readonly string[]): string => `| ${cells.map(escapeCell).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/**
 * `current` with its generated region replaced by a fresh table. Throws when a marker is missing, so a
 * hand edit that deleted one is reported instead of silently appending a second table.
 */
export function syncConfigurationDoc(current: string): string {
  const begin = current.indexOf(BEGIN_MARKER);
  const end = current.indexOf(END_MARKER);
  if (begin === -1 || end === -1 || end < begin) {
    throw new Error(`docs/configuration.md must contain ${BEGIN_MARKER} followed by ${END_MARKER}`);
  }
  return `${current.slice(0, begin + BEGIN_MARKER.length)}\n\n${renderOptionTable()}\n\n${current.slice(end)}`;
}

function code(text: string): string {
  return `\`${text}\``;
}

function escapeCell(text: string): string {
  return text.replaceAll('|', '\\|');
}
