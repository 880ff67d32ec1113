#!/usr/bin/env node
// `npx switchboard` and `npm start`: runs the compiled CLI (packages/server/dist/cli/main.js). This file
// is committed, so npm can link the command when it installs the package, before `prepare` has built
// dist/ in a fresh clone; a bin pointing into dist/ would not be linked at all (npx then asks the
// registry for a package named `switchboard` and fails with a 404).
import { existsSync } from 'node:fs';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write(
    'switchboard: the server is not built (packages/server/dist/cli/main.js is missing).\n' +
      'Run `npm install` (it builds through `prepare`) or `npm run build` at the repository root.\n',
  );
  process.exit(1);
}
await import(main.href);
