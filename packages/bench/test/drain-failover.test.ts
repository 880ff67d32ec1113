// End to end: the drain and failover scenarios at tiny sizes (real CLI nodes over a real Redis). Asserts
// what the issue requires of them (the drained node exits 0, every client back on a survivor, recovery
// loses nothing, admissions within the budget's bound) and that nothing is left running; never speed.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { parseOptions } from '../src/options.js';
import { Progress } from '../src/progress.js';
import { runScenario } from '../src/run/orchestrator.js';
import { drain } from '../src/scenarios/drain.js';
import { failover } from '../src/scenarios/failover.js';
import type { Scenario } from '../src/scenarios/scenario.js';

const quiet = new Writable({ write: (_chunk, _encoding, done) => done() });

async function runOnce(scenario: Scenario, args: readonly string[]): Promise<Record<string, number>> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-roam-'));
  try {
    // A test suite runs files in parallel: the machine is never quiet, and waiting for it would time out.
    const parsed = parseOptions([scenario.name, '--quick', ...args, '--out', dir, '--quiet-wait-s', '0']);
    assert.ok(parsed.ok);
    const report = await runScenario(scenario, parsed.options, new Progress(quiet), 'test');
    const target = report.targets[0];
    assert.deepEqual(target?.errors, [], 'the run failed');
    return target?.runs[0]?.metrics ?? {};
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Processes of ours still running whose command line contains `what`. */
function running(what: string): string[] {
  const out = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' });
  return out.split('\n').filter((line) => line.includes(what));
}

function assertRecovered(m: Record<string, number>): void {
  assert.equal(m['neverBack'], 0, 'every client back on a survivor');
  assert.ok(Number.isFinite(m['allBackMs']), `allBackMs ${m['allBackMs']}`);
  assert.equal(m['lostMessages'], 0, 'recovering subscribers lose nothing');
  assert.equal(m['sequenceGaps'], 0);
  assert.equal(m['notRecovered'], 0);
  assert.equal(m['budgetExcess'], 0, 'admissions within burst + rate x interval');
  assert.ok((m['published'] ?? 0) > 0);
  assert.equal(m['publishRefused'], 0);
}

test(
  'drain: 60 clients on A, SIGTERM, all back on B under its budget, nothing lost',
  { timeout: 120_000 },
  async () => {
    const m = await runOnce(drain, ['--connections', '60', '--drain-ms', '1000', '--accept-budget', '30']);
    assert.equal(m['exitCode'], 0, "A's exit code");
    assert.ok((m['exitMs'] ?? Infinity) < 1000 + 15_000, `A exited after ${m['exitMs']} ms`);
    assert.equal(m['hintedCloses'], 60, 'every client closed with a drain hint');
    assert.equal(m['recovered'], 60);
    assertRecovered(m);
    assert.deepEqual(running('cli/main.js'), []);
    assert.deepEqual(running('redis-server'), []);
  },
);

test(
  'failover: 100 clients on A (2 workers) killed, all back on B and C, chat measured throughout',
  { timeout: 150_000 },
  async () => {
    const m = await runOnce(failover, [
      '--connections',
      '100',
      '--chat-clients',
      '40',
      '--accept-budget',
      '50',
    ]);
    assertRecovered(m);
    assert.equal(m['recovered'], 100);
    assert.equal((m['onNode1'] ?? 0) + (m['onNode2'] ?? 0), 100);
    assert.equal(m['chatLoss'], 0);
    for (const key of ['chatBeforeP99', 'chatStormP99', 'chatAfterP99']) {
      assert.ok(Number.isFinite(m[key]) && (m[key] ?? 0) > 0, `${key}=${m[key]}`);
    }
    assert.deepEqual(running('cli/main.js'), []);
    assert.deepEqual(running('redis-server'), []);
  },
);
