/**
 * The CLI's work: parse the options, run the scenario(s) or the micro-benchmarks, write the reports
 * (results/<scenario>-<timestamp>.{json,md} and SVG charts) and print the markdown table.
 */
import { fileURLToPath } from 'node:url';
import { runMicro } from './micro/runner.js';
import { parseOptions, USAGE } from './options.js';
import type { BenchOptions } from './options.js';
import { Progress } from './progress.js';
import { renderMarkdown } from './report/markdown.js';
import { writeReport } from './report/write-report.js';
import { runScenario } from './run/orchestrator.js';
import { SCENARIOS, findScenario } from './scenarios/registry.js';
import type { Scenario } from './scenarios/scenario.js';

const DEFAULT_OUT = fileURLToPath(new URL('../results', import.meta.url));

async function runOne(scenario: Scenario, options: BenchOptions, command: string): Promise<void> {
  const progress = new Progress(process.stderr);
  const report = await runScenario(scenario, options, progress, command);
  const written = await writeReport(report, options.outDir);
  process.stdout.write(`\n${renderMarkdown(report)}\n`);
  process.stdout.write(`wrote ${written.json}\n      ${written.markdown}\n`);
  for (const chart of written.charts) process.stdout.write(`      ${chart}\n`);
}

/** Run the CLI with `argv` (without node and the script); resolves with the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseOptions(argv, DEFAULT_OUT);
  if (!parsed.ok) {
    process.stderr.write(`${parsed.error}\n\n${USAGE}`);
    return 2;
  }
  const options = parsed.options;
  if (options.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const command = `switchboard-bench ${argv.join(' ')}`;
  if (options.scenario === 'micro') return runMicro(options.filter, process.stdout);
  const scenarios = options.scenario === 'all' ? SCENARIOS : [findScenario(options.scenario)];
  for (const scenario of scenarios) {
    if (scenario === undefined) {
      process.stderr.write(`scenario ${options.scenario} is not implemented yet\n`);
      return 2;
    }
    await runOne(scenario, options, command);
  }
  return 0;
}
