#!/usr/bin/env node
// Runs every packages/*/test/**/*.test.ts file with Node's test runner (TypeScript through tsx).
// `--unit` runs only files named *.unit.test.ts. Node 20's --test takes no globs, hence this script.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const unitOnly = process.argv.includes('--unit');
const files = [];
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'dist') continue;
    if (statSync(path).isDirectory()) walk(path);
    else if (name.endsWith(unitOnly ? '.unit.test.ts' : '.test.ts')) files.push(path);
  }
}
for (const pkg of readdirSync('packages')) {
  const dir = join('packages', pkg, 'test');
  try {
    if (statSync(dir).isDirectory()) walk(dir);
  } catch {
    // a package without tests
  }
}
files.sort();
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...files], {
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
