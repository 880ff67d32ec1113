/**
 * docs/codes.md against packages/protocol/src/codes.ts. The two tables in the doc are generated from
 * CLOSE_CODE_INFO and ERROR_CODE_INFO by the functions below; after changing a code, regenerate them with
 *
 *     node --import tsx packages/protocol/test/codes-docs.unit.test.ts --write
 *
 * and the tests check that every code is documented with the right values and that no stale code is.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { CLOSE_CODE_INFO, ERROR_CODE_INFO, shouldReconnect } from '../src/index.js';
import type { CloseCodeInfo, ErrorCodeInfo } from '../src/index.js';

const DOC = new URL('../../../docs/codes.md', import.meta.url);

const closeCodes = Object.entries(CLOSE_CODE_INFO as Readonly<Record<string, CloseCodeInfo>>)
  .map(([code, info]) => ({ code: Number(code), ...info }))
  .sort((a, b) => a.code - b.code);
const errorCodes = Object.entries(ERROR_CODE_INFO as Readonly<Record<string, ErrorCodeInfo>>).map(
  ([code, info]) => ({ code, ...info }),
);

const yesNo = (value: boolean): string => (value ? 'yes' : 'no');
const cell = (text: string): string => text.replaceAll('|', '\\|');

/** The close-code table of docs/codes.md. */
export function closeCodeTable(): string {
  return [
    '| Code | Name | Reconnect | Description |',
    '| ---: | --- | --- | --- |',
    ...closeCodes.map(
      (c) => `| ${c.code} | \`${c.name}\` | ${yesNo(c.reconnect)} | ${cell(c.description)} |`,
    ),
  ].join('\n');
}

/** The error-code table of docs/codes.md. */
export function errorCodeTable(): string {
  return [
    '| Code | Temporary | HTTP status | Description |',
    '| --- | --- | ---: | --- |',
    ...errorCodes.map(
      (e) => `| \`${e.code}\` | ${yesNo(e.temporary)} | ${e.httpStatus} | ${cell(e.description)} |`,
    ),
  ].join('\n');
}

const BLOCKS = { 'close-codes': closeCodeTable, 'error-codes': errorCodeTable } as const;
type BlockName = keyof typeof BLOCKS;

function markers(name: BlockName): { begin: string; end: string } {
  return {
    begin: `<!-- BEGIN GENERATED ${name}: edit packages/protocol/src/codes.ts, then regenerate -->`,
    end: `<!-- END GENERATED ${name} -->`,
  };
}

/** The text between a block's markers, or null when the markers are missing. */
function blockOf(doc: string, name: BlockName): string | null {
  const { begin, end } = markers(name);
  const from = doc.indexOf(begin);
  const to = doc.indexOf(end);
  if (from === -1 || to === -1 || to < from) return null;
  return doc.slice(from + begin.length, to).trim();
}

/** `doc` with every generated block replaced by the current tables. */
export function regenerate(doc: string): string {
  let out = doc;
  for (const [name, render] of Object.entries(BLOCKS) as [BlockName, () => string][]) {
    const { begin, end } = markers(name);
    const from = out.indexOf(begin);
    const to = out.indexOf(end);
    if (from === -1 || to === -1 || to < from) throw new Error(`docs/codes.md lacks the markers of ${name}`);
    out = `${out.slice(0, from + begin.length)}\n${render()}\n${out.slice(to)}`;
  }
  return out;
}

/** The cells of each table row in `block`, header and separator excluded. */
function rows(block: string): string[][] {
  return block
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .slice(2)
    .map((line) =>
      line
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((c) => c.trim()),
    );
}

const unquote = (text: string | undefined): string => (text ?? '').replace(/^`|`$/g, '');

if (process.argv.includes('--write')) {
  writeFileSync(DOC, regenerate(readFileSync(DOC, 'utf8')));
  console.log(`regenerated ${DOC.pathname}`);
} else {
  describe('docs/codes.md', () => {
    const doc = readFileSync(DOC, 'utf8');
    const regenerateHint = 'run: node --import tsx packages/protocol/test/codes-docs.unit.test.ts --write';

    test('close-code ranges in CLOSE_CODE_INFO agree with shouldReconnect() and the documented ranges', () => {
      for (const c of closeCodes) {
        assert.equal(shouldReconnect(c.code), c.reconnect, `${c.code}`);
        if (c.code >= 4000 && c.code <= 4499)
          assert.equal(c.reconnect, true, `${c.code} is in the reconnect range`);
        if (c.code >= 4500 && c.code <= 4999)
          assert.equal(c.reconnect, false, `${c.code} is in the stop range`);
      }
      // Codes nobody listed follow the ranges.
      assert.equal(shouldReconnect(4499), true);
      assert.equal(shouldReconnect(4999), false);
      assert.equal(shouldReconnect(1014), true);
      for (const range of ['4000-4499', '4500-4999'])
        assert.ok(doc.includes(range), `the doc explains ${range}`);
    });

    test('every close code is documented with its name and reconnect advice, and no other code is', () => {
      const block = blockOf(doc, 'close-codes');
      assert.ok(block !== null, 'the close-code table markers are missing');
      const documented = new Map(
        rows(block).map(([code, name, reconnect]) => [Number(code), { name, reconnect }]),
      );
      for (const c of closeCodes) {
        const row = documented.get(c.code);
        assert.ok(row !== undefined, `close code ${c.code} is not documented; ${regenerateHint}`);
        assert.equal(unquote(row.name), c.name, `name of ${c.code}`);
        assert.equal(row.reconnect, yesNo(c.reconnect), `reconnect advice of ${c.code}`);
      }
      for (const code of documented.keys()) {
        assert.ok(
          Object.hasOwn(CLOSE_CODE_INFO, code),
          `docs/codes.md documents close code ${code}, which no longer exists`,
        );
      }
    });

    test('every error code is documented with its temporary flag and HTTP status, and no other code is', () => {
      const block = blockOf(doc, 'error-codes');
      assert.ok(block !== null, 'the error-code table markers are missing');
      const documented = new Map(
        rows(block).map(([code, temporary, status]) => [
          unquote(code),
          { temporary, status: Number(status) },
        ]),
      );
      for (const e of errorCodes) {
        const row = documented.get(e.code);
        assert.ok(row !== undefined, `error code ${e.code} is not documented; ${regenerateHint}`);
        assert.equal(row.temporary, yesNo(e.temporary), `temporary flag of ${e.code}`);
        assert.equal(row.status, e.httpStatus, `HTTP status of ${e.code}`);
      }
      for (const code of documented.keys()) {
        assert.ok(
          Object.hasOwn(ERROR_CODE_INFO, code),
          `docs/codes.md documents error code ${code}, which no longer exists`,
        );
      }
    });

    test('the generated tables are current, descriptions included', () => {
      assert.equal(blockOf(doc, 'close-codes'), closeCodeTable(), regenerateHint);
      assert.equal(blockOf(doc, 'error-codes'), errorCodeTable(), regenerateHint);
    });
  });
}
