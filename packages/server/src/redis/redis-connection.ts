/**
 * Redis addresses and clients. One URL names the deployment's Redis, whatever its topology:
 *
 * - `redis://[user:password@]host:port[/db]`, `rediss://...` (TLS): one server;
 * - `redis-sentinel://[user:password@]host:port[,host:port...]/<master name>[/db]` (`rediss-sentinel://`
 *   for TLS to the master): Sentinel, which follows failovers;
 * - `redis-cluster://[user:password@]host:port[,host:port...]` (`rediss-cluster://`): Redis Cluster, with
 *   sharded pub/sub.
 *
 * Commands never queue while Redis is away (`enableOfflineQueue: false`) and never wait longer than the
 * command timeout, so a publish fails fast instead of hanging and memory stays bounded during an outage.
 */
import { Cluster, Redis } from 'ioredis';
import type { ClusterNode, ClusterOptions, RedisOptions } from 'ioredis';
import type { RedisAddress } from './redis-url.js';
import { BackendUnavailableError } from '../errors.js';

export { REDIS_URL_FORMS, parseRedisUrl, redact } from './redis-url.js';
export type { RedisAddress } from './redis-url.js';

/** ioredis's option types predate exactOptionalPropertyTypes; this is the object form its constructor takes. */
type RedisConstructorOptions = Parameters<(options: RedisOptions & { replyMapping?: never }) => void>[0] &
  Record<never, never>;

/** A client for commands: one server (plain or through Sentinel) or a cluster. */
export type RedisClient = Redis | Cluster;

/** Options shared by every client Switchboard opens. */
export interface RedisClientOptions {
  /** How long a command may take before it fails (ms). */
  readonly commandTimeoutMs: number;
  /** Extra ioredis options (tests, tuning). */
  readonly extra?: RedisOptions;
}

/**
 * Open a client for `address` (lazily: call `connect()`). It reconnects forever with a capped backoff;
 * while it is away, commands fail at once instead of queueing.
 */
export function createRedisClient(address: RedisAddress, options: RedisClientOptions): RedisClient {
  const common: RedisOptions = {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeoutMs,
    // A connection we drop because it stalled must be gone at once: ioredis would otherwise wait 2 s for
    // a graceful close before it forces the socket shut, and only then reconnect.
    disconnectTimeout: 200,
    connectTimeout: Math.max(options.commandTimeoutMs, 2000),
    retryStrategy: (attempt: number) => Math.min(50 * 2 ** Math.min(attempt, 6), 2000),
    ...(address.username === undefined ? {} : { username: address.username }),
    ...(address.password === undefined ? {} : { password: address.password }),
    ...(address.tls ? { tls: {} } : {}),
    ...options.extra,
  };
  if (address.topology === 'cluster') {
    const nodes: ClusterNode[] = address.hosts.map(({ host, port }) => ({ host, port }));
    const clusterOptions: ClusterOptions = {
      lazyConnect: true,
      enableOfflineQueue: false,
      scaleReads: 'master',
      clusterRetryStrategy: (attempt: number) => Math.min(50 * 2 ** Math.min(attempt, 6), 2000),
      redisOptions: common,
    };
    // ioredis's option types predate exactOptionalPropertyTypes; the values above are what it documents.
    return new Cluster(nodes, clusterOptions as ConstructorParameters<typeof Cluster>[1]);
  }
  if (address.topology === 'sentinel') {
    return new Redis({
      ...common,
      sentinels: address.hosts.map(({ host, port }) => ({ host, port })),
      name: address.masterName ?? 'mymaster',
      ...(address.db === undefined ? {} : { db: address.db }),
      ...(address.tls ? { enableTLSForSentinelMode: true } : {}),
    } as RedisConstructorOptions);
  }
  const [first] = address.hosts;
  return new Redis({
    ...common,
    host: first?.host ?? '127.0.0.1',
    port: first?.port ?? 6379,
    ...(address.db === undefined ? {} : { db: address.db }),
  } as RedisConstructorOptions);
}

/**
 * Error replies that mean "Redis cannot serve this right now" rather than "this command is wrong": a
 * loading or busy server, a cluster without a quorum or mid-failover, a replica that was a master, memory
 * exhausted.
 */
const TRANSIENT_REPLIES =
  /^(LOADING|BUSY|CLUSTERDOWN|TRYAGAIN|MASTERDOWN|READONLY|NOREPLICAS|OOM|MOVED|ASK) /;

/**
 * Map a failed Redis call to what callers expect: connection failures, timeouts and transient error
 * replies become {@link BackendUnavailableError} (`unavailable`, retry later); any other error reply (a bug,
 * a wrong type, an ACL refusal) is returned as it is.
 */
export function toBackendError(error: unknown, what: string): Error {
  if (error instanceof BackendUnavailableError) return error;
  const err = error instanceof Error ? error : new Error(String(error));
  if (err.name === 'ReplyError' && !TRANSIENT_REPLIES.test(err.message)) return err;
  return new BackendUnavailableError(`redis unavailable: ${what} failed (${err.message})`, { cause: err });
}

/**
 * Whether a failed call means its connection is unusable (closed, not writable, never opened), as opposed
 * to an error reply or a command timeout: every command sent on it before it reconnects fails the same way.
 * Takes the raw error or what {@link toBackendError} made of it.
 */
export function connectionFailed(error: unknown): boolean {
  const cause = error instanceof BackendUnavailableError ? error.cause : error;
  if (!(cause instanceof Error)) return false;
  return cause.name !== 'ReplyError' && cause.message !== 'Command timed out';
}

/**
 * Connect `client` unless it is already connecting or connected, and resolve once it is ready; rejects with
 * {@link BackendUnavailableError} when the first attempt fails (the client keeps retrying in the
 * background until it is disconnected).
 */
export async function connectClient(client: RedisClient, what: string): Promise<void> {
  if (client.status === 'ready') return;
  if (client.status === 'end') throw new BackendUnavailableError(`redis unavailable: ${what} is closed`);
  try {
    if (client.status === 'wait') {
      await client.connect();
      return;
    }
    // Redis and Cluster overload `once` differently; both are event emitters.
    const events = client as unknown as NodeJS.EventEmitter;
    await new Promise<void>((resolve, reject) => {
      const onReady = (): void => {
        events.off('error', onError);
        resolve();
      };
      const onError = (error: unknown): void => {
        events.off('ready', onReady);
        reject(error instanceof Error ? error : new Error(String(error)));
      };
      events.once('ready', onReady);
      events.once('error', onError);
    });
  } catch (error) {
    throw toBackendError(error, `connecting ${what}`);
  }
}
