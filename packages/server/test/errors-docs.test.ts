// Every error class of packages/server/src/errors.ts is documented in docs/codes.md with its code, and the
// doc names no class that no longer exists (STYLE.md habit 5).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as errors from '../src/errors.js';
import { SwitchboardError } from '../src/errors.js';

const DOC = new URL('../../../docs/codes.md', import.meta.url);

type ErrorClass = new (...args: unknown[]) => Error;

const classes = Object.entries(errors as Record<string, unknown>).filter(
  (entry): entry is [string, ErrorClass] =>
    typeof entry[1] === 'function' && (entry[1] === Error || entry[1].prototype instanceof Error),
);

/** The rows of the "Library errors" table, by class name: `[class, code, when]`. */
function documentedClasses(doc: string): Map<string, { code: string; when: string }> {
  const section = doc.slice(doc.indexOf('## Library errors'));
  const table = section
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .slice(2);
  const out = new Map<string, { code: string; when: string }>();
  for (const line of table) {
    const [name = '', code = '', when = ''] = line
      .slice(1, -1)
      .split('|')
      .map((cell) => cell.trim());
    out.set(name.replace(/^`|`$/g, ''), { code, when });
  }
  return out;
}

/**
 * The code an instance carries, or null when the constructor takes it from its caller. Constructors get
 * sentinel strings for every argument: a code equal to one of them came from the caller.
 */
function fixedCode(cls: ErrorClass): { name: string; code: string | null } {
  const sentinels = ['sentinel-a', 'sentinel-b', 'sentinel-c', 'sentinel-d'];
  const instance = new cls(...sentinels);
  assert.ok(instance instanceof SwitchboardError, `${cls.name} extends SwitchboardError`);
  return { name: instance.name, code: sentinels.includes(instance.code) ? null : instance.code };
}

describe('library errors in docs/codes.md', () => {
  const doc = readFileSync(DOC, 'utf8');
  const documented = documentedClasses(doc);

  test('errors.ts exports error classes', () => {
    assert.ok(classes.length >= 2, `found ${classes.map(([n]) => n).join(', ')}`);
  });

  for (const [exported, cls] of classes) {
    test(`${exported} is documented with its code`, () => {
      const row = documented.get(exported);
      assert.ok(row !== undefined, `docs/codes.md (## Library errors) does not list ${exported}`);
      assert.ok(row.when.length > 0, `say when ${exported} is thrown`);
      const { name, code } = fixedCode(cls);
      assert.equal(name, exported, `${exported} sets its own name`);
      if (code === null)
        assert.match(row.code, /caller/, `${exported} takes its code from the caller; say so`);
      else assert.equal(row.code, `\`${code}\``, `code of ${exported}`);
    });
  }

  test('the doc lists no class that errors.ts does not export', () => {
    const exported = new Set(classes.map(([name]) => name));
    for (const name of documented.keys())
      assert.ok(exported.has(name), `docs/codes.md lists ${name}, which errors.ts does not export`);
  });
});
