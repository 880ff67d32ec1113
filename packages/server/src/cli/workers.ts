/**
 * `--workers N`: the primary process forks N server processes that share one listening port (node:cluster
 * hands each accepted connection to a worker, round-robin) and coordinate through Redis; it serves no
 * traffic itself. A worker that dies is replaced, with a backoff; a crash loop stops everything with exit
 * 1 rather than flapping forever. SIGTERM/SIGINT stop every worker gracefully, SIGHUP is passed on.
 */
import cluster from 'node:cluster';
import type { Worker } from 'node:cluster';
import type { Logger } from '../util/logger.js';
import { EXIT_FAILURE, EXIT_OK } from './exit.js';
import type { CliConfig } from './parse-options.js';
import { stopDeadlineMs } from './serve.js';

/** Restarts allowed within {@link CRASH_WINDOW_MS} before the primary gives up. */
const MAX_RESTARTS = 5;
const CRASH_WINDOW_MS = 30_000;

/** Run the primary: fork, supervise and stop the workers. Returns once the workers are forked. */
export function runPrimary(config: CliConfig, logger: Logger): void {
  const count = config.workers;
  const restarts: number[] = [];
  let stopping = false;
  let listening = 0;
  let announced = false;

  const fork = (index: number): Worker => {
    const worker = cluster.fork({ SWITCHBOARD_WORKER_INDEX: String(index) });
    worker.on('listening', (address) => {
      listening++;
      if (!announced && listening >= count) {
        announced = true;
        const host = config.server.host;
        const shown = host === undefined || host === '0.0.0.0' || host === '::' ? 'localhost' : host;
        const scheme = config.server.tls === undefined ? 'http' : 'https';
        logger.info(
          { url: `${scheme}://${shown}:${address.port}${config.server.basePath ?? ''}`, workers: count },
          'switchboard listening',
        );
      }
    });
    worker.on('exit', (code, signal) => {
      if (stopping) return;
      const now = Date.now();
      restarts.push(now);
      while (restarts.length > 0 && (restarts[0] ?? now) < now - CRASH_WINDOW_MS) restarts.shift();
      if (restarts.length > MAX_RESTARTS) {
        logger.error(
          { worker: index, code, signal, restarts: restarts.length },
          'workers keep dying: stopping every worker',
        );
        stopAll(EXIT_FAILURE);
        return;
      }
      const delayMs = Math.min(100 * 2 ** (restarts.length - 1), 5000);
      logger.error({ worker: index, code, signal, delayMs }, 'worker died: starting a new one');
      setTimeout(() => {
        if (!stopping) fork(index);
      }, delayMs).unref();
    });
    return worker;
  };

  const stopAll = (exitCode: number): void => {
    stopping = true;
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
    const deadlineMs = stopDeadlineMs(config.limits);
    setTimeout(() => {
      logger.error({ deadlineMs }, 'workers did not stop in time: killing them');
      for (const worker of workers) worker.process.kill('SIGKILL');
      process.exit(EXIT_FAILURE);
    }, deadlineMs).unref();
    let alive = workers.filter((w) => !w.isDead()).length;
    if (alive === 0) process.exit(exitCode);
    for (const worker of workers) {
      if (worker.isDead()) continue;
      worker.once('exit', () => {
        if (--alive === 0) {
          logger.info({}, 'switchboard stopped');
          process.exit(exitCode);
        }
      });
      worker.process.kill('SIGTERM');
    }
  };

  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    logger.info({ signal, workers: count }, 'switchboard stopping');
    stopAll(EXIT_OK);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('SIGHUP', () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGHUP');
  });
  for (let i = 0; i < count; i++) fork(i);
}
