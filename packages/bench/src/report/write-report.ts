/** Writing a report to disk: JSON (everything), markdown (the tables) and one SVG per chart. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { toPrettyJson } from './json.js';
import { renderMarkdown } from './markdown.js';
import type { RunResult, ScenarioReport } from './result.js';
import { renderSvgChart } from './svg-chart.js';

/** The files a report was written to. */
export interface WrittenReport {
  readonly json: string;
  readonly markdown: string;
  readonly charts: readonly string[];
}

/** `2025-01-31T12-34-56`: sortable, and safe in file names. */
export function fileTimestamp(date: Date): string {
  return date.toISOString().slice(0, 19).replace(/:/g, '-');
}

/** The run whose `key` figure is the median of the runs (the one a chart shows), or undefined. */
export function medianRun(runs: readonly RunResult[], key: string): RunResult | undefined {
  const sorted = [...runs].sort((a, b) => (a.metrics[key] ?? 0) - (b.metrics[key] ?? 0));
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

/** Write `report` into `dir` (created if needed). */
export async function writeReport(report: ScenarioReport, dir: string): Promise<WrittenReport> {
  await mkdir(dir, { recursive: true });
  const base = `${report.scenario}-${fileTimestamp(new Date(report.startedAt))}`;
  const charts: string[] = [];
  const key = report.metrics[0]?.key ?? '';
  for (const chart of report.charts) {
    const lines = report.targets.map((t) => ({
      name: t.target,
      points: medianRun(t.runs, key)?.series[chart.key] ?? [],
    }));
    if (lines.every((l) => l.points.length === 0)) continue;
    const file = `${base}-${chart.key}.svg`;
    await writeFile(join(dir, file), renderSvgChart({ ...chart, lines }));
    charts.push(file);
  }
  const json = join(dir, `${base}.json`);
  const markdown = join(dir, `${base}.md`);
  await writeFile(json, toPrettyJson(report));
  await writeFile(markdown, renderMarkdown(report, charts));
  return { json, markdown, charts: charts.map((c) => join(dir, c)) };
}
