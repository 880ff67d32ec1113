/**
 * Helpers of targets that run outside their host process (a cluster and a Redis of their own): free
 * ports, waiting for a server to come up, starting redis-server, stopping a child with a deadline.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { connect, createServer } from 'node:net';
import type { RunningTarget } from './target.js';

/** A free TCP port on 127.0.0.1 (asked of the kernel, then released). */
export function freePort(): Promise<number> {
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
export async function until(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${what} did not come up within ${timeoutMs} ms`);
}

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Resolves when `child` has exited; SIGKILLs it after `timeoutMs`. */
export function stopped(child: ChildProcess, timeoutMs: number): Promise<void> {
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

/** A redis-server of the target's own (no persistence), on a free port. */
export async function startRedis(): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
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
  try {
    await until('redis-server', 10_000, () => accepts(port));
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return { child, url: `redis://127.0.0.1:${port}` };
}

/**
 * The RunningTarget of a cluster of processes behind `port` with a Redis of its own, once `ready`
 * resolves; if it rejects, both are killed and the error is rethrown. Figures come from /proc over
 * both process trees.
 */
export async function clusterTarget(
  cluster: ChildProcess,
  redis: { readonly child: ChildProcess },
  port: number,
  ready: Promise<void>,
): Promise<RunningTarget> {
  try {
    await ready;
  } catch (error) {
    cluster.kill('SIGKILL');
    redis.child.kill('SIGKILL');
    throw error;
  }
  return {
    port,
    pids: [cluster.pid ?? 0, redis.child.pid ?? 0].filter((pid) => pid > 0),
    connections: () => NaN,
    takeHeartbeatCost: () => null,
    stop: async () => {
      cluster.kill('SIGTERM');
      await stopped(cluster, 5000);
      redis.child.kill('SIGTERM');
      await stopped(redis.child, 3000);
    },
  };
}
