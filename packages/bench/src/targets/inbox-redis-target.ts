/**
 * `server.deliver` into the Redis inbox store: the Redis engine (broker, history, presence and inbox on
 * one Redis) on a redis-server of the target's own, without persistence (as the other Redis targets).
 */
import { createRedisEngine } from '@switchboard/server/redis';
import { silentLogger } from '@switchboard/server';
import { startDeliveryTarget } from './delivery-target.js';
import { startRedis, stopped } from './external.js';
import type { RunningTarget, TargetConfig } from './target.js';

/** Start Redis and the inbox-redis target. */
export async function start(config: TargetConfig): Promise<RunningTarget> {
  const redis = await startRedis();
  const stopRedis = async (): Promise<void> => {
    redis.child.kill('SIGTERM');
    await stopped(redis.child, 3000);
  };
  const engine = createRedisEngine({ url: redis.url, logger: silentLogger });
  return startDeliveryTarget(config, {
    api: 'deliver',
    server: { engine, inbox: { store: 'redis' } },
    storePids: redis.child.pid === undefined ? [] : [redis.child.pid],
    cleanup: stopRedis,
  });
}
