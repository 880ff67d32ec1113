import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { renderMarkdown } from '../src/report/markdown.js';
import type { RunResult, ScenarioReport, TargetResult } from '../src/report/result.js';
import { escapeXml, niceTicks, renderSvgChart } from '../src/report/svg-chart.js';
import { writeReport, fileTimestamp } from '../src/report/write-report.js';
import { toPrettyJson } from '../src/report/json.js';
import { format } from 'prettier';
import { ratiosOf } from '../src/run/orchestrator.js';
import { summarize } from '../src/stats/aggregate.js';

function target(name: string, cpu: number[]): TargetResult {
  const runs: RunResult[] = cpu.map((c) => ({
    metrics: { cpu: c, loss: 0 },
    series: {
      p99: [
        { x: 10, y: c },
        { x: 20, y: c * 2 },
      ],
    },
    notes: [],
  }));
  return {
    target: name,
    description: `${name} <target>`,
    runs,
    summary: { cpu: summarize(cpu), loss: summarize(cpu.map(() => 0)) },
    errors: name === 'socketio' ? ['run 2: boom'] : [],
  };
}

function report(): ScenarioReport {
  const targets = [
    target('switchboard', [9, 10, 11]),
    target('ws-frame-once', [5, 5, 6]),
    target('socketio', [12]),
  ];
  const metrics = [
    { key: 'cpu', label: 'server CPU per delivery', unit: 'µs', better: 'lower' as const, digits: 2 },
    { key: 'loss', label: 'loss', unit: '%', better: 'lower' as const },
  ];
  return {
    scenario: 'fanout',
    description: 'test',
    startedAt: '2025-01-31T12:34:56.000Z',
    durationMs: 1234,
    command: 'switchboard-bench fanout',
    machine: {
      cpus: 2,
      cpuModel: 'cpu',
      memoryGiB: 24,
      node: 'v20',
      platform: 'linux x64',
      openFilesNote: 'shared',
      loadAverage1m: 0,
    },
    params: { subscribers: 5000 },
    metrics,
    charts: [{ key: 'p99', title: 'p99 <vs> rate', xLabel: 'rate', yLabel: 'ms' }],
    targets,
    ratios: ratiosOf(targets, ['cpu', 'loss']),
  };
}

test('ratios against each baseline present', () => {
  const r = report();
  assert.equal(r.ratios['ws-frame-once']?.['switchboard']?.['cpu'], 2);
  assert.equal(r.ratios['socketio']?.['ws-frame-once']?.['cpu'], 5 / 12);
  assert.equal(r.ratios['ws-frame-once']?.['socketio']?.['loss'], 1);
});

test('markdown: medians with ranges, ratio tables, notes', () => {
  const md = renderMarkdown(report(), ['chart.svg']);
  assert.match(md, /^# fanout: test/);
  assert.match(md, /\| figure \| switchboard \| ws-frame-once \| socketio \|/);
  assert.match(
    md,
    /\| server CPU per delivery \(µs\) \| 10\.00 \[9\.00 – 11\.00\] \| 5\.00 \[5\.00 – 6\.00\] \| 12\.00 \|/,
  );
  assert.match(md, /Ratio to ws-frame-once/);
  assert.match(md, /\| server CPU per delivery \(lower is better\) \| ×2\.00 \| ×1\.00 \| ×2\.40 \|/);
  assert.match(md, /Ratio to socketio/);
  assert.match(md, /!\[chart\.svg\]\(chart\.svg\)/);
  assert.match(md, /socketio FAILED run 2: boom/);
});

test('SVG chart: escaped text, one path and legend entry per line', () => {
  const svg = renderSvgChart({
    title: 'a <b> & c',
    xLabel: 'x',
    yLabel: 'y',
    lines: [
      {
        name: 'one',
        points: [
          { x: 1, y: 2 },
          { x: 2, y: 4 },
        ],
      },
      { name: 'two', points: [{ x: 1, y: NaN }] },
    ],
  });
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.ok(svg.includes(escapeXml('a <b> & c')));
  assert.ok(!svg.includes('<b>'));
  assert.equal((svg.match(/<path /g) ?? []).length, 1);
  assert.ok(svg.includes('>one</text>') && svg.includes('>two</text>'));
  assert.ok(svg.trimEnd().endsWith('</svg>'));
});

test('nice ticks cover the range in round steps', () => {
  assert.deepEqual(niceTicks(0, 10), [0, 2, 4, 6, 8, 10]);
  assert.deepEqual(niceTicks(0, 7.3), [0, 2, 4, 6, 8]);
  assert.deepEqual(niceTicks(0, 0), [0, 0.2, 0.4, 0.6, 0.8, 1]);
});

test('writeReport writes JSON, markdown and charts', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bench-report-'));
  try {
    const r = report();
    const written = await writeReport(r, dir);
    const base = `fanout-${fileTimestamp(new Date(r.startedAt))}`;
    assert.deepEqual((await readdir(dir)).sort(), [`${base}-p99.svg`, `${base}.json`, `${base}.md`]);
    const json = JSON.parse(await readFile(written.json, 'utf8')) as ScenarioReport;
    assert.equal(json.targets.length, 3);
    assert.match(await readFile(written.markdown, 'utf8'), /p99\.svg/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('results JSON is laid out as Prettier would (so prettier --check passes on results/)', async () => {
  const value = {
    ...report(),
    notes: ['short', 'x'.repeat(120)],
    short: [1, 2, 3],
    empty: [],
    nested: { a: [{ x: 1, y: null }], b: {} },
  };
  const text = toPrettyJson(value);
  assert.equal(text, await format(text, { parser: 'json', printWidth: 110 }));
  assert.deepEqual(JSON.parse(text), JSON.parse(JSON.stringify(value)));
});
