/** The shape of a benchmark's results, from one run to the report written to disk. */
import type { Summary } from '../stats/aggregate.js';

/** Whether a smaller or a larger value of a figure is better. */
export type Better = 'lower' | 'higher';

/** One reported figure. */
export interface MetricDef {
  readonly key: string;
  readonly label: string;
  /** Shown after the value: 'µs', 'KB', 'msg/s', '%', ... */
  readonly unit: string;
  readonly better: Better;
  /** Decimal places in tables. Default 1. */
  readonly digits?: number;
}

/** A point of a chart series. */
export interface Point {
  readonly x: number;
  readonly y: number;
}

/** A chart: one line per target, from the series named `key` of each run. */
export interface ChartDef {
  readonly key: string;
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
}

/** What one run of a scenario against one target measured. */
export interface RunResult {
  /** Figures by MetricDef key; NaN when not measured. */
  readonly metrics: Record<string, number>;
  /** Chart series by ChartDef key. */
  readonly series: Record<string, readonly Point[]>;
  /** Anything a reader should know about this run (failures, saturation, ...). */
  readonly notes: readonly string[];
}

/** Every run of one target, summarized. */
export interface TargetResult {
  readonly target: string;
  readonly description: string;
  readonly runs: readonly RunResult[];
  /** Median and range of each figure over the runs. */
  readonly summary: Record<string, Summary>;
  /** An error that stopped a run, if any. */
  readonly errors: readonly string[];
}

/** The machine the figures come from. */
export interface MachineInfo {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly node: string;
  readonly platform: string;
  readonly openFilesNote: string;
  /** The 1-minute load average before the runs: well above 0 means something else was running. */
  readonly loadAverage1m: number;
}

/** A whole report: what was run, how, where, and what came out. */
export interface ScenarioReport {
  readonly scenario: string;
  readonly description: string;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly command: string;
  readonly machine: MachineInfo;
  readonly params: Record<string, number | string | boolean>;
  readonly metrics: readonly MetricDef[];
  readonly charts: readonly ChartDef[];
  readonly targets: readonly TargetResult[];
  /** Median of each figure divided by the baseline's median, per baseline name, per target. */
  readonly ratios: Record<string, Record<string, Record<string, number>>>;
}
