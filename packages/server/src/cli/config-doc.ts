/**
 * The generated part of docs/configuration.md: a markdown table of the option table. The prose around it
 * is written by hand; only the text between the two markers is generated, by scripts/gen-config-docs.mjs,
 * and test/configuration-docs.test.ts fails when the file and the table disagree.
 */
import { OPTION_TABLE, describeAllowed, describeDefault, describeFlag } from './option-table.js';
import type { OptionSpec } from './option-spec.js';

/** Opens the generated region of docs/configuration.md. */
export const BEGIN_MARKER =
  '<!-- BEGIN GENERATED OPTION TABLE: edit packages/server/src/cli/option-table.ts -->';
/** Closes the generated region of docs/configuration.md. */
export const END_MARKER = '<!-- END GENERATED OPTION TABLE -->';

/** The markdown table: one row per option, every cell from the option table. */
export function renderOptionTable(): string {
  const header = ['Option', 'Flag', 'Environment variable', 'Type', 'Default', 'Allowed', 'Description'];
  const rows = OPTION_TABLE.map((spec) => [
    spec.cliOnly === true ? '(CLI only)' : code(spec.name),
    spec.flag === null ? '(none)' : code(describeFlag(spec)),
    code(spec.env),
    typeOf(spec),
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

function typeOf(spec: OptionSpec): string {
  switch (spec.type) {
    case 'number':
      return spec.bounds.integer ? 'integer' : 'number';
    case 'boolean':
      return 'boolean';
    case 'choice':
      return spec.placeholder;
    case 'string':
      return spec.path === true ? 'path' : 'string';
    case 'list':
      return 'list';
  }
}

function code(text: string): string {
  return `\`${text}\``;
}

function escapeCell(text: string): string {
  return text.replaceAll('|', '\\|');
}
