/**
 * Every Redis key and pub/sub channel name Switchboard uses, in one place (docs/scaling.md lists them).
 * All the keys of one Switchboard channel share the hash tag `{c:<name>}`, so on Redis Cluster they sit in
 * one slot and one Lua script can touch them all, and the channel's sharded pub/sub channel lands on the
 * same shard. The `c:` inside the tag keeps it non-empty whatever the name holds (a `}` first would
 * otherwise make an empty tag and scatter the keys).
 */
export class RedisKeys {
  /** @param prefix namespace for every key and pub/sub channel (several deployments can share one Redis). */
  constructor(readonly prefix = 'sb') {}

  /** The hash-tagged base of a Switchboard channel's keys. */
  private channelBase(channel: string): string {
    return `${this.prefix}:{c:${channel}}`;
  }

  /** The channel's stream (history): a Redis Stream with entry ids `<offset>-0`. */
  stream(channel: string): string {
    return `${this.channelBase(channel)}:s`;
  }

  /** The channel's stream metadata: a hash with the epoch (`e`) and the last offset (`o`). */
  meta(channel: string): string {
    return `${this.channelBase(channel)}:m`;
  }

  /** The first offset given to a publish with this idempotency key. */
  idempotency(channel: string, key: string): string {
    return `${this.channelBase(channel)}:i:${key}`;
  }

  /** Presence: member key -> member JSON. */
  presenceMembers(channel: string): string {
    return `${this.channelBase(channel)}:pm`;
  }

  /** Presence: `<nodeId>|<member key>` -> connections of the member on that node. */
  presenceCounts(channel: string): string {
    return `${this.channelBase(channel)}:pc`;
  }

  /** Presence: node id -> expiry time (ms), refreshed by the live node (a sorted set). */
  presenceNodes(channel: string): string {
    return `${this.channelBase(channel)}:pn`;
  }

  /** The pub/sub channel of a Switchboard channel (publications and membership notices). */
  channelTopic(channel: string): string {
    return `${this.channelBase(channel)}:p`;
  }

  /** The pub/sub channel of a user (targeted sends, disconnects). */
  userTopic(userId: string): string {
    return `${this.prefix}:{u:${userId}}`;
  }

  /** The pub/sub channel of a node (sends to one of its connections, disconnects, its probe). */
  nodeTopic(nodeId: string): string {
    return `${this.prefix}:{n:${nodeId}}`;
  }

  /**
   * A pub/sub channel for the pub/sub probe of a node on one cluster shard: `n` is tried upwards until the
   * channel's slot lands on the shard (the node's own topic covers its own shard). A distinct `p:` tag
   * keeps it apart from every node topic.
   */
  probeTopic(nodeId: string, n: number): string {
    return `${this.prefix}:{p:${nodeId}:${n}}`;
  }

  /** The pub/sub channel every node subscribes to (broadcasts). */
  broadcastTopic(): string {
    return `${this.prefix}:{all}`;
  }

  /** A one-time connection ticket (the key is a digest of the ticket). */
  ticket(key: string): string {
    return `${this.prefix}:t:${key}`;
  }

  /** Node registry: node id -> JSON report. All registry keys share the `{nodes}` tag (one slot). */
  nodeReports(): string {
    return `${this.prefix}:{nodes}:r`;
  }

  /** Node registry: node id -> expiry time (ms) (a sorted set). */
  nodeExpiry(): string {
    return `${this.prefix}:{nodes}:x`;
  }

  /** Node registry: the distinct users connected to a node (a set). */
  nodeUsers(nodeId: string): string {
    return `${this.prefix}:{nodes}:u:${nodeId}`;
  }

  /** Node registry: the channels with subscribers on a node (a set). */
  nodeChannels(nodeId: string): string {
    return `${this.prefix}:{nodes}:c:${nodeId}`;
  }

  /** Node registry: scratch key for counting a union (deleted in the same script). */
  nodeScratch(): string {
    return `${this.prefix}:{nodes}:tmp`;
  }

  /** Online state of a user: `n:<nodeId>` per node holding it, epoch `e`, offline since `s`, claimed `c`. */
  onlineUser(userId: string): string {
    return `${this.prefix}:{u:${userId}}:on`;
  }

  /** The users a node holds or has in their offline grace (a set; survivors read a dead node's). */
  onlineNode(nodeId: string): string {
    return `${this.prefix}:{on:${nodeId}}`;
  }

  /** Node id -> liveness expiry (ms) of the online store (a sorted set). */
  onlineNodes(): string {
    return `${this.prefix}:{online}:x`;
  }

  /** Sessions away within their grace period (session id -> JSON). */
  session(id: string): string {
    return `${this.prefix}:s:${id}`;
  }

  /**
   * The hash-tagged base of a user's inbox keys (`{i:<user>}`: one slot per user): `:m` the messages (a
   * stream, entry ids `<seq>-0`), `:h` counters, `:d` devices, `:l` dead letters, `:k:<seq>` one
   * message's per-device state, `:i:<key>` idempotency keys (redis-inbox-scripts.ts).
   */
  inbox(userId: string): string {
    return `${this.prefix}:{i:${userId}}`;
  }

  /**
   * The inbox indexes every node sweeps, both in the `{inbox}` slot: `x` (message -> expiry) and `u`
   * (message no device acked or reported yet -> time stored). Members are `<message id>|<user id>`.
   */
  inboxIndex(which: 'x' | 'u'): string {
    return `${this.prefix}:{inbox}:${which}`;
  }

  /**
   * The hash-tagged base of a work queue's keys (`{q:<queue>}`: one slot per queue): `:s` the jobs (a
   * stream with consumer group `g`), `:t` lock tokens, `:n` attempts, `:z` lock expiries, `:l` dead
   * letters, `:i:<key>` idempotency keys (redis-queue-scripts.ts).
   */
  queue(queue: string): string {
    return `${this.prefix}:{q:${queue}}`;
  }
}

/** Redis Cluster's slot count. */
export const CLUSTER_SLOTS = 16_384;

const CRC16_TABLE = ((): Uint16Array => {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let bit = 0; bit < 8; bit++)
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[i] = crc;
  }
  return table;
})();

/**
 * The Redis Cluster slot of a key or shard channel: CRC16 (XMODEM) of its hash tag (the text between the
 * first `{` and the next `}`, when not empty) or of the whole key, modulo 16384
 * (https://redis.io/docs/latest/operate/oss_and_stack/reference/cluster-spec/#hash-tags).
 */
export function hashSlot(key: string): number {
  const bytes = Buffer.from(key);
  let start = 0;
  let end = bytes.length;
  const open = bytes.indexOf(0x7b);
  if (open >= 0) {
    const close = bytes.indexOf(0x7d, open + 1);
    if (close > open + 1) [start, end] = [open + 1, close];
  }
  let crc = 0;
  for (let i = start; i < end; i++)
    crc = ((crc << 8) & 0xffff) ^ (CRC16_TABLE[((crc >> 8) ^ (bytes[i] ?? 0)) & 0xff] ?? 0);
  return crc % CLUSTER_SLOTS;
}
