/**
 * Real redis-server processes for integration tests, each on a free loopback port (never the machine's
 * own 127.0.0.1:6379), keeping nothing on disk, and killed when the test process exits.
 *
 * A suite needing Redis skips loudly without redis-server and fails where `SWITCHBOARD_REQUIRE` names it
 * (see requirements.ts):
 *
 * @example
 * import { redisRequirement, startRedis } from './redis-harness.js';
 * import type { RedisProcess } from './redis-harness.js';
 *
 * const TEST = { skip: redisRequirement.skip, timeout: 20_000 };
 *
 * describe('redis broker', () => {
 *   let redis: RedisProcess | undefined;
 *   before(async () => {
 *     if (redisRequirement.skip !== false) return;
 *     redisRequirement.assert(); // throws the install hint when required but missing
 *     redis = await startRedis();
 *   });
 *   after(async () => {
 *     await redis?.stop();
 *   });
 *   it('publishes across nodes', TEST, async () => {
 *     // ... createServer({ redis: redis.url }) ...
 *     await redis?.kill(); // a crash: SIGKILL
 *     await redis?.restart(); // same port, empty
 *   });
 * });
 *
 * Cluster tests need Redis 7 or newer (CLUSTER ADDSLOTSRANGE, `cluster-port`, sharded pub/sub), which is
 * what Debian 12's redis-server package installs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { after, before } from 'node:test';
import { connect as connectTcp, createServer as createNetServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { OwnedChild } from './node-process.js';
import { redisServerPath, requirement } from './requirements.js';
import type { Requirement } from './requirements.js';

/** Whether Redis suites run, skip (loudly) or fail; see the module example. */
export const redisRequirement: Requirement = requirement('redis-server', redisServerPath() !== undefined);

const HOST = '127.0.0.1';
/** Ports a local Redis or its cluster bus may already use; a free-port pick never returns them. */
const RESERVED_PORTS = new Set([6379, 16379]);
const TOTAL_SLOTS = 16_384;
/** Tries when another process takes a picked port between the pick and redis-server's bind. */
const PORT_ATTEMPTS = 5;
/** How long a stopping redis-server gets after SIGTERM before SIGKILL (it keeps nothing, so it is quick). */
const STOP_GRACE_MS = 3000;

/**
 * A redis-server for the enclosing `describe`: started by its `before` (unless Redis suites skip), stopped
 * by its `after`. The returned function gives the running process, and throws if it was not started.
 */
export function redisPerSuite(): () => RedisProcess {
  let redis: RedisProcess | undefined;
  before(async () => {
    if (redisRequirement.skip !== false) return;
    redisRequirement.assert();
    redis = await startRedis();
  });
  after(async () => {
    await redis?.stop();
  });
  return () => {
    if (redis === undefined) throw new Error('redis was not started');
    return redis;
  };
}

/** Options for {@link startRedis}. */
export interface StartRedisOptions {
  /**
   * Extra redis-server arguments, after the harness's own (a later one wins), e.g. `['--maxmemory', '1mb']`;
   * not `--port`, `--bind` or `--dir`, which the harness owns. Default none.
   */
  readonly args?: readonly string[];
  /** Bound on answering PING, for the start and for each restart. Default 10 000 ms. */
  readonly timeoutMs?: number;
}

/** A redis-server process. */
export interface RedisProcess {
  readonly port: number;
  /** `redis://127.0.0.1:PORT` */
  readonly url: string;
  /** The current process id (a restart changes it). */
  readonly pid: number;
  /** Whether the process is up (it may not be answering yet during a restart). */
  readonly running: boolean;
  /** Send `signal` (default SIGKILL: a crash) and resolve once the process has exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Start again on the same port (killing a running process first); resolves once it answers PING. */
  restart(): Promise<void>;
  /** End the process for good (SIGTERM, then SIGKILL) and delete its directory. Idempotent. */
  stop(): Promise<void>;
  /** The process's recent stdout and stderr, for a failing test's message. */
  output(): string;
}

/** Start a standalone redis-server on a free loopback port; resolves once it answers PING. */
export function startRedis(options: StartRedisOptions = {}): Promise<RedisProcess> {
  return launch(() => [], options);
}

/** Options for {@link startRedisCluster}. */
export interface StartRedisClusterOptions {
  /** Master count, the slots split evenly between them; no replicas. Default 3. */
  readonly masters?: number;
  /** Extra redis-server arguments for every node. Default none. */
  readonly args?: readonly string[];
  /** Bound on each node's start, and separately on the cluster reaching `cluster_state:ok`. Default 10 000 ms. */
  readonly timeoutMs?: number;
}

