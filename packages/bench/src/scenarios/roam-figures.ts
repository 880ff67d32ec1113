/**
 * The figures the drain and failover scenarios share, from the roaming generators' merged report: when the
 * clients were back, how fast the surviving nodes admitted them against their budget, what was refused,
 * and what the recovering subscribers lost. Pure.
 */
import type { PublishOutcome, RoamReport } from '../generator/roaming-plan.js';
import type { MetricDef, Point } from '../report/result.js';
import { peakInWindow, percentileOf, perSlot, tokenBucketExcess } from '../stats/windows.js';

/** Admission times are the nodes' `connected` frame `time`: whole milliseconds. */
const CLOCK_RESOLUTION_MS = 1;

/** What the figures are taken against. */
export interface RoamContext {
  /** When the node was signalled or killed (epoch ms). */
  readonly eventAt: number;
  /** Indices of the nodes that must hold every client in the end, their accept budget (/s) and burst. */
  readonly survivors: readonly number[];
  readonly budget: number;
  readonly burst: number;
  /** The node that went away. */
  readonly gone: number;
}

/** The shared figures, by metric key. */
export function roamMetrics(
  report: RoamReport,
  published: PublishOutcome,
  context: RoamContext,
): Record<string, number> {
  const clients = report.backAt.length;
  const since = report.backAt.filter((t) => t > 0).map((t) => t - context.eventAt);
  const away = report.backAt.flatMap((t, i) => {
    const lost = report.lostAt[i] ?? 0;
    return t > 0 && lost > 0 ? [t - lost] : [];
  });
  const onSurvivors = report.node.filter((n) => context.survivors.includes(n)).length;
  const accepts = context.survivors.map((n) => report.acceptedAt[n] ?? []);
  const refused = context.survivors.reduce((a, n) => a + (report.refusals[n]?.http503 ?? 0), 0);
  const gone = report.refusals[context.gone];
  const attempts = report.attempts.reduce((a, b) => a + b, 0);
  const s = report.sequence;
  return {
    allBackMs: onSurvivors === clients && since.length === clients ? Math.max(...since) : NaN,
    backP50Ms: percentileOf(since, 50),
    backP99Ms: percentileOf(since, 99),
    awayP50Ms: percentileOf(away, 50),
    awayP99Ms: percentileOf(away, 99),
    neverBack: clients - onSurvivors,
    peakAcceptRate: Math.max(0, ...accepts.map((times) => peakInWindow(times, 1000))),
    acceptBudget: context.budget,
    acceptBurst: context.burst,
    budgetExcess: Math.max(
      0,
      ...accepts.map((times) => tokenBucketExcess(times, context.budget, context.burst, CLOCK_RESOLUTION_MS)),
    ),
    refused503: refused,
    refusedByGone: (gone?.http503 ?? 0) + (gone?.connRefused ?? 0) + (gone?.other ?? 0),
    attemptsPerClient: clients === 0 ? NaN : attempts / clients,
    hintedCloses: report.hintedCloses,
    meanHintMs: report.hintedCloses === 0 ? NaN : report.hintedDelayMs / report.hintedCloses,
    lostMessages: s.missing + report.behindBy,
    sequenceGaps: s.gaps + s.numberGaps,
    duplicates: s.duplicates,
    recovered: s.recovered,
    notRecovered: s.notRecovered,
    replayed: s.replayed,
    published: published.published,
    publishRefused: published.refused,
  };
}

/** Admissions per second on the survivors, in 500 ms slots from the event (a chart series). */
export function acceptSeries(report: RoamReport, context: RoamContext): Point[] {
  const times = context.survivors.flatMap((n) => report.acceptedAt[n] ?? []);
  return perSlot(times, context.eventAt, 500).map((n, i) => ({ x: (i + 1) / 2, y: n * 2 }));
}

