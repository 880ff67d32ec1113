import type { OfflineClaim, OfflineTransition, OnlineStore } from './online-store.js';
import { ALIVE, CLAIM, OFFLINE, ONLINE, ORPHAN } from './redis-online-scripts.js';
import type { RedisContext } from '../redis/redis-context.js';
import { toBackendError } from '../redis/redis-connection.js';
import type { RedisScript } from '../redis/redis-scripts.js';
import type { TimerHandle } from '../util/clock.js';
import { InvalidOptionError } from '../errors.js';

/** Options of {@link RedisOnlineStore}. */
export interface RedisOnlineStoreOptions {
  /**
   * How often this node refreshes its liveness and looks for dead nodes (ms); a node silent for three
   * intervals is dead, and a survivor takes over its users. The engine passes `nodeReportIntervalMs`.
   */
  readonly refreshIntervalMs: number;
}

/** A node that missed this many refreshes in a row is dead (as in the node registry). */
const MISSED_REFRESHES = 3;
/** A user's hash outlives its claimed transition by this long (ms): a late claim still finds it claimed. */
const CLAIMED_TTL_MS = 86_400_000;
/**
 * A node's user set and the liveness set outlive the node's last refresh by this long (ms): time enough
 * for a survivor, or a node started later, to take the dead node's users over.
 */
const NODE_KEYS_TTL_MS = 86_400_000;

/**
 * Users' online state in Redis. Per user, a hash counts the nodes holding it and numbers its transitions
 * (redis-online-scripts.ts). Per node, a set lists the users it holds or has in their grace, and a sorted
 * set holds every node's liveness expiry: a survivor that finds a node expired runs ORPHAN on each of its
 * users and reports those left with no connection anywhere (whose transition nobody claimed yet) to
 * {@link onOrphaned}; the claim keeps it exactly once whoever reports it.
 */
export class RedisOnlineStore implements OnlineStore {
  readonly shared = true;
  /** Users with a connection on this node: restored after Redis lost or expired this node. */
  private readonly local = new Set<string>();
  private readonly listeners: ((transition: OfflineTransition) => void)[] = [];
  private timer: TimerHandle | null = null;
  private started = false;
  private sweeping = false;
  private closed = false;

  constructor(
    readonly context: RedisContext,
    readonly options: RedisOnlineStoreOptions,
  ) {
    const { refreshIntervalMs } = options;
    if (!Number.isInteger(refreshIntervalMs) || refreshIntervalMs < 1)
      throw new InvalidOptionError('nodeReportIntervalMs', refreshIntervalMs, 'a positive integer (ms)');
  }

  async online(userId: string): Promise<void> {
    this.local.add(userId);
    const { client, keys, nodeId } = this.context;
    await this.guard('online node', client.sadd(keys.onlineNode(nodeId), userId));
    await this.run(ONLINE, userId, [nodeId]);
  }

  async offline(userId: string): Promise<OfflineTransition | null> {
    this.local.delete(userId);
    const epoch = Number(await this.run(OFFLINE, userId, [this.context.nodeId]));
    if (epoch < 0) {
      await this.forget(userId);
      return null;
    }
    return { userId, epoch, offlineForMs: 0 };
  }

  async claim(userId: string, epoch: number, graceMs: number): Promise<OfflineClaim> {
    const [outcome, waitMs] = (await this.run(CLAIM, userId, [epoch, graceMs, CLAIMED_TTL_MS])) as number[];
    if (outcome === 2) return { outcome: 'wait', waitMs: Number(waitMs) };
    // Settled either way: this node no longer answers for the user (unless it holds it again).
    await this.forget(userId);
    return outcome === 1 ? { outcome: 'fire' } : { outcome: 'none' };
  }

  onOrphaned(listener: (transition: OfflineTransition) => void): void {
    this.listeners.push(listener);
  }

  async start(): Promise<void> {
    this.timer ??= this.context.clock.setInterval(() => void this.sweep(), this.options.refreshIntervalMs);
    await this.sweep();
  }

  /**
   * Stop refreshing and mark this node dead now: the survivors' next sweep takes over the users still in
   * their grace here (their offline time is kept, so the grace is not restarted).
   */
  async close(): Promise<void> {
    this.closed = true;
    this.timer?.cancel();
    this.timer = null;
    if (!this.started) return;
    const { client, keys, nodeId } = this.context;
    try {
      await client.zadd(keys.onlineNodes(), 0, nodeId);
    } catch (error) {
      this.context.logger.warn(
        { err: toBackendError(error, 'online withdraw') },
        'online node not withdrawn',
      );
    }
  }

  // ---------------------------------------------------------------- internals

  private async forget(userId: string): Promise<void> {
    if (this.local.has(userId)) return;
    const { client, keys, nodeId } = this.context;
    await this.guard('online node', client.srem(keys.onlineNode(nodeId), userId));
  }

  /** Refresh this node's liveness, then take over the users of every dead node. Failures are logged. */
  private async sweep(): Promise<void> {
    if (this.sweeping || this.closed) return;
    this.sweeping = true;
    const { client, keys, nodeId } = this.context;
    try {
      const window = this.options.refreshIntervalMs * MISSED_REFRESHES;
      const [absent, ...dead] = (await ALIVE.run(
        client,
        [keys.onlineNodes()],
        [nodeId, window, NODE_KEYS_TTL_MS],
      )) as [number, ...string[]];
      // Expired while alive (a long pause, or Redis lost it): survivors may have dropped its users.
      if (absent === 1 && this.started) for (const userId of this.local) await this.online(userId);
      this.started = true;
      await client.pexpire(keys.onlineNode(nodeId), NODE_KEYS_TTL_MS);
      for (const node of dead) await this.takeOver(node);
    } catch (error) {
      this.context.logger.warn({ err: toBackendError(error, ALIVE.name) }, 'online refresh failed');
    } finally {
      this.sweeping = false;
    }
  }

  /** Drop a dead node from every user it held; report those left offline. Idempotent across survivors. */
  private async takeOver(node: string): Promise<void> {
    const { client, keys } = this.context;
    const set = keys.onlineNode(node);
    const users = await client.smembers(set);
    for (const userId of users) {
      const [orphaned, epoch, offlineForMs] = (await this.run(ORPHAN, userId, [node])) as number[];
      if (orphaned !== 1) continue;
      // Ours until claimed: should this node die too within the grace, the next survivor takes it over.
      await this.guard('online node', client.sadd(keys.onlineNode(this.context.nodeId), userId));
      const transition = { userId, epoch: Number(epoch), offlineForMs: Number(offlineForMs) };
      for (const listener of this.listeners) listener(transition);
    }
    await client.multi().del(set).exec();
    await client.zrem(keys.onlineNodes(), node);
  }

  private async run(
    script: RedisScript,
    userId: string,
    args: readonly (string | number)[],
  ): Promise<unknown> {
    try {
      return await script.run(this.context.client, [this.context.keys.onlineUser(userId)], args);
    } catch (error) {
      throw toBackendError(error, script.name);
    }
  }

  private async guard<T>(name: string, command: Promise<T>): Promise<T> {
    try {
      return await command;
    } catch (error) {
      throw toBackendError(error, name);
    }
  }
}
