/**
 * Running one scenario end to end in a test, at tiny sizes: the metrics of each target's first run, after
 * checking that no target reported an error or an unexpected note.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseOptions } from '../src/options.js';
import { Progress } from '../src/progress.js';
import { runScenario } from '../src/run/orchestrator.js';
import type { fanout } from '../src/scenarios/fanout.js';

const quiet = new Writable({ write: (_chunk, _encoding, done) => done() });

/** Run `scenario` with `args` (the CLI's words); resolves with each target's metrics. */
export async function runBench(
  args: readonly string[],
  scenario: typeof fanout,
): Promise<Record<string, Record<string, number>>> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-test-'));
  try {
    // A test suite runs files in parallel: the machine is never quiet, and waiting for it would time out.
    const parsed = parseOptions([...args, '--out', dir, '--quiet-wait-s', '0']);
    assert.ok(parsed.ok);
    const report = await runScenario(scenario, parsed.options, new Progress(quiet), 'test');
    const metrics: Record<string, Record<string, number>> = {};
    for (const t of report.targets) {
      assert.deepEqual(t.errors, [], t.target);
      assert.deepEqual(
        t.runs[0]?.notes.filter((n) => !n.includes('busy') && !n.includes('held')),
        [],
        t.target,
      );
      metrics[t.target] = t.runs[0]?.metrics ?? {};
    }
    return metrics;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
