#!/usr/bin/env node
// Bundles the admin dashboard's page script (packages/server/admin-ui/main.ts) with uPlot and the client
// SDK (packages/client/dist, compiled by tsc) into packages/server/public/admin/admin.js (+ .map), and its
// stylesheet (admin-ui/admin.css, which imports uPlot's) into admin.css. The server serves them at
// `${basePath}/admin/admin.js` and `admin.css` beside the committed index.html (gitignored, like
// public/sdk/; in the server tarball through `files: ["public"]`). uPlot is a build-time dependency only:
// nothing imports it at runtime (docs/architecture.md, "The admin dashboard's page").
//
// Run by the root `npm run build` after `tsc -b` and the browser SDK. It fails when the bundle would pull
// in a Node built-in (esbuild refuses one with platform 'browser') or any module but the page's own
// sources, the client and protocol packages and uPlot: a stray import would grow or break the page.
import { mkdirSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'packages/server/admin-ui');
const outdir = join(root, 'packages/server/public/admin');
mkdirSync(outdir, { recursive: true });

const common = {
  bundle: true,
  platform: 'browser',
  // The SDK's floor (tsconfig.base.json); every browser an operator uses runs ES2022.
  target: 'es2022',
  minify: true,
  sourcemap: true,
  metafile: true,
  logLevel: 'warning',
};

const results = await Promise.all([
  build({
    ...common,
    entryPoints: { admin: join(source, 'main.ts') },
    outdir,
    format: 'esm',
    // The page reads its own URL (import.meta.url) to find the API: keep it an ES module.
    banner: { js: '/* Switchboard admin dashboard; bundles uPlot (MIT) and @switchboard/client (MIT) */' },
  }),
  build({ ...common, entryPoints: { admin: join(source, 'admin.css') }, outdir }),
]);

const allowed = [
  'packages/server/admin-ui/',
  'packages/client/dist/',
  'packages/protocol/dist/',
  'node_modules/uplot/dist/',
  // The SDK's MessagePack codec (its `format: 'msgpack'`); the page itself speaks JSON.
  'node_modules/@msgpack/msgpack/',
];
const strays = results
  .flatMap((result) => Object.keys(result.metafile.inputs))
  .filter(
    (input) =>
      !allowed.some((prefix) => relative(root, join(root, input)).split(sep).join('/').startsWith(prefix)),
  );
if (strays.length > 0) {
  console.error(
    `the admin bundle may contain only its own sources, the client and protocol packages (with @msgpack/msgpack) and uPlot, not:\n  ${strays.join('\n  ')}`,
  );
  process.exit(1);
}
