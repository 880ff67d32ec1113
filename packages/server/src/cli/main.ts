#!/usr/bin/env node
/**
 * The `switchboard` command (`npm start`, `npx switchboard`): a standalone server (the in-memory engine,
 * or Redis with `--redis-url`, optionally as `--workers N` processes) with the demo page, configured by flags and environment variables (see docs/configuration.md).
 */
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { EXIT_OK, EXIT_USAGE, exitWithMessage } from './exit.js';
import { renderHelp } from './help.js';
import { createCliLogger } from './logger.js';
import { parseCommandLine } from './parse-options.js';
import type { CliCommand } from './parse-options.js';
import { serve } from './serve.js';
import { runPrimary } from './workers.js';
import { isUsageError } from './usage-errors.js';
import { readVersion } from './version.js';

let command: CliCommand;
try {
  command = parseCommandLine(process.argv.slice(2), process.env, (path) => readFileSync(path, 'utf8'));
} catch (error) {
  if (!isUsageError(error)) throw error;
  exitWithMessage(EXIT_USAGE, error.message);
}

switch (command.kind) {
  case 'help':
    process.stdout.write(renderHelp(command.topic));
    process.exitCode = EXIT_OK;
    break;
  case 'version':
    process.stdout.write(`${readVersion()}\n`);
    process.exitCode = EXIT_OK;
    break;
  case 'run':
    if (command.config.workers > 1 && cluster.isPrimary)
      runPrimary(command.config, createCliLogger(command.config.logLevel));
    else await serve(command.config, createCliLogger(command.config.logLevel));
    break;
}
