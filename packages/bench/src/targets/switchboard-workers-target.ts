/**
 * Switchboard as deployed for scale: the `switchboard` CLI with `--workers N` (node:cluster, one port)
 * and `--redis-url` pointing at a Redis server of its own, every feature on as in the one-process
 * target (JWT auth, heartbeats, history, metrics) and the same admission limits off. Its CPU and memory
 * are those of the whole process tree (the CLI's primary, its workers, redis-server), read from /proc;
 * V8 heap figures are not available from outside.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { admissionOffFlags } from './admission-off.js';
import { clusterTarget, freePort, startRedis, until } from './external.js';
import type { RunningTarget, TargetConfig } from './target.js';

const CLI = join(dirname(fileURLToPath(import.meta.resolve('@switchboard/server'))), 'cli', 'main.js');

/** Start Redis and the Switchboard cluster. */
export async function start(config: TargetConfig): Promise<RunningTarget> {
  const redis = await startRedis();
  const port = config.port === 0 ? await freePort() : config.port;
  const hb = config.heartbeatMs;
  const flags: [string, number | string][] = [
    ['--host', config.host],
    ['--port', port],
    ['--workers', config.workers],
    ['--redis-url', redis.url],
    ['--heartbeat-interval-ms', hb],
    ['--heartbeat-timeout-ms', hb * 3],
    ['--history-size', config.historySize],
    ['--batch-delay-ms', config.batchDelayMs],
    ...admissionOffFlags(),
    ['--log-level', 'error'],
  ];
  const cluster = spawn(process.execPath, [CLI, ...flags.flatMap(([flag, value]) => [flag, String(value)])], {
    env: { ...process.env, SWITCHBOARD_JWT_SECRET: config.jwtSecret },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const ready = until('the switchboard cluster', 30_000, async () => {
    const response = await fetch(`http://${config.host}:${port}/ready`);
    return response.ok;
  });
  return clusterTarget(cluster, redis, port, ready);
}
