/**
 * The markdown report: what was run, a table of medians (with the range when there were several
 * runs), a table of ratios against the baselines, and the notes and errors of each run.
 */
import { formatNumber, formatRatio } from './format.js';
import type { ScenarioReport } from './result.js';

function row(cells: readonly string[]): string {
  return `| ${cells.join(' | ')} |`;
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  return [row(header), row(header.map(() => '---')), ...rows.map(row)];
}

/** Render `report` as markdown; `charts` are file names of the SVG charts beside it. */
export function renderMarkdown(report: ScenarioReport, charts: readonly string[] = []): string {
  const names = report.targets.map((t) => t.target);
  const lines: string[] = [
    `# ${report.scenario}: ${report.description}`,
    '',
    `- started ${report.startedAt}, took ${formatNumber(report.durationMs / 1000, 0)} s`,
    `- machine: ${report.machine.cpus} × ${report.machine.cpuModel}, ${report.machine.memoryGiB} GiB, ` +
      `Node ${report.machine.node} (${report.machine.openFilesNote}); load average ${report.machine.loadAverage1m} before the runs`,
    `- command: \`${report.command}\``,
    `- parameters: ${Object.entries(report.params)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(', ')}`,
    '',
  ];
  const multi = report.targets.some((t) => t.runs.length > 1);
  lines.push(multi ? 'Median of the runs [min – max].' : 'One run per target.', '');
  lines.push(
    ...table(
      ['figure', ...names],
      report.metrics.map((m) => [
        m.unit === '' ? m.label : `${m.label} (${m.unit})`,
        ...report.targets.map((t) => {
          const s = t.summary[m.key];
          if (s === undefined || s.runs === 0) return '–';
          const digits = m.digits ?? 1;
          const value = formatNumber(s.median, digits);
          return s.runs > 1
            ? `${value} [${formatNumber(s.min, digits)} – ${formatNumber(s.max, digits)}]`
            : value;
        }),
      ]),
    ),
  );
  for (const [baseline, byTarget] of Object.entries(report.ratios)) {
    lines.push('', `Ratio to ${baseline} (median / median; ${baseline} = ×1.00).`, '');
    lines.push(
      ...table(
        ['figure', ...names],
        report.metrics.map((m) => [
          `${m.label} (${m.better} is better)`,
          ...names.map((n) => formatRatio(byTarget[n]?.[m.key] ?? NaN)),
        ]),
      ),
    );
  }
  for (const chart of charts) lines.push('', `![${chart}](${chart})`);
  const notes = report.targets.flatMap((t) => [
    ...t.runs.flatMap((r, i) => r.notes.map((n) => `- ${t.target} run ${i + 1}: ${n}`)),
    ...t.errors.map((e) => `- ${t.target} FAILED ${e}`),
  ]);
  if (notes.length > 0) lines.push('', '## Notes', '', ...notes);
  lines.push('', '## Targets', '', ...report.targets.map((t) => `- \`${t.target}\`: ${t.description}`));
  return `${lines.join('\n')}\n`;
}
