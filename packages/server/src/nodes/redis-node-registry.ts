import type { ClusterCounts, LocalCounts, NodeMembership, NodeRegistry } from './node-registry.js';
import type { RedisContext } from '../redis/redis-context.js';
import { toBackendError } from '../redis/redis-connection.js';
import { RedisScript } from '../redis/redis-scripts.js';
import type { TimerHandle } from '../util/clock.js';
import { InvalidOptionError } from '../errors.js';

/** Options of {@link RedisNodeRegistry}. */
export interface RedisNodeRegistryOptions {
  /** How often this node reports (ms); a node silent for three reports drops out. The engine's default is 5000. */
  readonly reportIntervalMs: number;
}

/** A node that missed this many reports in a row is counted out. */
const MISSED_REPORTS = 3;
/** Members per SADD when a node rewrites its whole sets. */
const SYNC_CHUNK = 1000;

/**
 * This node's report: KEYS reports, expiry, users set, channels set; ARGV node id, report JSON, expiry
 * window (ms). Returns 1 when the node was absent or already past its expiry (Redis restarted empty, or
 * another node counted it out), so it rewrites its sets.
 */
const REPORT = new RedisScript(
  'node report',
  `
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local window = tonumber(ARGV[3])
local was = tonumber(redis.call('ZSCORE', KEYS[2], ARGV[1]))
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], now + window, ARGV[1])
redis.call('PEXPIRE', KEYS[3], window)
redis.call('PEXPIRE', KEYS[4], window)
if was == nil or was <= now then return 1 end
return 0
`,
);

/**
 * Cluster-wide counts: KEYS reports, expiry, scratch; ARGV the users-set and channels-set key prefixes
 * (the node id completes them; every key shares the {nodes} hash tag, so one slot holds them all).
 * Counts out the nodes past their expiry (deleting their report and sets), then counts distinct users
 * and channels as the size of the union of the live nodes' sets. Returns { nodes, connections, users,
 * channels }.
 */
const COUNTS = new RedisScript(
  'node counts',
  `
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)) do
  redis.call('HDEL', KEYS[1], id)
  redis.call('DEL', ARGV[1] .. id, ARGV[2] .. id)
  redis.call('ZREM', KEYS[2], id)
end
local live = redis.call('ZRANGE', KEYS[2], 0, -1)
if #live == 0 then return { 0, 0, 0, 0 } end
local connections = 0
for _, report in ipairs(redis.call('HMGET', KEYS[1], unpack(live))) do
  if report then
    local ok, decoded = pcall(cjson.decode, report)
    if ok and type(decoded) == 'table' then connections = connections + (tonumber(decoded.connections) or 0) end
  end
end
local function distinct(prefix)
  if #live == 1 then return redis.call('SCARD', prefix .. live[1]) end
  local sets = {}
  for i, id in ipairs(live) do sets[i] = prefix .. id end
  local n = redis.call('SUNIONSTORE', KEYS[3], unpack(sets))
  redis.call('DEL', KEYS[3])
  return n
end
return { #live, connections, distinct(ARGV[1]), distinct(ARGV[2]) }
`,
);

/** One of this node's two sets, kept locally (the truth) with the changes Redis has not seen yet. */
class TrackedSet {
  readonly members = new Set<string>();
  /** member -> true (added) or false (removed) since the last flush. */
  readonly pending = new Map<string, boolean>();

  constructor(readonly key: string) {}

  change(member: string, present: boolean): boolean {
    if (present === this.members.has(member)) return false;
    if (present) this.members.add(member);
    else this.members.delete(member);
    this.pending.set(member, present);
    return true;
  }
}

/**
 * Per-node reports and each node's distinct users and channels in Redis, for cluster-wide counts. Every
 * key sits in the `{nodes}` slot. Membership changes reach Redis batched, once per event-loop turn;
 * Redis is a copy of the local sets, rewritten whole after a failed batch or when Redis lost this node.
 */
export class RedisNodeRegistry implements NodeRegistry, NodeMembership {
  private readonly users: TrackedSet;
  private readonly channels: TrackedSet;
  private local: (() => LocalCounts) | null = null;
  private timer: TimerHandle | null = null;
  private flushScheduled = false;
  /** Redis's copy of the sets is unknown: rewrite it whole instead of sending changes. */
  private resync = true;
  private syncing = false;
  private closed = false;

  constructor(
    readonly context: RedisContext,
    readonly options: RedisNodeRegistryOptions,
  ) {
    const { reportIntervalMs } = options;
    if (!Number.isInteger(reportIntervalMs) || reportIntervalMs < 1)
      throw new InvalidOptionError('nodeReportIntervalMs', reportIntervalMs, 'a positive integer (ms)');
    this.users = new TrackedSet(context.keys.nodeUsers(context.nodeId));
    this.channels = new TrackedSet(context.keys.nodeChannels(context.nodeId));
  }

