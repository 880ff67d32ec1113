/**
 * What the drain and failover scenarios set up alike: the cluster over its own Redis (profiled with
 * `--cpu-prof`), and the flags of the nodes that take the clients in (their accept burst and, when asked,
 * the event-loop admission signal).
 */
import { DEFAULT_LIMITS } from '@switchboard/server';
import type { BenchOptions } from '../options.js';
import { NodeCluster } from '../run/nodes.js';
import type { ScenarioContext } from './scenario.js';

/** A cluster for `context`'s options, stopped when the run ends. */
export async function startRoamCluster(context: ScenarioContext, jwtSecret: string): Promise<NodeCluster> {
  const { options } = context;
  const cluster = await NodeCluster.start({
    jwtSecret,
    heartbeatMs: options.heartbeatMs,
    historySize: options.historySize,
    cpuProfileDir: options.cpuProfileDir,
  });
  context.defer(() => cluster.stop());
  return cluster;
}

/** The receiving nodes' accept burst: `--accept-burst`, or the server's default. */
export function acceptBurstOf(options: BenchOptions): number {
  return options.acceptBurst ?? DEFAULT_LIMITS.connectionBurst;
}

/** The CLI flags of a node that takes the roaming clients in (its budget is the node spec's). */
export function receivingFlags(options: BenchOptions): (readonly [string, number])[] {
  return [
    ['--connection-burst', acceptBurstOf(options)],
    ...(options.admissionLoopDelayMs > 0
      ? [['--admission-loop-delay-ms', options.admissionLoopDelayMs] as const]
      : []),
  ];
}
