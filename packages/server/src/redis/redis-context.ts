/**
 * What every Redis part (broker, history, presence, sessions, tickets, node registry) is built from: one
 * shared command client and the names it uses. The Redis engine makes one and hands it to each part.
 */
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import type { RedisAddress, RedisClient } from './redis-connection.js';
import type { RedisKeys } from './redis-keys.js';

/** What every Redis part is built from. */
export interface RedisContext {
  readonly address: RedisAddress;
  /** The shared command client (not connected until the broker starts). */
  readonly client: RedisClient;
  readonly keys: RedisKeys;
  readonly nodeId: string;
  readonly clock: Clock;
  readonly logger: Logger;
  /** A command not answered within this fails with `unavailable` (ms). */
  readonly commandTimeoutMs: number;
}