  /** Report now (a failure is logged, not thrown: counts are not worth refusing to serve), then every interval. */
  async start(local: () => LocalCounts): Promise<void> {
    this.local = local;
    this.timer ??= this.context.clock.setInterval(() => void this.report(), this.options.reportIntervalMs);
    await this.report();
  }

  async counts(): Promise<ClusterCounts> {
    const { client, keys } = this.context;
    let reply: unknown;
    try {
      reply = await COUNTS.run(
        client,
        [keys.nodeReports(), keys.nodeExpiry(), keys.nodeScratch()],
        [keys.nodeUsers(''), keys.nodeChannels('')],
      );
    } catch (error) {
      throw toBackendError(error, COUNTS.name);
    }
    const [nodes, connections, users, channels] = reply as [number, number, number, number];
    return { nodes, connections, users, channels };
  }

  userAdded(userId: string): void {
    if (this.users.change(userId, true)) this.scheduleFlush();
  }

  userRemoved(userId: string): void {
    if (this.users.change(userId, false)) this.scheduleFlush();
  }

  channelAdded(channel: string): void {
    if (this.channels.change(channel, true)) this.scheduleFlush();
  }

  channelRemoved(channel: string): void {
    if (this.channels.change(channel, false)) this.scheduleFlush();
  }

  /** Stop reporting and delete this node's report and sets (best effort: failures are logged). */
  async close(): Promise<void> {
    this.closed = true;
    this.timer?.cancel();
    this.timer = null;
    if (this.local === null) return;
    const { client, keys, nodeId } = this.context;
    try {
      await client
        .multi()
        .hdel(keys.nodeReports(), nodeId)
        .zrem(keys.nodeExpiry(), nodeId)
        .del(this.users.key, this.channels.key)
        .exec();
    } catch (error) {
      this.context.logger.warn({ err: toBackendError(error, 'node withdraw') }, 'node report not withdrawn');
    }
  }

  // ---------------------------------------------------------------- internals

  private get window(): number {
    return this.options.reportIntervalMs * MISSED_REPORTS;
  }

  private async report(): Promise<void> {
    if (this.local === null || this.closed) return;
    const { client, keys, nodeId } = this.context;
    try {
      const absent = await REPORT.run(
        client,
        [keys.nodeReports(), keys.nodeExpiry(), this.users.key, this.channels.key],
        [nodeId, JSON.stringify(this.local()), this.window],
      );
      if (absent === 1) this.resync = true;
      if (this.resync) await this.sync();
    } catch (error) {
      this.context.logger.warn({ err: toBackendError(error, REPORT.name) }, 'node report failed');
    }
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.local === null || this.closed) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      void this.flush();
    });
  }

  /** Send the changes since the last flush; a failure leaves Redis's copy unknown, so it is rewritten. */
  private async flush(): Promise<void> {
    if (this.closed) return;
    const batch = this.context.client.pipeline();
    let commands = 0;
    for (const set of [this.users, this.channels]) {
      const added: string[] = [];
      const removed: string[] = [];
      for (const [member, present] of set.pending) (present ? added : removed).push(member);
      set.pending.clear();
      if (this.resync) continue; // the next report rewrites the whole set
      if (added.length > 0) batch.sadd(set.key, ...added);
      if (removed.length > 0) batch.srem(set.key, ...removed);
      commands += Number(added.length > 0) + Number(removed.length > 0);
    }
    if (commands === 0) return;
    try {
      const results = (await batch.exec()) ?? [];
      const failed = results.find(([error]) => error !== null);
      if (failed !== undefined) throw failed[0];
    } catch (error) {
      this.resync = true;
      this.context.logger.warn(
        { err: toBackendError(error, 'node membership') },
        'node membership not recorded; it is rewritten at the next report',
      );
    }
  }

  /** Rewrite this node's sets in Redis from the local ones, atomically (MULTI). */
  private async sync(): Promise<void> {
    if (this.syncing || this.closed) return;
    this.syncing = true;
    this.resync = false;
    try {
      const transaction = this.context.client.multi();
      for (const set of [this.users, this.channels]) {
        set.pending.clear();
        transaction.del(set.key);
        const members = [...set.members];
        for (let i = 0; i < members.length; i += SYNC_CHUNK)
          transaction.sadd(set.key, ...members.slice(i, i + SYNC_CHUNK));
        transaction.pexpire(set.key, this.window);
      }
      const results = (await transaction.exec()) ?? [];
      const failed = results.find(([error]) => error !== null);
      if (failed !== undefined) throw failed[0];
    } catch (error) {
      this.resync = true;
      throw error;
    } finally {
      this.syncing = false;
    }
  }
}
