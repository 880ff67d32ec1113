/** What a scenario is, and the context the orchestrator runs it in. */
import type { BenchOptions } from '../options.js';
import type { ChartDef, MetricDef, RunResult } from '../report/result.js';
import type { Fleet } from '../run/fleet.js';
import type { TargetProcess } from '../run/target-process.js';
import type { TargetSpec } from '../targets/registry.js';

/** What a scenario may use during one run (one target, one repetition). */
export interface ScenarioContext {
  readonly options: BenchOptions;
  readonly target: TargetSpec;
  /** Show a status line. */
  progress(text: string): void;
  /** Start the target (on `port`, default any free one); stopped by the orchestrator after the run. */
  startTarget(port?: number): Promise<TargetProcess>;
  /** Start generators for `planned` connections to `target`; stopped by the orchestrator after the run. */
  startFleet(target: TargetProcess, planned: number): Promise<Fleet>;
  /**
   * Run `stop` when the run ends, however it ends (stops run in the reverse order of registration, with
   * the targets' and fleets'): for what a scenario starts by itself (nodes, roaming generators).
   */
  defer(stop: () => Promise<void>): void;
}

/** A load scenario. */
export interface Scenario {
  readonly name: string;
  readonly description: string;
  readonly metrics: readonly MetricDef[];
  readonly charts: readonly ChartDef[];
  /** The effective workload settings, for the report (so a reader can rerun it). */
  params(options: BenchOptions): Record<string, number | string | boolean>;
  /** Run once against `context.target`. */
  run(context: ScenarioContext): Promise<RunResult>;
}
