/**
 * The `socketio-redis` target's own program: `node socketio-cluster.js` with its settings in the
 * SOCKETIO_CLUSTER environment variable (JSON of {@link ClusterSettings}). The primary forks N workers
 * with node:cluster (round-robin hand-off of accepted connections, one port, as Switchboard's
 * `--workers`) and serves no traffic; each worker runs the Socket.IO server of the one-process target
 * with `@socket.io/redis-adapter` on ioredis, so a room's broadcast reaches its members on every worker.
 * The primary prints `ready` on stdout once every worker listens.
 */
import cluster from 'node:cluster';
import { createServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { socketIoServer } from './socketio-server.js';

/** What the cluster is started with. */
export interface ClusterSettings {
  readonly host: string;
  readonly port: number;
  readonly workers: number;
  readonly heartbeatMs: number;
  readonly redisUrl: string;
}

const settings = JSON.parse(process.env['SOCKETIO_CLUSTER'] ?? '{}') as ClusterSettings;

if (cluster.isPrimary) {
  cluster.schedulingPolicy = cluster.SCHED_RR;
  let listening = 0;
  let stopping = false;
  for (let i = 0; i < settings.workers; i++) {
    const worker = cluster.fork();
    worker.once('listening', () => {
      if (++listening === settings.workers) process.stdout.write('ready\n');
    });
    worker.once('exit', (code, signal) => {
      if (stopping) return;
      process.stderr.write(`socketio-redis worker ${i} exited (${signal ?? code})\n`);
      process.exit(1);
    });
  }
  process.once('SIGTERM', () => {
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    setTimeout(() => process.exit(0), 500).unref();
  });
} else {
  const pub = new Redis(settings.redisUrl);
  const sub = pub.duplicate();
  const http = createServer();
  socketIoServer(http, settings.heartbeatMs, { adapter: createAdapter(pub, sub) });
  http.listen(settings.port, settings.host);
  process.once('SIGTERM', () => process.exit(0));
}
