/**
 * Switchboard CLI nodes over one Redis of their own, started by the drain and failover scenarios in the
 * orchestrator's own process (not behind a target host): a node must be sent SIGTERM and its exit code
 * and time read, or be killed with its whole process tree at once (a crash). Every process started here is
 * tracked, so none outlives the run, however it ends.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { admissionOffFlags } from '../targets/admission-off.js';
import { freePort, startRedis, stopped } from '../targets/external.js';
import { treePids, treeStats } from '../targets/process-tree.js';
import { killPid, trackChild, trackPid, untrackPid } from './children.js';

const CLI = join(dirname(fileURLToPath(import.meta.resolve('@switchboard/server'))), 'cli', 'main.js');
const HOST = '127.0.0.1';
/** Lines of a node's output kept for error messages. */
const KEPT_LINES = 30;

/** What a node is started with, beyond what every node gets. */
export interface NodeSpec {
  /** Shown in progress and errors: `A`, `B`, ... */
  readonly name: string;
  /** `--workers` (1: one process). */
  readonly workers: number;
  /** `--connection-rate`: the accept budget (new connections per second, also the burst); 0: none. */
  readonly connectionRate: number;
  /** More CLI flags (`--drain-ms`, `--admission-loop-delay-ms`, ...). */
  readonly flags: readonly (readonly [string, number])[];
}

/** What every node of a cluster gets. */
export interface ClusterSettings {
  readonly jwtSecret: string;
  readonly heartbeatMs: number;
  readonly historySize: number;
  /** Where each node writes a V8 CPU profile when it exits (`--cpu-prof`), or undefined: not profiled. */
  readonly cpuProfileDir?: string | undefined;
}

/** How a node's process ended. */
export interface NodeExit {
  readonly code: number | null;
  readonly signal: string | null;
  /** When (epoch ms). */
  readonly at: number;
}

/** Prometheus samples by name with labels (`name{label="v"}`), as written. */
export type Samples = ReadonlyMap<string, number>;

/** Parse the Prometheus text exposition (comments skipped). */
export function parseSamples(text: string): Samples {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    if (space > 0) samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return samples;
}

/** The sum of every sample of metric `name` whose labels contain `labels` (e.g. `reason="accept_budget"`). */
export function sampleSum(samples: Samples, name: string, labels = ''): number {
  let sum = 0;
  for (const [key, value] of samples) {
    const bare = key.indexOf('{') < 0 ? key : key.slice(0, key.indexOf('{'));
    if (bare === name && key.includes(labels)) sum += value;
  }
  return sum;
}

/** One running node. */
export class SwitchboardNode {
  private descendants: number[] = [];

  private constructor(
    readonly spec: NodeSpec,
    readonly port: number,
    private readonly child: ChildProcess,
    /** Resolves when the node's (primary) process exited. */
    readonly exited: Promise<NodeExit>,
    private readonly output: string[],
  ) {}

