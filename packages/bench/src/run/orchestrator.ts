/**
 * Runs one scenario against every target, `repeat` times, interleaved (run 1 of every target, then
 * run 2, ...) so that slow drifts of the machine spread over all targets. Each run gets fresh
 * processes and a hard time limit; whatever a run started is stopped when it ends, however it ends.
 */
import { randomBytes } from 'node:crypto';
import type { BenchOptions } from '../options.js';
import type { Progress } from '../progress.js';
import { machineInfo } from '../machine.js';
import type { RunResult, ScenarioReport, TargetResult } from '../report/result.js';
import type { Scenario, ScenarioContext } from '../scenarios/scenario.js';
import { ratio, summarize } from '../stats/aggregate.js';
import type { Summary } from '../stats/aggregate.js';
import { findTarget } from '../targets/registry.js';
import type { TargetSpec } from '../targets/registry.js';
import { Fleet } from './fleet.js';
import { waitForQuiet } from './quiet.js';
import { TargetProcess } from './target-process.js';

/** A run starts once the machine is at most this busy (other processes), or after --quiet-wait-s. */
const QUIET_BUSY_PERCENT = 15;

/** Targets that run --workers server processes. */
const MULTI_PROCESS = ['switchboard-workers', 'socketio-redis'];

/** Whether a target is a Switchboard server (whose clients speak one of its dialects). */
function isSwitchboard(name: string): boolean {
  const dialect = findTarget(name)?.dialect;
  return dialect === 'switchboard' || dialect === 'switchboard-unbatched';
}

/** Baselines every figure is also given against, when they took part (send-to-user: the inbox targets'). */
export const BASELINES = ['ws-frame-once', 'socketio', 'send-to-user'] as const;

/** Resolve target names; throws on an unknown or unavailable one. */
export function resolveTargets(names: readonly string[]): TargetSpec[] {
  return names.map((name) => {
    const spec = findTarget(name);
    if (spec === undefined) throw new Error(`unknown target ${name}`);
    const why = spec.unavailable();
    if (why !== null) throw new Error(`target ${name} is unavailable: ${why}`);
    return spec;
  });
}

async function runOnce(
  scenario: Scenario,
  spec: TargetSpec,
  options: BenchOptions,
  progress: (text: string) => void,
): Promise<RunResult> {
  const stops: (() => Promise<void>)[] = [];
  const jwtSecret = randomBytes(32).toString('hex');
  const context: ScenarioContext = {
    options,
    target: spec,
    progress,
    startTarget: async (port = 0) => {
      const target = await TargetProcess.start(
        spec,
        {
          host: '127.0.0.1',
          port,
          heartbeatMs: options.heartbeatMs,
          jwtSecret,
          historySize: options.historySize,
          batchDelayMs: options.batchDelayMs,
          workers: options.workers,
          deflate: spec.deflate === true,
        },
        options.cpuProfileDir,
      );
      stops.push(() => target.stop());
      return target;
    },
    startFleet: async (target, planned) => {
      const fleet = await Fleet.start({
        planned,
        minimum: options.generators,
        dialect: spec.dialect,
        deflate: spec.deflate === true,
        url: target.url,
        jwtSecret,
      });
      stops.push(() => fleet.stop());
      return fleet;
    },
    defer: (stop) => {
      stops.push(stop);
    },
  };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`run exceeded ${options.timeoutS} s`)),
      options.timeoutS * 1000,
    );
  });
  try {
    return await Promise.race([scenario.run(context), timeout]);
  } finally {
    clearTimeout(timer);
    // Generators first (their sockets close), then the target.
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  }
}

/** Run `scenario` as `options` say and build its report. */
export async function runScenario(
  scenario: Scenario,
  options: BenchOptions,
  progress: Progress,
  command: string,
): Promise<ScenarioReport> {
  const specs = resolveTargets(options.targets);
  const machine = machineInfo();
  const startedAt = new Date();
  const runs = new Map<string, RunResult[]>(specs.map((s) => [s.name, []]));
  const errors = new Map<string, string[]>(specs.map((s) => [s.name, []]));
  for (let rep = 1; rep <= options.repeat; rep++) {
    for (const spec of specs) {
      const label = `${scenario.name} ${spec.name} run ${rep}/${options.repeat}`;
      progress.update(`${label}: waiting for the machine to be quiet`);
      const busy = await waitForQuiet(QUIET_BUSY_PERCENT, options.quietWaitS * 1000);
      progress.update(`${label}: starting`);
      const started = Date.now();
      try {
        const result = await runOnce(scenario, spec, options, (text) => progress.update(`${label}: ${text}`));
        const note = `the machine was ${busy.toFixed(0)}% busy with other work when this run started`;
        runs
          .get(spec.name)
          ?.push(busy > QUIET_BUSY_PERCENT ? { ...result, notes: [...result.notes, note] } : result);
        progress.log(`${label}: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        errors.get(spec.name)?.push(`run ${rep}: ${message}`);
        progress.log(`${label}: FAILED: ${message}`);
      }
    }
  }
  progress.done();
  const targets: TargetResult[] = specs.map((spec) => {
    const targetRuns = runs.get(spec.name) ?? [];
    const summary: Record<string, Summary> = {};
    for (const metric of scenario.metrics) {
      summary[metric.key] = summarize(targetRuns.map((r) => r.metrics[metric.key] ?? NaN));
    }
    return {
      target: spec.name,
      description: spec.description,
      runs: targetRuns,
      summary,
      errors: errors.get(spec.name) ?? [],
    };
  });
  return {
    scenario: scenario.name,
    description: scenario.description,
    startedAt: startedAt.toISOString(),
    durationMs: Date.now() - startedAt.getTime(),
    command,
    machine,
    params: {
      ...scenario.params(options),
      repeat: options.repeat,
      targets: options.targets.join(','),
      ...(options.targets.some((t) => MULTI_PROCESS.includes(t)) ? { workers: options.workers } : {}),
      ...(options.targets.some(isSwitchboard) ? { batchDelayMs: options.batchDelayMs } : {}),
    },
    metrics: scenario.metrics,
    charts: scenario.charts,
    targets,
    ratios: ratiosOf(
      targets,
      scenario.metrics.map((m) => m.key),
    ),
  };
}

/** Each target's median of each figure divided by each baseline's. */
export function ratiosOf(
  targets: readonly TargetResult[],
  keys: readonly string[],
): Record<string, Record<string, Record<string, number>>> {
  const result: Record<string, Record<string, Record<string, number>>> = {};
  for (const baseline of BASELINES) {
    const base = targets.find((t) => t.target === baseline);
    if (base === undefined) continue;
    const byTarget: Record<string, Record<string, number>> = {};
    for (const target of targets) {
      const values: Record<string, number> = {};
      for (const key of keys) {
        values[key] = ratio(target.summary[key]?.median ?? NaN, base.summary[key]?.median ?? NaN);
      }
      byTarget[target.target] = values;
    }
    result[baseline] = byTarget;
  }
  return result;
}
