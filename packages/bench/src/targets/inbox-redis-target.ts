/**
 * `server.deliver` into the Redis inbox store: the Redis engine (broker, history, presence and inbox on
 * one Redis) on a redis-server of the target's own, without persistence (as the other Redis targets).
 */
import { createRedisEngine } from '@switchboard/server/redis';
import { Redis } from 'ioredis';
import { silentLogger } from '@switchboard/server';
import { startDeliveryTarget } from './delivery-target.js';
import { startRedis, stopped } from './external.js';
import type { RunningTarget, TargetConfig } from './target.js';

/** Start Redis and the inbox-redis target. */
export async function start(config: TargetConfig): Promise<RunningTarget> {
  const redis = await startRedis();
  // A client of the bench's own, to read the command counts (its INFO calls are left out of them).
  const probe = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  probe.on('error', () => {});
  const stopRedis = async (): Promise<void> => {
    probe.disconnect();
    redis.child.kill('SIGTERM');
    await stopped(redis.child, 3000);
  };
  const engine = createRedisEngine({ url: redis.url, logger: silentLogger });
  return startDeliveryTarget(config, {
    api: 'deliver',
    server: { engine, inbox: { store: 'redis' } },
    storePids: redis.child.pid === undefined ? [] : [redis.child.pid],
    storeCommands: async () => commandCounts(await probe.info('commandstats')),
    cleanup: stopRedis,
  });
}

/** `cmdstat_<name>:calls=<n>,...` lines of INFO commandstats as counts by command, without INFO's own. */
export function commandCounts(info: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    const [, name = '', calls = '0'] = match;
    if (name !== 'info') counts[name] = Number(calls);
  }
  return counts;
}