  /** Start `spec` against `redisUrl`; resolves once it (every worker) listens. */
  static async start(spec: NodeSpec, redisUrl: string, settings: ClusterSettings): Promise<SwitchboardNode> {
    const port = await freePort();
    const hb = settings.heartbeatMs;
    const flags: (readonly [string, number | string])[] = [
      ['--host', HOST],
      ['--port', port],
      ['--workers', spec.workers],
      ['--redis-url', redisUrl],
      ['--heartbeat-interval-ms', hb],
      ['--heartbeat-timeout-ms', hb * 3],
      ['--history-size', settings.historySize],
      ...admissionOffFlags().filter(([flag]) => flag !== '--connection-rate'),
      ['--connection-rate', spec.connectionRate],
      ...spec.flags,
      // info: the `switchboard listening` line says when every worker listens.
      ['--log-level', 'info'],
    ];
    const profile =
      settings.cpuProfileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', settings.cpuProfileDir];
    const args = [...profile, CLI, ...flags.flatMap(([f, v]) => [f, String(v)]), '--no-demo'];
    const child = spawn(process.execPath, args, {
      env: { ...process.env, SWITCHBOARD_JWT_SECRET: settings.jwtSecret },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    trackChild(child);
    const output: string[] = [];
    const exited = new Promise<NodeExit>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
    );
    const listening = new Promise<void>((resolve, reject) => {
      const keep = (chunk: Buffer): void => {
        for (const line of chunk.toString().split('\n')) {
          if (line === '') continue;
          output.push(line);
          if (output.length > KEPT_LINES) output.shift();
          // The primary's line (every worker listens), or the one process's.
          if (line.includes('"msg":"switchboard listening"') && line.includes(`"pid":${child.pid}`))
            resolve();
        }
      };
      child.stdout?.on('data', keep);
      child.stderr?.on('data', keep);
      void exited.then((exit) =>
        reject(new Error(`node ${spec.name} exited (${exit.signal ?? exit.code}): ${output.join('\n')}`)),
      );
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`node ${spec.name} did not listen within 30 s`)), 30_000);
    });
    try {
      await Promise.race([listening, timeout]);
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    } finally {
      clearTimeout(timer);
    }
    const node = new SwitchboardNode(spec, port, child, exited, output);
    node.profiled = profile.length > 0;
    // Workers die with their primary, but a crash is simulated by killing all at once: know their pids.
    node.descendants = treePids([child.pid ?? 0]).filter((pid) => pid !== child.pid);
    for (const pid of node.descendants) trackPid(pid);
    return node;
  }

  /** The (primary) process id. */
  get pid(): number {
    return this.child.pid ?? 0;
  }

  /** CPU time (µs, user + system) of the node's processes so far, read from /proc. */
  cpuMicros(): number {
    const stats = treeStats([this.pid]);
    return stats.cpuUser + stats.cpuSystem;
  }

  /** `ws://host:port`. */
  get url(): string {
    return `ws://${HOST}:${this.port}`;
  }

  /** Whether the (primary) process still runs. */
  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The node's last lines of output (for an error message). */
  lastOutput(): string {
    return this.output.join('\n');
  }

  /** Send `signal` to the (primary) process: SIGTERM drains. */
  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** A crash: SIGKILL the process and every descendant at the same moment. */
  killTree(): void {
    const pids = [...new Set([...treePids([this.child.pid ?? 0]), ...this.descendants])];
    for (const pid of pids) killPid(pid);
  }

  /** The node's Prometheus samples now (a worker's, when it has several). */
  async metrics(): Promise<Samples> {
    const response = await fetch(`http://${HOST}:${this.port}/metrics`, {
      signal: AbortSignal.timeout(5000),
    });
    return parseSamples(await response.text());
  }

  /** Profiled: a V8 CPU profile is written on a normal exit only, so {@link stop} lets it exit. */
  private profiled = false;

  /** Stop at once (the run is over): the whole tree killed, then waited for (profiled: SIGTERM first). */
  async stop(): Promise<void> {
    if (this.alive && this.profiled) {
      this.signal('SIGTERM');
      await stopped(this.child, 20_000);
    }
    if (this.alive) this.killTree();
    await stopped(this.child, 5000);
    for (const pid of this.descendants) {
      killPid(pid);
      untrackPid(pid);
    }
  }
}

/** A Redis and the nodes started on it; `stop` ends them all. */
export class NodeCluster {
  private constructor(
    private readonly redis: { readonly child: ChildProcess; readonly url: string },
    readonly nodes: SwitchboardNode[],
    private readonly settings: ClusterSettings,
  ) {}

  /** Start a redis-server of its own (tracked: killed when the run ends). */
  static async start(settings: ClusterSettings): Promise<NodeCluster> {
    const redis = await startRedis();
    trackChild(redis.child);
    return new NodeCluster(redis, [], settings);
  }

  /** Start one more node. */
  async add(spec: NodeSpec): Promise<SwitchboardNode> {
    const node = await SwitchboardNode.start(spec, this.redis.url, this.settings);
    this.nodes.push(node);
    return node;
  }

  /** Kill every node, then Redis. */
  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
    this.redis.child.kill('SIGKILL');
    await stopped(this.redis.child, 3000);
  }
}
