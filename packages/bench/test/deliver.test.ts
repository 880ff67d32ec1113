// End to end: the deliver scenario on the inbox targets (memory, Redis, and PostgreSQL when a server
// answers at 127.0.0.1:5432) beside the send-to-user baseline, tiny sizes. Asserts the report's shape and
// that every delivered message was acked (the server counted each ack), never speed.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { parseOptions } from '../src/options.js';
import { Progress } from '../src/progress.js';
import type { ScenarioReport } from '../src/report/result.js';
import { writeReport } from '../src/report/write-report.js';
import { runScenario } from '../src/run/orchestrator.js';
import { deliver } from '../src/scenarios/deliver.js';
import { postgresMissing } from '../src/targets/postgres-database.js';

const quiet = new Writable({ write: (_chunk, _encoding, done) => done() });

const postgres = postgresMissing();
if (postgres !== null) process.stderr.write(`deliver.test: inbox-postgres left out: ${postgres}\n`);
const TARGETS = [
  'send-to-user',
  'inbox-memory',
  'inbox-redis',
  ...(postgres === null ? ['inbox-postgres'] : []),
];

test(
  `deliver: 20 users, two short steps, ${TARGETS.join(', ')}: every delivered message acked`,
  { timeout: 150_000 },
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bench-deliver-'));
    try {
      const parsed = parseOptions([
        'deliver',
        '--quick',
        '--targets',
        TARGETS.join(','),
        '--connections',
        '20',
        '--rates',
        '50,100',
        '--step-ms',
        '300',
        // Latency decides nothing here: a loaded machine must not stop the second step.
        '--threshold-ms',
        '60000',
        '--out',
        dir,
        // A test suite runs files in parallel: the machine is never quiet, and waiting for it would time out.
        '--quiet-wait-s',
        '0',
      ]);
      assert.ok(parsed.ok);
      const report = await runScenario(deliver, parsed.options, new Progress(quiet), 'test');
      await writeReport(report, dir);
      assert.deepEqual(
        report.targets.map((t) => t.target),
        TARGETS,
      );
      for (const t of report.targets) {
        assert.deepEqual(t.errors, [], t.target);
        assert.equal(t.runs.length, 1);
        const run = t.runs[0];
        const m = run?.metrics ?? {};
        // The warm-up (300 ms at 50/s) and at least the first step (300 ms at 50/s).
        assert.ok((m['delivered'] ?? 0) >= 30, `${t.target} delivered ${m['delivered']}`);
        assert.equal(m['lost'], 0, `${t.target}: delivered messages not acked`);
        assert.equal(m['refused'], 0, `${t.target}: deliver refused`);
        for (const key of ['refAckedPerSecond', 'refP99', 'refCallP99', 'refServerCpu', 'peakAcked']) {
          assert.ok(Number.isFinite(m[key]) && (m[key] ?? 0) > 0, `${t.target} ${key}=${m[key]}`);
        }
        assert.equal(m['refRate'], 50);
        if (t.target === 'send-to-user') assert.ok(Number.isNaN(m['refPushToAckP99']), 'no acks');
        else assert.ok((m['refPushToAckP99'] ?? 0) > 0, `${t.target}: the server saw the acks`);
        // redis-server is the target's own: its CPU is measured; the others have none of their own.
        assert.equal(Number.isFinite(m['refStoreCpu']), t.target === 'inbox-redis', t.target);
        assert.ok((run?.series['p99']?.length ?? 0) >= 1, t.target);
        assert.deepEqual(
          run?.notes.filter((n) => !/busy|^step |^stopped at|held|Redis commands per/.test(n)),
          [],
          `${t.target}: unexpected notes`,
        );
      }
      const files = await readdir(dir);
      const json = files.find((f) => f.endsWith('.json'));
      assert.ok(json !== undefined && files.some((f) => f.endsWith('.md')));
      const saved = JSON.parse(await readFile(join(dir, json), 'utf8')) as ScenarioReport;
      assert.equal(saved.scenario, 'deliver');
      assert.ok(saved.ratios['send-to-user']?.['inbox-redis'] !== undefined, 'ratios to the baseline');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
);
