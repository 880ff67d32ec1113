// The server's layers and import cycles, checked with the repository's own ESLint config: serverLayers
// and the import-x/no-restricted-paths zones generated from it, import-x/no-cycle, and
// switchboard/no-type-cycle (eslint.config.js). A rule that cannot resolve an import lets it pass, so
// the second half proves that each rule fires.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ESLint } from 'eslint';
import type { Linter } from 'eslint';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SRC = 'packages/server/src';
const CYCLES = 'packages/server/test/fixtures/import-cycles';
const RULES = new Set(['import-x/no-restricted-paths', 'import-x/no-cycle', 'switchboard/no-type-cycle']);

/** The repository's ESLint config, running only the layering and cycle rules. */
function eslint(overrideConfig?: Linter.Config): ESLint {
  return new ESLint({
    cwd: ROOT,
    ruleFilter: ({ ruleId }) => RULES.has(ruleId),
    ...(overrideConfig !== undefined && { overrideConfig }),
  });
}

/** Each layering or cycle problem as `file:line imports X (rule: message)`; a parse error counts too. */
function violations(results: ESLint.LintResult[]): string[] {
  const out: string[] = [];
  for (const result of results) {
    const file = relative(ROOT, result.filePath).split(sep).join('/');
    for (const m of result.messages) {
      if (!m.fatal && !RULES.has(m.ruleId ?? '')) continue;
      // The import's specifier is the last quoted string of the reported node (the declaration or its
      // source).
      const lines = readFileSync(result.filePath, 'utf8').split('\n');
      const node = lines.slice(m.line - 1, m.endLine ?? m.line).join('\n');
      const specifier = [...node.matchAll(/'([^']*)'/g)].at(-1)?.[1] ?? '?';
      out.push(`${file}:${m.line} imports ${specifier} (${m.ruleId ?? 'parse error'}: ${m.message})`);
    }
  }
  return out;
}

/** The messages of the layering and cycle rules for `text`, linted as if it were the file at `path`. */
async function lintAs(path: string, text: string): Promise<Linter.LintMessage[]> {
  const [result] = await eslint().lintText(text, { filePath: join(ROOT, path) });
  assert.ok(result, 'lintText returns one result');
  return result.messages.filter((m) => m.fatal === true || RULES.has(m.ruleId ?? ''));
}

function rulesOf(messages: Linter.LintMessage[]): (string | null)[] {
  return messages.map((m) => m.ruleId);
}

describe('packages/server/src follows its layers', () => {
  it('has no upward import and no import cycle', async () => {
    const found = violations(await eslint().lintFiles([SRC]));
    assert.equal(
      found.length,
      0,
      `${found.length} import(s) break the layering of packages/server/src (serverLayers in ` +
        `eslint.config.js) or close a cycle:\n${found.join('\n')}`,
    );
  });

  it('puts every file in a layer of serverLayers', async () => {
    const config = pathToFileURL(join(ROOT, 'eslint.config.js')).href;
    const { serverLayers } = (await import(config)) as {
      serverLayers: readonly { name: string; paths: readonly string[] }[];
    };
    const inLayer = (file: string, path: string): boolean =>
      path.endsWith('/') ? file.startsWith(path) : file === path;
    const files = readdirSync(join(ROOT, SRC), { recursive: true, encoding: 'utf8' })
      .map((file) => file.split(sep).join('/'))
      .filter((file) => file.endsWith('.ts'));
    assert.ok(files.length > 50, `found ${files.length} files`);
    const unlayered = files.filter(
      (file) => !serverLayers.some((l) => l.paths.some((p) => inLayer(file, p))),
    );
    assert.deepEqual(unlayered, [], 'add each to a layer of serverLayers in eslint.config.js');
  });
});

describe('the layering and cycle rules fire', () => {
  it('reports a lower layer importing a higher one', async () => {
    const messages = await lintAs(
      `${SRC}/limits/layering-probe.ts`,
      `import { createServer } from '../server.js';\nexport const probe = createServer;\n`,
    );
    assert.deepEqual(rulesOf(messages), ['import-x/no-restricted-paths']);
    assert.match(messages[0]?.message ?? '', /Layer "base" must not import layer "server"/);
  });

  it('counts a type-only import', async () => {
    const messages = await lintAs(
      `${SRC}/hub/layering-probe.ts`,
      `import type { ServerOptions } from '../server-options.js';\nexport type Probe = ServerOptions;\n`,
    );
    assert.deepEqual(rulesOf(messages), ['import-x/no-restricted-paths']);
    assert.match(messages[0]?.message ?? '', /Layer "hub" must not import layer "server"/);
  });

  it('applies to a folder that does not exist yet', async () => {
    const messages = await lintAs(
      `${SRC}/redis/layering-probe.ts`,
      `import type { Hub } from '../hub/hub.js';\nexport type Probe = Hub;\n`,
    );
    assert.deepEqual(rulesOf(messages), ['import-x/no-restricted-paths']);
    assert.match(messages[0]?.message ?? '', /Layer "redis" must not import layer "hub"/);
  });

  it('lets a file import its own layer, a peer and the layers below', async () => {
    const messages = await lintAs(
      `${SRC}/broker/layering-probe.ts`,
      [
        `import type { Broker } from './broker.js';`,
        `import type { Authenticator } from '../auth/authenticator.js';`,
        `import { systemClock } from '../util/clock.js';`,
        `export type Probe = [Broker, Authenticator, typeof systemClock];`,
      ].join('\n'),
    );
    assert.deepEqual(rulesOf(messages), []);
  });

  it('reports a value import cycle (import-x/no-cycle) and a type-only one (switchboard/no-type-cycle)', async () => {
    const results = await eslint({
      files: [`${CYCLES}/*.ts`],
      rules: { 'import-x/no-cycle': 'error', 'switchboard/no-type-cycle': 'error' },
    }).lintFiles([CYCLES]);
    const byFile = new Map(
      results.map((r) => [relative(join(ROOT, CYCLES), r.filePath), rulesOf(r.messages)]),
    );
    assert.deepEqual(Object.fromEntries(byFile), {
      'type-a.ts': ['switchboard/no-type-cycle'],
      'type-b.ts': ['switchboard/no-type-cycle'],
      'value-a.ts': ['import-x/no-cycle'],
      'value-b.ts': ['import-x/no-cycle'],
    });
  });
});
