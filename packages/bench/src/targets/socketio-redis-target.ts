/**
 * Socket.IO as deployed for scale, like for like with `switchboard-workers`: node:cluster with N
 * workers (`--workers`) on one port, each running Socket.IO 4 (websocket transport only; no sticky
 * sessions needed without polling) with `@socket.io/redis-adapter` against a redis-server of its own.
 * Its CPU and memory are those of the whole process tree (primary, workers, Redis), read from /proc.
 */
import { spawn } from 'node:child_process';
import { childModule } from '../ipc/child-module.js';
import type { ClusterSettings } from './socketio-cluster.js';
import { clusterTarget, freePort, startRedis } from './external.js';
import type { RunningTarget, TargetConfig } from './target.js';

const PROGRAM = childModule('./socketio-cluster', import.meta.url);

/** Start Redis and the Socket.IO cluster. */
export async function start(config: TargetConfig): Promise<RunningTarget> {
  const redis = await startRedis();
  const port = config.port === 0 ? await freePort() : config.port;
  const settings: ClusterSettings = {
    host: config.host,
    port,
    workers: config.workers,
    heartbeatMs: config.heartbeatMs,
    redisUrl: redis.url,
  };
  const cluster = spawn(process.execPath, [...PROGRAM.execArgv, PROGRAM.path], {
    env: { ...process.env, SOCKETIO_CLUSTER: JSON.stringify(settings) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the socket.io cluster did not start in 30 s')), 30_000);
    let out = '';
    cluster.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('ready\n')) {
        clearTimeout(timer);
        resolve();
      }
    });
    cluster.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the socket.io cluster exited (${signal ?? code})`));
    });
  });
  return clusterTarget(cluster, redis, port, ready);
}
