/**
 * Reads about a channel that need no membership: its stream's position, its retained history and its
 * presence. The same answers for clients' commands and for the library API and HTTP API.
 */
import { ErrorCode } from '@switchboard/protocol';
import type { PresenceEntry, StreamPosition } from '@switchboard/protocol';
import type { HistoryPage, HistoryStore } from '../history/history-store.js';
import type { PresenceStore } from '../presence/presence-store.js';
import type { ChannelSettings } from './channel.js';
import type { Outcome } from './channel-registry.js';

/** Position, history and presence of channels, subscribed here or not. */
export class ChannelQueries {
  constructor(
    private readonly history: HistoryStore,
    private readonly presence: PresenceStore,
    private readonly settings: (channel: string) => ChannelSettings,
  ) {}

  /** The current position of a channel's stream. */
  position(channel: string): Promise<StreamPosition> {
    return this.history.position(channel);
  }

  /** Up to `limit` retained messages of a channel, after `since` when given. */
  readHistory(channel: string, since: number | undefined, limit: number): Promise<HistoryPage> {
    return this.history.read(channel, since === undefined ? { limit } : { since, limit });
  }

  /** Who is in a channel (presence must be enabled on it). */
  async presenceOf(channel: string): Promise<Outcome<readonly PresenceEntry[]>> {
    if (!this.settings(channel).presence) return presenceOff(channel);
    return { ok: true, value: await this.presence.list(channel) };
  }

  /** How many are in a channel (presence must be enabled on it). */
  async presenceStats(channel: string): Promise<Outcome<{ users: number; connections: number }>> {
    if (!this.settings(channel).presence) return presenceOff(channel);
    return { ok: true, value: await this.presence.stats(channel) };
  }
}

function presenceOff(channel: string): Outcome<never> {
  return { ok: false, code: ErrorCode.NotAvailable, message: `presence is not enabled on ${channel}` };
}
