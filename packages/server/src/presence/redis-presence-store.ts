import type { PresenceEntry } from '@switchboard/protocol';
import type { PresenceMember, PresenceStore } from './presence-store.js';
import { ADD, LIST, REFRESH, REMOVE, RESTORE, STATS } from './redis-presence-scripts.js';
import type { RedisContext } from '../redis/redis-context.js';
import { toBackendError } from '../redis/redis-connection.js';
import type { RedisScript } from '../redis/redis-scripts.js';
import type { TimerHandle } from '../util/clock.js';
import { InvalidOptionError } from '../errors.js';

/** Options of {@link RedisPresenceStore}. */
export interface RedisPresenceStoreOptions {
  /**
   * A node's entries expire this long after its last refresh (ms); a live node refreshes every third of
   * it, so a crashed node's members are announced as leaving within `ttlMs * 4 / 3`. The engine's default
   * is 30000 (gone within 40 s).
   */
  readonly ttlMs: number;
}

/** A script argument (Redis receives strings). */
type ScriptArgument = string | number;

/** Expired members reported by a script: `[key, json, key, json, ...]`. */
type Departures = readonly string[];

/** This node's own part of a channel's presence, the truth it restores Redis to after an outage. */
interface LocalChannel {
  readonly members: Map<string, { readonly member: PresenceMember; connections: number }>;
  /** Redis may disagree with `members` (a command failed, or this node's entries had expired). */
  dirty: boolean;
}

/** Channels refreshed at once per batch of a refresh pass (each one script call). */
const REFRESH_BATCH = 256;
/** The channel keys outlive their last refresh by this many TTLs. */
const KEY_TTLS = 3;

/**
 * Presence in Redis, shared by every node. Each node's connections are counted under its own id, with
 * an expiry it refreshes while alive; whoever touches a channel after a node's expiry (any node's
 * add/remove/list/stats, or a survivor's refresh pass) drops that node's counts in the same script and
 * announces the members left with none through {@link onExpired}. Counts are totals across nodes, so a
 * member leaving node A and coming back on node B within A's presence grace never reaches 0: no
 * leave/join flapping across nodes either. Keys and scripts: redis-presence-scripts.ts, docs/scaling.md.
 */
export class RedisPresenceStore implements PresenceStore {
  private readonly channels = new Map<string, LocalChannel>();
  private readonly listeners: ((channel: string, member: PresenceMember) => void)[] = [];
  private readonly ttlMs: number;
  private timer: TimerHandle | null = null;
  private refreshing = false;
  private closed = false;

  constructor(
    readonly context: RedisContext,
    readonly options: RedisPresenceStoreOptions,
  ) {
    const { ttlMs } = options;
    if (!Number.isInteger(ttlMs) || ttlMs < 3)
      throw new InvalidOptionError('presenceTtlMs', ttlMs, 'an integer of at least 3 (ms)');
    // Count fields are `<nodeId>|<member key>`: the first bar ends the node id.
    if (context.nodeId.includes('|'))
      throw new InvalidOptionError('nodeId', context.nodeId, "an id without '|'");
    this.ttlMs = ttlMs;
  }

  async add(channel: string, member: PresenceMember): Promise<number> {
    const local = this.track(channel);
    const hadEntries = local.members.size > 0;
    const entry = local.members.get(member.key);
    if (entry === undefined) local.members.set(member.key, { member, connections: 1 });
    else entry.connections++;
    const [count, fresh] = await this.change(channel, local, ADD, [member.key, memberJson(member)]);
    // Re-registered while it had entries here: they had expired (this node was cut off) or Redis lost them.
    if (fresh && hadEntries) this.repair(channel, local);
    return count;
  }

  async remove(channel: string, key: string): Promise<number> {
    const local = this.track(channel);
    const entry = local.members.get(key);
    if (entry !== undefined && --entry.connections <= 0) local.members.delete(key);
    const last = local.members.size === 0;
    if (last && !local.dirty) this.untrack(channel, local);
    const [count, fresh] = await this.change(channel, local, REMOVE, [key, last ? '1' : '0']);
    if (fresh && !last) this.repair(channel, local);
    return count;
  }

  async list(channel: string): Promise<PresenceEntry[]> {
    const [left, entries] = (await this.run(channel, LIST, [])) as [Departures, readonly (string | number)[]];
    this.expired(channel, left);
    const out: PresenceEntry[] = [];
    for (let i = 0; i < entries.length; i += 2) {
      const member = parseMember(String(entries[i]), '');
      if (member === null) continue;
      out.push({
        userId: member.userId,
        connections: Number(entries[i + 1]),
        ...(member.connectionId === undefined ? {} : { connectionId: member.connectionId }),
        ...(member.info === undefined ? {} : { info: member.info }),
      });
    }
    return out;
  }

  async stats(channel: string): Promise<{ users: number; connections: number }> {
    const [left, users, connections] = (await this.run(channel, STATS, [])) as [Departures, number, number];
    this.expired(channel, left);
    return { users, connections };
  }

