/**
 * The entry of a target process: `node --expose-gc target-host.js <target>`. Starts the target's server
 * when asked and answers the orchestrator's `stats`, `gc` and `stop` over IPC.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { serveRpc } from '../ipc/rpc.js';
import { treeStats } from './process-tree.js';
import { findTarget } from './registry.js';
import type { ProcessStats, RunningTarget, TargetApi, TargetModule } from './target.js';

const name = process.argv[2] ?? '';
const spec = findTarget(name);
if (spec === undefined) throw new Error(`unknown target ${name}`);
const module = (await import(new URL(`./${spec.module}.js`, import.meta.url).href)) as TargetModule;

let running: RunningTarget | undefined;
/** The delay monitor's timer period (ms): its samples include it, so it is subtracted. */
const RESOLUTION_MS = 10;
const loopDelay = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
loopDelay.enable();

function stats(reset: boolean): ProcessStats {
  const pids = running?.pids ?? [];
  if (pids.length > 0) {
    const tree = treeStats(pids);
    return {
      rss: tree.rss,
      heapUsed: NaN,
      heapTotal: NaN,
      external: NaN,
      cpuUser: tree.cpuUser,
      cpuSystem: tree.cpuSystem,
      connections: running?.connections() ?? NaN,
      loopDelayP99Ms: NaN,
      loopDelayMaxMs: NaN,
      heartbeat: running?.takeHeartbeatCost() ?? null,
      at: performance.timeOrigin + performance.now(),
    };
  }
  const memory = process.memoryUsage();
  const cpu = process.cpuUsage();
  const result: ProcessStats = {
    rss: memory.rss,
    heapUsed: memory.heapUsed,
    heapTotal: memory.heapTotal,
    external: memory.external,
    cpuUser: cpu.user,
    cpuSystem: cpu.system,
    connections: running?.connections() ?? 0,
    loopDelayP99Ms: Math.max(0, loopDelay.percentile(99) / 1e6 - RESOLUTION_MS),
    loopDelayMaxMs: Math.max(0, loopDelay.max / 1e6 - RESOLUTION_MS),
    heartbeat: running?.takeHeartbeatCost() ?? null,
    at: performance.timeOrigin + performance.now(),
  };
  if (reset) loopDelay.reset();
  return result;
}

/** Full collections, with turns of the event loop between them so that finalizers and weak refs settle. */
async function collect(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('target started without --expose-gc');
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

serveRpc<TargetApi>({
  start: async (config) => {
    running = await module.start(config);
    return { port: running.port, pids: running.pids };
  },
  stats: ({ reset }) => Promise.resolve(stats(reset)),
  gc: async () => {
    // Processes outside the host cannot be made to collect: their figures are taken as they are.
    if ((running?.pids.length ?? 0) === 0) await collect();
    return stats(false);
  },
  drive: (params) => {
    if (running?.drive === undefined) return Promise.reject(new Error(`target ${name} has no driver`));
    return running.drive(params);
  },
  deliveries: ({ reset }) => {
    if (running?.deliveries === undefined)
      return Promise.reject(new Error(`target ${name} counts no deliveries`));
    return running.deliveries(reset);
  },
  stop: async () => {
    await running?.stop();
    running = undefined;
    setTimeout(() => process.exit(0), 10).unref();
    return null;
  },
});
