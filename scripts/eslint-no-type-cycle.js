// An ESLint rule: a type-only import must not close an import cycle. import-x/no-cycle leaves type-only
// imports out on purpose (they vanish at runtime), but a type cycle is still a design cycle: two files
// that cannot be understood, or moved, one without the other. Reported on the type-only imports of the
// cycle, which import-x/no-cycle skips, so the two rules never report the same import. It walks the
// module graph import-x has already parsed and resolved (its ModuleInfo, with the same settings): an
// internal module, exported by the package's `./*` map; packages/server/test/layering.test.ts fails if
// it moves.
import { dirname, relative, sep } from 'node:path';
import { ModuleInfo } from 'eslint-plugin-import-x/core/module-info';

/** `import type`, `export type ... from`, or an import whose every specifier is `type`. */
function isTypeOnly(node) {
  if (node.importKind === 'type' || node.exportKind === 'type') return true;
  return (
    node.type === 'ImportDeclaration' &&
    node.specifiers.length > 0 &&
    node.specifiers.every((s) => s.importKind === 'type')
  );
}

/** @type {import('eslint').Rule.RuleModule} */
export const noTypeCycle = {
  meta: {
    type: 'problem',
    docs: { description: 'Forbid a type-only import that closes an import cycle' },
    schema: [],
    messages: { cycle: 'Type-only import closes a dependency cycle: {{route}}' },
  },
  create(context) {
    const filename = context.physicalFilename;
    const shown = (path) => relative(dirname(filename), path);
    const external = `${sep}node_modules${sep}`; // a package cannot import this file back

    /** The files from `start` back to this one, following every import; null when there is no way back. */
    function routeBack(start) {
      const queue = [[start]];
      const seen = new Set([start.path]);
      while (queue.length > 0) {
        const route = queue.shift();
        for (const [path, edge] of route.at(-1).getImports()) {
          if (path === filename) return route;
          if (seen.has(path) || path.includes(external)) continue;
          seen.add(path);
          const next = edge.resolve();
          if (next != null) queue.push([...route, next]);
        }
      }
      return null;
    }

    function check(node) {
      if (node.source == null || !isTypeOnly(node)) return;
      const imported = ModuleInfo.get(node.source.value, context);
      if (imported == null || imported.path === filename) return;
      const route = routeBack(imported);
      if (route === null) return;
      const files = [filename, ...route.map((m) => m.path), filename].map(shown);
      context.report({ node, messageId: 'cycle', data: { route: files.join(' -> ') } });
    }

    return { ImportDeclaration: check, ExportNamedDeclaration: check, ExportAllDeclaration: check };
  },
};
