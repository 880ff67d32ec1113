#!/usr/bin/env node
// Bundles the client SDK (packages/client/dist, already compiled by tsc) and the protocol package into one
// ES module for browsers: packages/client/dist/browser/switchboard.js (+ .map), the package's
// `exports["./browser"]`. Then copies it into packages/server/public/sdk/, from where the server serves it
// at `${basePath}/sdk/switchboard.js` (gitignored; in the server tarball through `files: ["public"]`):
// the server never imports the client package at runtime (docs/architecture.md, "The browser SDK").
//
// Run by the root `npm run build` after `tsc -b`. It fails when the bundle would pull in anything but
// the client and protocol packages and the protocol's one dependency (@msgpack/msgpack, the MessagePack
// codec), or any Node built-in: a browser cannot load those.
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const client = join(root, 'packages/client');
const outfile = join(client, 'dist/browser/switchboard.js');
const served = join(root, 'packages/server/public/sdk');
const { version } = JSON.parse(readFileSync(join(client, 'package.json'), 'utf8'));
const { version: msgpackVersion } = JSON.parse(
  readFileSync(join(root, 'node_modules/@msgpack/msgpack/package.json'), 'utf8'),
);

const result = await build({
  entryPoints: [join(client, 'dist/index.js')],
  outfile,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  // The SDK's own floor (tsconfig.base.json); every current browser runs ES2022.
  target: 'es2022',
  minify: true,
  sourcemap: true,
  metafile: true,
  // With platform 'browser' an import of a Node built-in is a build error (never stubbed out): the SDK
  // imports none (packages/client/README.md), and this keeps it that way.
  banner: {
    js: `/* @switchboard/client ${version} (browser ESM bundle), MIT license; includes @msgpack/msgpack ${msgpackVersion}, ISC license */`,
  },
  logLevel: 'warning',
});

const allowed = ['packages/client/dist/', 'packages/protocol/dist/', 'node_modules/@msgpack/msgpack/'];
const strays = Object.keys(result.metafile.inputs).filter(
  (input) =>
    !allowed.some((prefix) => relative(root, join(root, input)).split(sep).join('/').startsWith(prefix)),
);
if (strays.length > 0) {
  console.error(
    `the browser bundle must contain only the client and protocol packages (and @msgpack/msgpack), not:\n  ${strays.join('\n  ')}`,
  );
  process.exit(1);
}

mkdirSync(served, { recursive: true });
for (const name of ['switchboard.js', 'switchboard.js.map'])
  copyFileSync(join(dirname(outfile), name), join(served, name));
