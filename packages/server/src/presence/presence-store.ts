/**
 * The presence seam: who is in each channel, across every node. Counts are per member (a user, or an
 * anonymous connection) so that a user with three tabs is one member with three connections. The Redis
 * implementation (scaling issue) keeps entries with an expiry refreshed by live nodes.
 */
import type { PresenceEntry } from '@switchboard/protocol';

/** One member's identity in a channel. */
export interface PresenceMember {
  /** The user id, or `#<connectionId>` for an anonymous connection. */
  readonly key: string;
  readonly userId: string | null;
  readonly connectionId?: string;
  readonly info?: unknown;
}

/** Presence storage. */
export interface PresenceStore {
  /** One more connection of `member` in `channel`; resolves with the member's connection count after it. */
  add(channel: string, member: PresenceMember): Promise<number>;
  /** One connection fewer; resolves with the count after it (0: the member is gone). */
  remove(channel: string, key: string): Promise<number>;
  list(channel: string): Promise<PresenceEntry[]>;
  stats(channel: string): Promise<{ users: number; connections: number }>;
  /**
   * Members the store removed by itself (a crashed node's entries expiring) are reported to `listener`,
   * so their departure is announced. Optional: the memory store never removes anyone by itself.
   */
  onExpired?(listener: (channel: string, member: PresenceMember) => void): void;
  close(): Promise<void>;
}
