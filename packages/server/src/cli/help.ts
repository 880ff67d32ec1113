/** The text of `switchboard --help`, generated from the option table. */
import { OPTION_TABLE, describeAllowed, describeDefault, describeFlag } from './option-table.js';

const INDENT = '  ';
const DETAIL_INDENT = '      ';

/** Usage, then every option with its flag, variable, default, allowed values and description. */
export function renderHelp(): string {
  const rows = OPTION_TABLE.map((spec) => ({
    left: describeFlag(spec),
    env: spec.env,
    details: [spec.description, `Default: ${describeDefault(spec)}. Allowed: ${describeAllowed(spec)}.`],
  }));
  rows.push(
    { left: '-h, --help', env: '', details: ['Print this help and exit.'] },
    { left: '--version', env: '', details: ['Print the version and exit.'] },
  );
  const width = Math.max(...rows.map((row) => row.left.length)) + 2;
  const lines = [
    'Usage: switchboard [options]',
    '',
    'Runs a standalone Switchboard server: in-memory broker, demo page on, JSON logs on stdout.',
    'Every option can also be set by its environment variable; a flag wins over its variable.',
    'An empty variable counts as unset. SIGTERM or SIGINT stops gracefully; a second one exits at once.',
    '',
    'Options:',
  ];
  for (const row of rows) {
    lines.push(`${INDENT}${row.left.padEnd(width)}${row.env}`.trimEnd());
    for (const detail of row.details) lines.push(`${DETAIL_INDENT}${detail}`);
  }
  lines.push('', 'Exit codes: 0 stopped cleanly, 1 runtime failure, 2 bad command line or configuration.');
  return `${lines.join('\n')}\n`;
}
