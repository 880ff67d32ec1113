/**
 * The Redis engine: broker, history, presence, tickets, the node registry, users' inboxes and work queues
 * over one shared Redis, so many processes and machines behave as one server (docs/scaling.md). The parts
 * share one command client; the broker adds its own subscriber connection(s).
 */
import { randomBytes } from 'node:crypto';
import type { Engine } from './engine.js';
import type { Clock } from '../util/clock.js';
import { systemClock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { defaultLogger } from '../util/pino-logger.js';
import { RedisBroker } from '../broker/redis-broker.js';
import { DEFAULT_REDIS_STREAM_TTL_MS, RedisHistoryStore } from '../history/redis-history-store.js';
import {
  DEFAULT_HISTORY_READ_CONCURRENCY,
  DEFAULT_HISTORY_READ_QUEUE_SIZE,
  DEFAULT_HISTORY_READ_QUEUE_TIMEOUT_MS,
} from '../history/history-read-pacing.js';
import type { HistoryReadStats } from '../history/history-read-pacing.js';
import { RedisPresenceStore } from '../presence/redis-presence-store.js';
import { RedisOnlineStore } from '../presence/redis-online-store.js';
import { RedisTicketStore } from '../auth/redis-ticket-store.js';
import { RedisSessionStore } from '../sessions/redis-session-store.js';
import { RedisNodeRegistry } from '../nodes/redis-node-registry.js';
import { RedisInboxStore } from '../inbox/redis-inbox-store.js';
import { RedisQueueStore } from '../inbox/redis-queue-store.js';
import type { InboxLimits } from '../inbox/inbox-store.js';
import type { QueueLimits } from '../inbox/queue-store.js';
import type { EngineHealth } from '../broker/broker.js';
import type { RedisContext } from '../redis/redis-context.js';
import { RedisKeys } from '../redis/redis-keys.js';
import { createRedisClient, parseRedisUrl } from '../redis/redis-connection.js';
import { InvalidOptionError } from '../errors.js';

// `@switchboard/server/redis` (this file) keeps exporting the context the Redis parts are built from.
export type { RedisContext } from '../redis/redis-context.js';

/**
 * The pub/sub probe's defaults. A silent subscription is found at the first probe tick at least `timeoutMs`
 * after the probe that went unanswered, so within `intervalMs + timeoutMs` (4 s) of the silence: inside the
 * 5 s a load balancer is usually given to see /ready fail (issue 15; redis-failure.test.ts checks it).
 */
export const DEFAULT_PROBE = { intervalMs: 1000, timeoutMs: 3000 } as const;

/** Options of {@link createRedisEngine}. */
export interface RedisEngineOptions {
  /** Where Redis is (URL forms in redis/redis-connection.ts: redis://, rediss://, Sentinel, Cluster). */
  readonly url: string;
  /** Namespace of every key and pub/sub channel. Default `sb`. */
  readonly prefix?: string;
  /** This node's id. Default: 8 random hex characters. */
  readonly nodeId?: string;
  readonly clock?: Clock;
  /**
   * Where Redis outages, failovers and recoveries are logged. Default: warnings and errors on stderr, like
   * the server's default logger; pass the server's logger (the CLI does) or `silentLogger`.
   */
  readonly logger?: Logger;
  /** A command not answered within this fails with `unavailable` (ms). Default 2000. */
  readonly commandTimeoutMs?: number;
  /** A channel left by its last local member is unsubscribed this much later, absorbing flapping (ms). Default 1000. */
  readonly unsubscribeDelayMs?: number;
  /** How often the pub/sub probe checks that this node's subscription still delivers (ms). Default 1000. */
  readonly probeIntervalMs?: number;
  /** A probe not delivered within this marks the subscription dead and reconnects it (ms). Default 3000. */
  readonly probeTimeoutMs?: number;
  /** A node's presence entries expire this long after its last refresh (ms); refreshed every third of it. Default 30000. */
  readonly presenceTtlMs?: number;
  /** How long a publish's idempotency key is remembered (ms). Default 300000. */
  readonly idempotencyWindowMs?: number;
  /**
   * How long a channel stream with no members on any node and no messages left keeps its epoch and offset
   * after its last use: created, published to, or left by its last member on a node (ms); never before
   * its last message's history TTL has passed. Then its keys expire, and its next use starts a new epoch.
   * Nodes with members push the expiry forward every third of it. Default 300000 (the server's default
   * history TTL; the CLI passes `--stream-ttl-ms`, at least `--history-ttl-ms`).
   */
  readonly streamTtlMs?: number;
  /** How often this node reports its counts to the registry (ms); a node silent for 3 reports drops out. Default 5000. */
  readonly nodeReportIntervalMs?: number;
  /**
   * History reads (the stream position every subscribe reads, recoveries, history pages) this node sends
   * to Redis at once; the others wait their turn in order, with no command timeout running, so that a
   * subscribe storm is paced instead of refused (docs/scaling.md). Default 128.
   */
  readonly historyReadConcurrency?: number;
  /** History reads waiting for their turn at once; one more is refused at once with `unavailable`. Default 10000. */
  readonly historyReadQueueSize?: number;
  /**
   * A history read that has waited this long for its turn is refused with `unavailable` (ms). Default
   * 5000: under the SDK's 10 s request timeout, so a client gets a reply it retries rather than giving
   * up on its connection.
   */
  readonly historyReadQueueTimeoutMs?: number;
  /** Bounds of each user's inbox (guaranteed delivery); each left out is DEFAULT_INBOX_LIMITS' (1000 messages, 1 MiB, reject). */
  readonly inboxLimits?: Partial<InboxLimits>;
  /** Bounds of each work queue; each left out is DEFAULT_QUEUE_LIMITS' (100000 jobs). */
  readonly queueLimits?: Partial<QueueLimits>;
}

/** The Redis engine. */
export interface RedisEngine extends Engine {
  readonly nodeId: string;
  readonly broker: RedisBroker;
  readonly history: RedisHistoryStore;
  readonly presence: RedisPresenceStore;
  readonly tickets: RedisTicketStore;
  readonly sessions: RedisSessionStore;
  readonly nodes: RedisNodeRegistry;
  readonly inbox: RedisInboxStore;
  readonly queues: RedisQueueStore;
  readonly online: RedisOnlineStore;
  health(): EngineHealth;
  historyReads(): HistoryReadStats;
  close(): Promise<void>;
}

/** An engine over the Redis at `options.url`. Connects when the server starts (the broker's `start`). */
export function createRedisEngine(options: RedisEngineOptions): RedisEngine {
  const address = parseRedisUrl(options.url);
  const commandTimeoutMs = options.commandTimeoutMs ?? 2000;
  const context: RedisContext = {
    address,
    // Commands issued in one event-loop turn leave in one write (ioredis's auto-pipelining): during a
    // reconnect storm a node sends thousands of history reads and publishes a second.
    client: createRedisClient(address, { commandTimeoutMs, extra: { enableAutoPipelining: true } }),
    keys: new RedisKeys(options.prefix ?? 'sb'),
    nodeId: options.nodeId ?? randomBytes(4).toString('hex'),
    clock: options.clock ?? systemClock,
    logger: options.logger ?? defaultLogger(),
    commandTimeoutMs,
  };
  const nodes = new RedisNodeRegistry(context, { reportIntervalMs: options.nodeReportIntervalMs ?? 5000 });
  const streamTtlMs = options.streamTtlMs ?? DEFAULT_REDIS_STREAM_TTL_MS;
  if (!Number.isInteger(streamTtlMs) || streamTtlMs < 1)
    throw new InvalidOptionError('streamTtlMs', streamTtlMs, 'an integer number of milliseconds >= 1');
  const broker = new RedisBroker(context, {
    unsubscribeDelayMs: options.unsubscribeDelayMs ?? 1000,
    probeIntervalMs: options.probeIntervalMs ?? DEFAULT_PROBE.intervalMs,
    probeTimeoutMs: options.probeTimeoutMs ?? DEFAULT_PROBE.timeoutMs,
    idempotencyWindowMs: options.idempotencyWindowMs ?? 300_000,
    streamTtlMs,
    membership: nodes,
  });
  const history = new RedisHistoryStore(context, {
    streamTtlMs,
    readConcurrency: count(
      'historyReadConcurrency',
      options.historyReadConcurrency ?? DEFAULT_HISTORY_READ_CONCURRENCY,
      1,
    ),
    readQueueSize: count(
      'historyReadQueueSize',
      options.historyReadQueueSize ?? DEFAULT_HISTORY_READ_QUEUE_SIZE,
      0,
    ),
    readQueueTimeoutMs: positive(
      'historyReadQueueTimeoutMs',
      options.historyReadQueueTimeoutMs ?? DEFAULT_HISTORY_READ_QUEUE_TIMEOUT_MS,
    ),
  });
  const presence = new RedisPresenceStore(context, { ttlMs: options.presenceTtlMs ?? 30_000 });
  const tickets = new RedisTicketStore(context);
  const sessions = new RedisSessionStore(context);
  // Both share the command client: the broker's start connects it, the engine's close drops it.
  const inbox = new RedisInboxStore(context, options.inboxLimits);
  const queues = new RedisQueueStore(context, options.queueLimits);
  const online = new RedisOnlineStore(context, { refreshIntervalMs: options.nodeReportIntervalMs ?? 5000 });
  return {
    nodeId: context.nodeId,
    broker,
    history,
    presence,
    tickets,
    sessions,
    nodes,
    inbox,
    queues,
    online,
    health: () => broker.health(),
    historyReads: () => ({
      ...history.readLoad(),
      refused: history.readRefusals(),
      limits: history.readLimits(),
    }),
    close: async () => {
      context.client.disconnect();
      await Promise.resolve();
    },
  };
}

/** `value` if it is an integer >= `min` or Infinity; else InvalidOptionError naming `option`. */
function count(option: string, value: number, min: number): number {
  if (value === Infinity || (Number.isInteger(value) && value >= min)) return value;
  throw new InvalidOptionError(option, value, `an integer >= ${min}, or Infinity`);
}

/** `value` if it is a number > 0 (Infinity included); else InvalidOptionError naming `option`. */
function positive(option: string, value: number): number {
  if (value > 0) return value;
  throw new InvalidOptionError(option, value, 'a number of milliseconds > 0, or Infinity');
}
