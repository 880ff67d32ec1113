#!/usr/bin/env node
// Regenerates the option table in docs/configuration.md from packages/server/src/cli/option-table.ts.
// It imports the built module, so build first: npm run build && node scripts/gen-config-docs.mjs
// packages/server/test/configuration-docs.test.ts fails whenever the file and the table disagree.
import { readFileSync, writeFileSync } from 'node:fs';
import { syncConfigurationDoc } from '../packages/server/dist/cli/config-doc.js';

const path = new URL('../docs/configuration.md', import.meta.url);
const current = readFileSync(path, 'utf8');
const next = syncConfigurationDoc(current);
if (next === current) {
  console.log('docs/configuration.md is up to date');
} else {
  writeFileSync(path, next);
  console.log('docs/configuration.md updated');
}
