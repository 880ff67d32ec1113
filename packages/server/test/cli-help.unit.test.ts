/**
 * `switchboard --help`: grouped by concern, the real value type of every option, defaults and variables,
 * 100 columns at most; `--help <group>` and `--help all` in full; an unknown topic is a usage error.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { HELP_WIDTH, conventionalVariable, optionsOf, renderHelp } from '../src/cli/help.js';
import { findHelpTopic } from '../src/cli/help-topic.js';
import { GROUP_ORDER, OPTION_GROUPS } from '../src/cli/option-groups.js';
import { OPTION_TABLE } from '../src/cli/option-table.js';
import { describeDefault, describeFlag } from '../src/cli/option-describe.js';
import { parseCommandLine } from '../src/cli/parse-options.js';
import { UnknownHelpTopicError, isUsageError } from '../src/cli/usage-errors.js';

const noFiles = (): string => {
  throw new Error('no files in this test');
};

function assertFits(text: string): void {
  for (const line of text.split('\n'))
    assert.ok(line.length <= HELP_WIDTH, `${line.length} columns: ${JSON.stringify(line)}`);
}

describe('option groups', () => {
  test('every group has options and every option one listed group', () => {
    for (const group of GROUP_ORDER) assert.ok(optionsOf(group).length > 0, `${group} is empty`);
    const listed = GROUP_ORDER.flatMap(optionsOf);
    assert.equal(listed.length, OPTION_TABLE.length);
  });
});

describe('renderHelp', () => {
  test('the overview lists every option under its group, with its value type and default', () => {
    const help = renderHelp();
    assertFits(help);
    for (const group of GROUP_ORDER) {
      const heading = help.indexOf(`${OPTION_GROUPS[group].title} (--help ${group}):`);
      assert.ok(heading !== -1, `no heading for ${group}`);
      const section = help.slice(heading, help.indexOf('\n\n', heading));
      for (const spec of optionsOf(group)) {
        const shown = spec.flag === null ? spec.env : describeFlag(spec);
        const line = section.split('\n').find((text) => text.trimStart().startsWith(`${shown} `));
        assert.ok(line !== undefined, `${shown} is not in ${group}`);
        assert.ok(line.endsWith(` ${describeDefault(spec)}`), `${shown}: default missing in ${line}`);
      }
    }
  });

  test('integer, millisecond and byte options say so instead of <string>', () => {
    const help = renderHelp();
    for (const flag of [
      '--jwt-clock-skew-ms <ms>',
      '--ticket-ttl-ms <ms>',
      '--heartbeat-interval-ms <ms>',
      '--max-message-bytes <bytes>',
      '--max-connections <int>',
      '--port <port>',
      '--redis-url <url>',
      '--jwt-audience <list>',
      '--allowed-origins <list>',
      '--log-level <level>',
      '--tls-cert-file <path>',
    ])
      assert.ok(help.includes(`  ${flag} `), flag);
    assert.doesNotMatch(help, /<string>/);
  });

  test('the overview names every variable, by the rule or as an exception', () => {
    const help = renderHelp().replace(/\s+/g, ' ');
    for (const spec of OPTION_TABLE) {
      if (spec.flag !== null && spec.env === conventionalVariable(spec.flag)) continue;
      const named = spec.flag === null ? spec.env : `${spec.flag} is ${spec.env}`;
      assert.ok(help.includes(named), named);
    }
  });

  test('--help <group> shows that group in full and nothing else', () => {
    const help = renderHelp('heartbeat');
    assertFits(help);
    assert.match(help, /--heartbeat-interval-ms <ms> +SWITCHBOARD_HEARTBEAT_INTERVAL_MS\n/);
    assert.match(help, /Default: 15000\. Allowed: an integer from 10 to 3600000\./);
    assert.doesNotMatch(help, /--port|--max-message-bytes/);
  });

  test('--help all shows every option with its variable, description and default', () => {
    const help = renderHelp('all');
    assertFits(help);
    const flat = help.replace(/\s+/g, ' ');
    for (const spec of OPTION_TABLE) {
      assert.ok(help.includes(spec.env), spec.env);
      assert.ok(flat.includes(spec.description), `${spec.env} description`);
      assert.ok(flat.includes(`Default: ${describeDefault(spec)}.`), `${spec.env} default`);
    }
  });
});

describe('help topics', () => {
  test('--help alone is the overview; the next argument or =value names a group or all', () => {
    assert.equal(findHelpTopic(['--port', '1']), undefined);
    assert.equal(findHelpTopic(['--help']), 'overview');
    assert.equal(findHelpTopic(['-h', '--port', '1']), 'overview');
    assert.equal(findHelpTopic(['--help', 'redis']), 'redis');
    assert.equal(findHelpTopic(['--port', '1', '-h', 'all']), 'all');
    assert.equal(findHelpTopic(['--help=tls']), 'tls');
    assert.deepEqual(parseCommandLine(['--help', 'auth'], {}, noFiles), { kind: 'help', topic: 'auth' });
  });

  test('an unknown topic is a usage error that lists the topics', () => {
    assert.throws(
      () => parseCommandLine(['--help', 'limit'], {}, noFiles),
      (error: unknown) =>
        error instanceof UnknownHelpTopicError &&
        isUsageError(error) &&
        error.message.includes('"limit"') &&
        error.message.includes('limits, heartbeat') &&
        error.message.endsWith(', all'),
    );
  });
});