  /**
   * `listener` hears of members whose every connection was on nodes that stopped refreshing. Exactly one
   * node hears of each such member: the one whose script dropped the dead node's counts.
   */
  onExpired(listener: (channel: string, member: PresenceMember) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Stop refreshing and withdraw this node's entries, so a clean shutdown does not leave its members
   * present until they expire. Best effort: failures are logged; what is left expires within the TTL.
   * Members this removes are not announced: a shutting-down hub announces its departures itself.
   */
  async close(): Promise<void> {
    this.closed = true;
    this.timer?.cancel();
    this.timer = null;
    const names = [...this.channels.keys()];
    this.channels.clear();
    await Promise.all(
      names.map((channel) =>
        this.run(channel, RESTORE, []).catch((error: unknown) => {
          this.context.logger.warn({ err: error, channel }, 'presence entries not withdrawn');
        }),
      ),
    );
  }

  // ---------------------------------------------------------------- internals

  private track(channel: string): LocalChannel {
    let local = this.channels.get(channel);
    if (local === undefined) this.channels.set(channel, (local = { members: new Map(), dirty: false }));
    if (this.timer === null && !this.closed) {
      this.timer = this.context.clock.setInterval(() => void this.refreshAll(), Math.max(1, this.ttlMs / 3));
    }
    return local;
  }

  private untrack(channel: string, local: LocalChannel): void {
    if (this.channels.get(channel) === local) this.channels.delete(channel);
  }

  /** Run ADD or REMOVE; a failure leaves the outcome unknown, so the channel is restored at the next pass. */
  private async change(
    channel: string,
    local: LocalChannel,
    script: RedisScript,
    args: readonly ScriptArgument[],
  ): Promise<[count: number, fresh: boolean]> {
    try {
      const [count, fresh, left] = (await this.run(channel, script, args)) as [number, number, Departures];
      this.expired(channel, left);
      return [count, fresh === 1];
    } catch (error) {
      local.dirty = true;
      this.channels.set(channel, local);
      throw error;
    }
  }

  /** Run one of the channel's scripts; Redis being away or busy rejects with BackendUnavailableError. */
  private async run(channel: string, script: RedisScript, args: readonly ScriptArgument[]): Promise<unknown> {
    const { keys, nodeId, client } = this.context;
    try {
      return await script.run(
        client,
        [keys.presenceMembers(channel), keys.presenceCounts(channel), keys.presenceNodes(channel)],
        [nodeId, this.ttlMs, this.ttlMs * KEY_TTLS, ...args],
      );
    } catch (error) {
      throw toBackendError(error, script.name);
    }
  }

  private repair(channel: string, local: LocalChannel): void {
    local.dirty = true;
    this.restore(channel, local).catch((error: unknown) => {
      this.context.logger.warn({ err: error, channel }, 'presence entries not restored');
    });
  }

  /** Make Redis hold exactly this node's local entries for `channel`. */
  private async restore(channel: string, local: LocalChannel): Promise<void> {
    local.dirty = false;
    const args: ScriptArgument[] = [];
    for (const [key, { member, connections }] of local.members)
      args.push(key, memberJson(member), connections);
    try {
      const [left] = (await this.run(channel, RESTORE, args)) as [Departures];
      this.expired(channel, left);
    } catch (error) {
      local.dirty = true;
      throw error;
    }
    if (local.members.size === 0 && !local.dirty) this.untrack(channel, local);
  }

  /**
   * One timer for every channel: push this node's expiry forward where it has entries (which also drops
   * dead nodes there, announcing their members), and restore what an outage left unknown.
   */
  private async refreshAll(): Promise<void> {
    if (this.refreshing) return;
    this.refreshing = true;
    try {
      const channels = [...this.channels];
      for (let i = 0; i < channels.length && !this.closed; i += REFRESH_BATCH) {
        await Promise.all(
          channels.slice(i, i + REFRESH_BATCH).map(([channel, local]) => this.refresh(channel, local)),
        );
      }
    } finally {
      this.refreshing = false;
    }
  }

  private async refresh(channel: string, local: LocalChannel): Promise<void> {
    try {
      if (local.dirty) {
        await this.restore(channel, local);
        return;
      }
      const [fresh, left] = (await this.run(channel, REFRESH, [])) as [number, Departures];
      this.expired(channel, left);
      if (fresh === 1) await this.restore(channel, local);
    } catch (error) {
      this.context.logger.warn({ err: error, channel }, 'presence refresh failed');
    }
  }

  private expired(channel: string, left: Departures): void {
    for (let i = 0; i + 1 < left.length; i += 2) {
      const member = parseMember(String(left[i + 1]), String(left[i]));
      if (member === null) continue;
      for (const listener of this.listeners) {
        try {
          listener(channel, member);
        } catch (error) {
          this.context.logger.error({ err: error, channel }, 'presence expiry listener threw');
        }
      }
    }
  }
}

/** What Redis keeps of a member (the key is the hash field). */
function memberJson(member: PresenceMember): string {
  return JSON.stringify({
    userId: member.userId,
    ...(member.connectionId === undefined ? {} : { connectionId: member.connectionId }),
    ...(member.info === undefined ? {} : { info: member.info }),
  });
}

function parseMember(json: string, key: string): PresenceMember | null {
  try {
    const value = JSON.parse(json) as { userId?: unknown; connectionId?: unknown; info?: unknown };
    const userId = typeof value.userId === 'string' ? value.userId : null;
    const connectionId = typeof value.connectionId === 'string' ? value.connectionId : undefined;
    return {
      key,
      userId,
      ...(connectionId === undefined ? {} : { connectionId }),
      ...(value.info === undefined ? {} : { info: value.info }),
    };
  } catch {
    return null;
  }
}
