/** The orchestrator's handle on a target process. */
import { childModule } from '../ipc/child-module.js';
import { RpcClient } from '../ipc/rpc.js';
import type { TargetSpec } from '../targets/registry.js';
import type {
  DriveParams,
  DriveResult,
  ProcessStats,
  ServerDeliveries,
  TargetApi,
  TargetConfig,
} from '../targets/target.js';
import { treePids } from '../targets/process-tree.js';
import { killPid, trackChild, trackPid, untrackPid } from './children.js';

const HOST = childModule('../targets/target-host', import.meta.url);

/** A running target in its own process (started with --expose-gc, so `gc()` works). */
export class TargetProcess {
  private constructor(
    /** Which target. */
    readonly spec: TargetSpec,
    private readonly rpc: RpcClient<TargetApi>,
    /** The port it listens on. */
    readonly port: number,
    /** The config it was started with. */
    readonly config: TargetConfig,
    /** Processes the target started outside its host (killed with it). */
    private readonly pids: readonly number[],
  ) {}

  /** Fork the target's process and start its server; with `cpuProfileDir`, under the V8 CPU profiler. */
  static async start(spec: TargetSpec, config: TargetConfig, cpuProfileDir?: string): Promise<TargetProcess> {
    // --cpu-prof writes the profile when the process exits (stop() lets it exit by itself).
    const profile = cpuProfileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', cpuProfileDir];
    const rpc = RpcClient.spawn<TargetApi>(HOST.path, {
      name: `target ${spec.name}`,
      args: [spec.name],
      execArgv: [...HOST.execArgv, '--expose-gc', ...profile],
    });
    trackChild(rpc.child);
    try {
      await rpc.ready();
      const { port, pids } = await rpc.call('start', config, 60_000);
      for (const pid of pids) trackPid(pid);
      return new TargetProcess(spec, rpc, port, { ...config, port }, pids);
    } catch (error) {
      await rpc.kill();
      throw error;
    }
  }

  /** `ws://host:port` of the server. */
  get url(): string {
    return `ws://${this.config.host}:${this.port}`;
  }

  /** The process's figures now; `reset` starts new event-loop delay window. */
  stats(reset = true): Promise<ProcessStats> {
    return this.rpc.call('stats', { reset }, 30_000);
  }

  /** Collect garbage, then the figures. */
  gc(): Promise<ProcessStats> {
    return this.rpc.call('gc', null, 60_000);
  }

  /** Delivery targets: call the server's delivery API at a rate (resolves when every call settled). */
  drive(params: DriveParams): Promise<DriveResult> {
    const expectedMs = (params.messages / params.ratePerSecond) * 1000;
    return this.rpc.call('drive', params, expectedMs * 2 + 60_000);
  }

  /** Delivery targets: what the server counted since the last reset. */
  deliveries(reset: boolean): Promise<ServerDeliveries> {
    return this.rpc.call('deliveries', { reset }, 30_000);
  }

  /** Whether the process is gone. */
  get dead(): boolean {
    return this.rpc.dead;
  }

  /** Stop the server and the process (killed if it takes more than a few seconds). */
  async stop(): Promise<void> {
    if (!this.rpc.dead) {
      await this.rpc.call('stop', null, 15_000).catch(() => undefined);
      await this.rpc.waitOrKill(3000);
    }
    this.killOutside();
  }

  /** Kill the process at once (a crash, for the storm scenario). */
  async kill(): Promise<void> {
    this.killOutside();
    await this.rpc.kill();
  }

  private killOutside(): void {
    if (this.pids.length === 0) return;
    for (const pid of treePids(this.pids).reverse()) killPid(pid);
    for (const pid of this.pids) untrackPid(pid);
  }
}
