/**
 * Switchboard as deployed for scale: the `switchboard` CLI with `--workers N` (node:cluster, one port)
 * and `--redis-url` pointing at a Redis server of its own, every feature on as in the one-process
 * target (JWT auth, heartbeats, history, metrics) and the same admission limits off. Its CPU and memory
 * are those of the whole process tree (the CLI's primary, its workers, redis-server), read from /proc;
 * V8 heap figures are not available from outside.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunningTarget, TargetConfig } from './target.js';

const CLI = join(dirname(fileURLToPath(import.meta.resolve('@switchboard/server'))), 'cli', 'main.js');

/** A free TCP port on 127.0.0.1 (asked of the kernel, then released). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Resolve once `check` does, retrying every 50 ms for at most `timeoutMs`. */
async function until(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${what} did not come up within ${timeoutMs} ms`);
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function stopped(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve();
    }, timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Start Redis and the Switchboard cluster. */
export async function start(config: TargetConfig): Promise<RunningTarget> {
  const redisPort = await freePort();
  const redis = spawn(
    'redis-server',
    [
      '--port',
      String(redisPort),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--loglevel',
      'warning',
    ],
    { stdio: 'ignore' },
  );
  await until('redis-server', 10_000, () => accepts(redisPort));
  const port = config.port === 0 ? await freePort() : config.port;
  const hb = config.heartbeatMs;
  const flags: [string, number | string][] = [
    ['--host', config.host],
    ['--port', port],
    ['--workers', config.workers],
    ['--redis-url', `redis://127.0.0.1:${redisPort}`],
    ['--heartbeat-interval-ms', hb],
    ['--heartbeat-timeout-ms', hb * 3],
    ['--history-size', config.historySize],
    ['--connection-rate', 0],
    ['--connection-rate-per-ip', 0],
    ['--max-connections-per-ip', 0],
    ['--max-connections-per-user', 0],
    ['--messages-per-second', 0],
    ['--bytes-per-second', 0],
    ['--log-level', 'error'],
  ];
  const cluster = spawn(process.execPath, [CLI, ...flags.flatMap(([flag, value]) => [flag, String(value)])], {
    env: { ...process.env, SWITCHBOARD_JWT_SECRET: config.jwtSecret },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const clusterPid = cluster.pid ?? 0;
  try {
    await until('the switchboard cluster', 30_000, async () => {
      const response = await fetch(`http://${config.host}:${port}/ready`);
      return response.ok;
    });
  } catch (error) {
    cluster.kill('SIGKILL');
    redis.kill('SIGKILL');
    throw error;
  }
  return {
    port,
    pids: [clusterPid, redis.pid ?? 0].filter((pid) => pid > 0),
    connections: () => NaN,
    takeHeartbeatCost: () => null,
    stop: async () => {
      cluster.kill('SIGTERM');
      await stopped(cluster, 5000);
      redis.kill('SIGTERM');
      await stopped(redis, 3000);
    },
  };
}