/** Notes on what should not have happened; `expectedClose` is the close code the event itself causes. */
export function roamNotes(report: RoamReport, published: PublishOutcome, expectedClose?: number): string[] {
  const notes: string[] = [];
  if (report.subscribeRefusals > 0) {
    notes.push(
      `${report.subscribeRefusals} subscribes refused and retried, ${report.subscribeFailures} given up; the first: ${report.firstSubscribeRefusal}`,
    );
  }
  if (published.refused > 0)
    notes.push(`${published.refused} publishes refused; the first: ${published.firstRefusal}`);
  if (report.firstDuplicate !== '') notes.push(`the first duplicate message: ${report.firstDuplicate}`);
  if (report.behind > 0)
    notes.push(`${report.behind} clients short of their room's last id by ${report.behindBy} in all`);
  const closes = Object.entries(report.otherCloses)
    .filter(([code]) => Number(code) !== expectedClose)
    .map(([code, n]) => `${n} x ${code}`);
  if (closes.length > 0) notes.push(`connections closed without a drain hint: ${closes.join(', ')}`);
  return notes;
}

/** The shared metric definitions, in report order. */
export const ROAM_METRICS: readonly MetricDef[] = [
  {
    key: 'allBackMs',
    label: 'event → every client back and subscribed',
    unit: 'ms',
    better: 'lower',
    digits: 0,
  },
  { key: 'backP50Ms', label: 'event → client back, p50', unit: 'ms', better: 'lower', digits: 0 },
  { key: 'backP99Ms', label: 'event → client back, p99', unit: 'ms', better: 'lower', digits: 0 },
  { key: 'awayP50Ms', label: 'time a client was away, p50', unit: 'ms', better: 'lower', digits: 0 },
  { key: 'awayP99Ms', label: 'time a client was away, p99', unit: 'ms', better: 'lower', digits: 0 },
  { key: 'neverBack', label: 'clients never back (must be 0)', unit: '', better: 'lower', digits: 0 },
  {
    key: 'peakAcceptRate',
    label: "a survivor's peak admissions in 1 s",
    unit: '/s',
    better: 'lower',
    digits: 0,
  },
  {
    key: 'acceptBudget',
    label: 'accept budget per survivor (rate)',
    unit: '/s',
    better: 'lower',
    digits: 0,
  },
  { key: 'acceptBurst', label: 'accept burst per survivor', unit: '', better: 'lower', digits: 0 },
  {
    key: 'budgetExcess',
    label: 'admissions over burst + rate × interval, worst interval (must be 0)',
    unit: '',
    better: 'lower',
    digits: 0,
  },
  {
    key: 'refused503',
    label: 'attempts refused 503 by survivors (retried)',
    unit: '',
    better: 'lower',
    digits: 0,
  },
  { key: 'refusedByGone', label: 'attempts refused by the node gone', unit: '', better: 'lower', digits: 0 },
  { key: 'attemptsPerClient', label: 'connection attempts per client', unit: '', better: 'lower', digits: 2 },
  { key: 'hintedCloses', label: 'closes with a drain hint (1012)', unit: '', better: 'higher', digits: 0 },
  { key: 'meanHintMs', label: 'mean hinted delay', unit: 'ms', better: 'lower', digits: 1 },
  {
    key: 'lostMessages',
    label: 'messages lost by recovering subscribers (must be 0)',
    unit: '',
    better: 'lower',
    digits: 0,
  },
  {
    key: 'sequenceGaps',
    label: 'holes in id or number sequences (must be 0)',
    unit: '',
    better: 'lower',
    digits: 0,
  },
  { key: 'duplicates', label: 'duplicate messages', unit: '', better: 'lower', digits: 0 },
  { key: 'recovered', label: 'resubscribes recovered', unit: '', better: 'higher', digits: 0 },
  {
    key: 'notRecovered',
    label: 'resubscribes not recovered (must be 0)',
    unit: '',
    better: 'lower',
    digits: 0,
  },
  { key: 'replayed', label: 'messages replayed by recovery', unit: '', better: 'higher', digits: 0 },
  { key: 'published', label: 'numbered messages published', unit: '', better: 'higher', digits: 0 },
  { key: 'publishRefused', label: 'publishes refused', unit: '', better: 'lower', digits: 0 },
];
