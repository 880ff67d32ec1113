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

  /** Sessions away within their grace period (session id -> JSON). */
  session(id: string): string {
    return `${this.prefix}:s:${id}`;
  }
}