/** A running Redis Cluster of masters only. */
export interface RedisCluster {
  /** The nodes in slot order: node i serves the i-th range of slots. */
  readonly nodes: readonly RedisProcess[];
  /** `redis-cluster://127.0.0.1:P1,127.0.0.1:P2,...`, the cluster address form Switchboard accepts. */
  readonly url: string;
  /** The nodes as ioredis `new Cluster(startupNodes)` wants them. */
  readonly startupNodes: readonly { readonly host: string; readonly port: number }[];
  /** Stop every node. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Start `masters` cluster-enabled redis-servers and form a cluster of them without redis-cli: each takes
 * its range of slots, every pair MEETs, then resolves once every node reports `cluster_state:ok`, knows
 * every other node and maps all the slots.
 */
export async function startRedisCluster(options: StartRedisClusterOptions = {}): Promise<RedisCluster> {
  const masters = options.masters ?? 3;
  if (!Number.isInteger(masters) || masters < 1) throw new RangeError(`masters must be >= 1, got ${masters}`);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const started = await Promise.allSettled(
    Array.from({ length: masters }, () =>
      // The bus port defaults to port + 10000, past 65535 for a high ephemeral port: use the spare.
      launch(
        (port, dir, busPort) => [
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          join(dir, `nodes-${port}.conf`),
          '--cluster-node-timeout',
          '2000',
          '--cluster-port',
          String(busPort),
        ],
        options,
      ),
    ),
  );
  const nodes = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((node) => node.stop()));
  };
  const failed = started.find((result) => result.status === 'rejected');
  if (failed !== undefined) {
    await stop();
    throw (failed as PromiseRejectedResult).reason;
  }
  try {
    await formCluster(nodes, Date.now() + timeoutMs);
  } catch (error) {
    const output = nodes.map((node) => `--- node ${node.port} ---\n${node.output()}`).join('\n');
    await stop();
    throw new Error(`${(error as Error).message}\n${output}`, { cause: error });
  }
  return {
    nodes,
    url: `redis-cluster://${nodes.map((node) => `${HOST}:${node.port}`).join(',')}`,
    startupNodes: nodes.map((node) => ({ host: HOST, port: node.port })),
    stop,
  };
}

// ------------------------------------------------------------------ processes

/** Directories of servers not yet stopped, deleted on exit too (their processes are killed then). */
const liveDirs = new Set<string>();
process.on('exit', () => {
  for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
});

/** redis-server exited before answering because a picked port was taken in the meantime. */
class PortTakenError extends Error {
  override readonly name = 'PortTakenError';
}

/**
 * Start redis-server with the harness's arguments, `extraArgs(port, dir, sparePort)` and `options.args`,
 * on a fresh port (and a second free one for a cluster bus), picking again when one is taken by the time
 * redis-server binds it.
 */
async function launch(
  extraArgs: (port: number, dir: string, sparePort: number) => string[],
  options: StartRedisOptions,
): Promise<RedisProcess> {
  const binary = redisServerPath();
  if (binary === undefined) {
    throw new Error('no redis-server on PATH; guard the suite with redisRequirement (see redis-harness.ts)');
  }
  for (const owned of ['--port', '--bind', '--dir']) {
    if (options.args?.includes(owned)) throw new Error(`the harness sets ${owned}; leave it out of args`);
  }
  const timeoutMs = options.timeoutMs ?? 10_000;
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-redis-'));
  liveDirs.add(dir);
  for (let attempt = 1; ; attempt++) {
    const [port = 0, sparePort = 0] = await freePorts(2);
    const args = [
      '--port',
      String(port),
      '--bind',
      HOST,
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'no',
      '--protected-mode',
      'no',
      '--dir',
      dir,
      ...extraArgs(port, dir, sparePort),
      ...(options.args ?? []),
    ];
    const redis = new RedisServerProcess(binary, port, args, dir, timeoutMs);
    try {
      await redis.restart();
      return redis;
    } catch (error) {
      await redis.kill();
      if (error instanceof PortTakenError && attempt < PORT_ATTEMPTS) continue;
      rmSync(dir, { recursive: true, force: true });
      liveDirs.delete(dir);
      throw error;
    }
  }
}

class RedisServerProcess implements RedisProcess {
  readonly url: string;
  private child: OwnedChild | undefined;
  private stopped = false;

  constructor(
    private readonly binary: string,
    readonly port: number,
    private readonly args: readonly string[],
    private readonly dir: string,
    private readonly timeoutMs: number,
  ) {
    this.url = `redis://${HOST}:${port}`;
  }

  get pid(): number {
    return this.child?.pid ?? -1;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitStatus === undefined;
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await this.child?.kill(signal);
  }

