#!/usr/bin/env node
/** `switchboard-bench <scenario> [options]`: see main.ts and `--help`. */
import { killAllChildren } from './run/children.js';
import { main } from './main.js';

main(process.argv.slice(2)).then(
  (code) => {
    killAllChildren();
    process.exit(code);
  },
  (error: unknown) => {
    killAllChildren();
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
