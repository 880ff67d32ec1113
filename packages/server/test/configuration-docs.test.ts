/**
 * docs/configuration.md carries a table generated from the CLI's option table; this keeps the two equal.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { syncConfigurationDoc } from '../src/cli/config-doc.js';
import { OPTION_TABLE } from '../src/cli/option-table.js';

const DOC = new URL('../../../docs/configuration.md', import.meta.url);
const HOW_TO_FIX =
  'docs/configuration.md is out of sync with packages/server/src/cli/option-table.ts; regenerate it with ' +
  '`npm run build && node scripts/gen-config-docs.mjs` and commit the result';

test('docs/configuration.md holds exactly the table generated from the option table', () => {
  const current = readFileSync(DOC, 'utf8');
  const expected = syncConfigurationDoc(current);
  if (current === expected) return;
  const have = current.split('\n');
  const want = expected.split('\n');
  const differs = want.findIndex((text, i) => text !== have[i]);
  const line = differs === -1 ? want.length : differs;
  assert.fail(
    `${HOW_TO_FIX}.\nFirst difference at line ${line + 1}:\n  have: ${have[line] ?? '(end of file)'}\n  want: ${want[line] ?? '(end of file)'}`,
  );
});

test('the docs name every variable and flag', () => {
  const doc = readFileSync(DOC, 'utf8');
  for (const spec of OPTION_TABLE) {
    assert.ok(doc.includes(`\`${spec.env}\``), spec.env);
    // On/off flags are listed as --[no-]name.
    if (spec.flag !== null) assert.ok(doc.includes(spec.flag.slice(2)), spec.flag);
  }
});
