/**
 * Finished channels for SSE streams: a channel completed (`server.completeChannel`, `POST
 * /api/channels/:channel/complete`) ends its streams after its last message with `event: done`, and a
 * reconnect whose Last-Event-ID is at or past that end is answered 204 so that EventSource stops (WHATWG
 * HTML §9.2.3). Node-local and bounded: docs/protocol.md#finished-streams says what that means.
 */
import type { StreamPosition } from '@switchboard/protocol';
import { decodeEventId, epochTag } from './sse-event-id.js';

/** The most completed channels a node remembers; past it the oldest completion is forgotten first. */
export const MAX_COMPLETED_CHANNELS = 10_000;

/** Where each completed channel ended. */
export class SseCompletions {
  private readonly ends = new Map<string, StreamPosition>();

  constructor(private readonly max = MAX_COMPLETED_CHANNELS) {}

  /** Record that `channel` ended at `end` (a later completion moves the end). */
  complete(channel: string, end: StreamPosition): void {
    this.ends.delete(channel);
    this.ends.set(channel, end);
    if (this.ends.size > this.max) {
      const oldest = this.ends.keys().next();
      if (oldest.done !== true) this.ends.delete(oldest.value);
    }
  }

  /** Where `channel` ended; undefined while it is not completed. */
  end(channel: string): StreamPosition | undefined {
    return this.ends.get(channel);
  }

  /** Whether a stream at `position` in `channel` has had everything up to the channel's end. */
  reached(channel: string, position: StreamPosition): boolean {
    const end = this.ends.get(channel);
    return end !== undefined && end.epoch === position.epoch && position.offset >= end.offset;
  }

  /**
   * Whether a stream of `channels` resuming from `lastEventId` has nothing left to receive: every channel
   * is completed and the id is at or past each end. Such a reconnect gets 204.
   */
  finished(channels: readonly string[], lastEventId: string | undefined): boolean {
    if (lastEventId === undefined || this.ends.size === 0) return false;
    const entries = decodeEventId(lastEventId, channels.length);
    if (entries === null) return false;
    return channels.every((channel, i) => {
      const end = this.ends.get(channel);
      const entry = entries[i];
      return (
        end !== undefined &&
        entry !== undefined &&
        entry.tag === epochTag(end.epoch) &&
        entry.offset >= end.offset
      );
    });
  }
}
