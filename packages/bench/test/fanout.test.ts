// End to end: the real tool against two real targets, tiny sizes. Asserts correctness (no loss, the
// report's shape), never speed.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseOptions } from '../src/options.js';
import { Progress } from '../src/progress.js';
import type { ScenarioReport } from '../src/report/result.js';
import { writeReport } from '../src/report/write-report.js';
import { runScenario } from '../src/run/orchestrator.js';
import { fanout } from '../src/scenarios/fanout.js';
import { Writable } from 'node:stream';

const quiet = new Writable({ write: (_chunk, _encoding, done) => done() });

test(
  'fanout: 20 subscribers, two short rate steps, ws-frame-once and switchboard',
  { timeout: 30_000 },
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bench-e2e-'));
    try {
      const parsed = parseOptions([
        'fanout',
        '--targets',
        'ws-frame-once,switchboard',
        '--connections',
        '20',
        '--rates',
        '20,40',
        '--step-ms',
        '300',
        '--cpu-rate',
        '50',
        '--cpu-messages',
        '10',
        '--out',
        dir,
        // A test suite runs files in parallel: the machine is never quiet, and waiting for it would time out.
        '--quiet-wait-s',
        '0',
      ]);
      assert.ok(parsed.ok);
      const report = await runScenario(fanout, parsed.options, new Progress(quiet), 'test');
      await writeReport(report, dir);
      assert.equal(report.targets.length, 2);
      for (const t of report.targets) {
        assert.deepEqual(t.errors, [], t.target);
        assert.equal(t.runs.length, 1);
        const m = t.runs[0]?.metrics ?? {};
        assert.equal(m['cpuPhaseLoss'], 0, `${t.target} lost messages`);
        assert.equal(m['heldLoss'], 0, `${t.target} lost messages`);
        for (const key of ['cpuPerDelivery', 'cpuPhaseP99', 'peakDelivered']) {
          assert.ok(Number.isFinite(m[key]) && (m[key] ?? 0) > 0, `${t.target} ${key}=${m[key]}`);
        }
        // Either part can round to 0 in a run this short (the kernel accounts CPU time in ticks).
        for (const key of ['userCpuPerDelivery', 'kernelCpuPerDelivery']) {
          assert.ok(Number.isFinite(m[key]) && (m[key] ?? -1) >= 0, `${t.target} ${key}=${m[key]}`);
        }
        assert.ok(
          Math.abs(
            (m['userCpuPerDelivery'] ?? 0) + (m['kernelCpuPerDelivery'] ?? 0) - (m['cpuPerDelivery'] ?? 0),
          ) < 1e-9,
          `${t.target}: user + kernel = the whole`,
        );
        assert.equal(t.runs[0]?.series['p99']?.length, 2);
      }
      const files = await readdir(dir);
      const json = files.find((f) => f.endsWith('.json'));
      assert.ok(
        json !== undefined && files.some((f) => f.endsWith('.md')) && files.some((f) => f.endsWith('.svg')),
      );
      const saved = JSON.parse(await readFile(join(dir, json), 'utf8')) as ScenarioReport;
      assert.equal(saved.scenario, 'fanout');
      assert.ok(saved.ratios['ws-frame-once']?.['switchboard'] !== undefined);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
);

test(
  'fanout: the MessagePack and deflate dialects against live servers, beside plain JSON: nothing lost, fewer bytes',
  { timeout: 60_000 },
  async () => {
    const parsed = parseOptions([
      'fanout',
      '--targets',
      'switchboard,switchboard-msgpack,switchboard-deflate',
      '--connections',
      '20',
      '--rates',
      '20',
      '--step-ms',
      '300',
      '--cpu-rate',
      '50',
      '--cpu-messages',
      '10',
      '--payload-bytes',
      '1024',
      '--payload-shape',
      'ticker',
      '--quiet-wait-s',
      '0',
    ]);
    assert.ok(parsed.ok);
    const report = await runScenario(fanout, parsed.options, new Progress(quiet), 'test');
    const bytes: Record<string, number> = {};
    for (const t of report.targets) {
      assert.deepEqual(t.errors, [], t.target);
      const m = t.runs[0]?.metrics ?? {};
      assert.equal(m['cpuPhaseLoss'], 0, `${t.target} lost messages`);
      assert.equal(m['heldLoss'], 0, `${t.target} lost messages`);
      bytes[t.target] = m['wireBytesPerDelivery'] ?? NaN;
    }
    const json = bytes['switchboard'] ?? NaN;
    // A 1 KB ticker: MessagePack is smaller than JSON, deflate far smaller (the target: at most 0.5).
    assert.ok((bytes['switchboard-msgpack'] ?? NaN) < json, JSON.stringify(bytes));
    assert.ok((bytes['switchboard-deflate'] ?? NaN) <= json * 0.5, JSON.stringify(bytes));
  },
);