  async restart(): Promise<void> {
    if (this.stopped) throw new Error(`redis-server on port ${this.port} was stopped; start a new one`);
    await this.kill();
    const child = new OwnedChild(this.binary, this.args);
    this.child = child;
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      if (await ping(this.port, Math.min(500, Math.max(50, deadline - Date.now())))) return;
      if (child.exitStatus !== undefined) {
        const why = `redis-server exited (${child.exitStatus}) before answering PING on port ${this.port}\n${child.describeOutput()}`;
        throw /address already in use/i.test(child.describeOutput())
          ? new PortTakenError(why)
          : new Error(why);
      }
      if (Date.now() >= deadline) {
        throw new Error(
          `redis-server did not answer PING on port ${this.port} within ${this.timeoutMs} ms\n${child.describeOutput()}`,
        );
      }
      // A refused connection comes back at once: pause so polling does not spin.
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.child?.terminate(STOP_GRACE_MS);
    rmSync(this.dir, { recursive: true, force: true });
    liveDirs.delete(this.dir);
  }

  output(): string {
    return this.child?.describeOutput() ?? '(never started)';
  }
}

/**
 * `count` distinct free loopback ports: bound at once on port 0 (so the kernel cannot hand one out twice),
 * then released for the caller to bind. Another process may take one in between; callers retry.
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => createNetServer());
  try {
    const ports = await Promise.all(
      servers.map(
        (server) =>
          new Promise<number>((resolve, reject) => {
            server.once('error', reject);
            server.listen(0, HOST, () => resolve((server.address() as AddressInfo).port));
          }),
      ),
    );
    if (ports.some((port) => RESERVED_PORTS.has(port))) return await freePorts(count);
    return ports;
  } finally {
    await Promise.all(
      servers.map(
        (server) =>
          new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve())),
      ),
    );
  }
}

/**
 * One PING over a fresh TCP connection: true on `+PONG`; false when refused, on an error reply (`-LOADING`
 * while a dataset loads) or on no reply within `timeoutMs`. Raw RESP, so no client retries hide a refusal.
 */
function ping(port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connectTcp({ host: HOST, port });
    let reply = '';
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
    socket.once('error', () => done(false));
  });
}

// ------------------------------------------------------------------ cluster formation

/** Slots `[first, last]` of master `index` out of `masters`. */
function slotRange(index: number, masters: number): [number, number] {
  return [Math.floor((TOTAL_SLOTS * index) / masters), Math.floor((TOTAL_SLOTS * (index + 1)) / masters) - 1];
}

/** Assign the slots, MEET, and poll until every node sees the whole, healthy cluster. */
async function formCluster(nodes: readonly RedisProcess[], deadline: number): Promise<void> {
  const admins = nodes.map(
    (node) =>
      new Redis({
        host: HOST,
        port: node.port,
        connectTimeout: 2000,
        maxRetriesPerRequest: 1,
        retryStrategy: () => null,
      }),
  );
  try {
    await Promise.all(
      admins.map(async (admin, i) => {
        const [first, last] = slotRange(i, nodes.length);
        await admin.call('CLUSTER', 'ADDSLOTSRANGE', String(first), String(last));
        // Distinct epochs up front, as redis-cli does, so no collision round is needed to settle them.
        await admin.call('CLUSTER', 'SET-CONFIG-EPOCH', String(i + 1));
      }),
    );
    // CONFIG GET answers [name, value]; MEET needs the bus port since it is not port + 10000.
    const busPorts = await Promise.all(
      admins.map(
        async (admin) => ((await admin.call('CONFIG', 'GET', 'cluster-port')) as [string, string])[1],
      ),
    );
    // Every pair meets, rather than all meeting the first and waiting for gossip to introduce the rest:
    // that is seconds slower now and then.
    await Promise.all(
      admins.flatMap((admin, i) =>
        nodes
          .slice(0, i)
          .map((peer, j) => admin.call('CLUSTER', 'MEET', HOST, String(peer.port), busPorts[j] ?? '')),
      ),
    );
    let views: string[] = [];
    for (;;) {
      views = await Promise.all(admins.map((admin) => clusterView(admin, nodes.length)));
      if (views.every((view) => view === 'ok')) return;
      if (Date.now() >= deadline) {
        const detail = views.map((view, i) => `node ${nodes[i]?.port}: ${view}`).join('; ');
        throw new Error(`the Redis cluster did not form in time: ${detail}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    for (const admin of admins) admin.disconnect();
  }
}

/** 'ok' when this node's view is the whole healthy cluster, else what is missing. */
async function clusterView(admin: Redis, masters: number): Promise<string> {
  const info = String(await admin.call('CLUSTER', 'INFO'));
  const state = /cluster_state:(\w+)/.exec(info)?.[1] ?? '?';
  const known = Number(/cluster_known_nodes:(\d+)/.exec(info)?.[1] ?? 0);
  const slots = (await admin.call('CLUSTER', 'SLOTS')) as [number, number, ...unknown[]][];
  const covered = slots.reduce((sum, [first, last]) => sum + last - first + 1, 0);
  if (state === 'ok' && known === masters && slots.length === masters && covered === TOTAL_SLOTS) return 'ok';
  return `state ${state}, ${known}/${masters} nodes known, ${slots.length} ranges covering ${covered} slots`;
}
