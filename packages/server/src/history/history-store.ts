/**
 * The history seam: each channel is a stream with an epoch and a bounded, time-limited buffer of recent
 * messages, for reconnection, not archiving. Appends happen inside the broker's publish (so that on Redis
 * the offset, the append and the delivery are one atomic script); this seam reads.
 */
import type { StreamPosition } from '@switchboard/protocol';

/** How much a channel keeps: at most `size` messages, none older than `ttlMs`. */
export interface HistoryPolicy {
  /** Messages kept; 0 keeps none (offsets still advance, so positions still work). */
  readonly size: number;
  /** Age (ms) past which a message is dropped. */
  readonly ttlMs: number;
}

/** A retained message. */
export interface StoredMessage {
  readonly offset: number;
  /** The payload as JSON, exactly as it was delivered. */
  readonly json: string;
  readonly time: number;
}

/** What a history read returns. */
export interface HistoryPage {
  /** The stream's current position. */
  readonly position: StreamPosition;
  readonly messages: readonly StoredMessage[];
  /** True when no message after `since` is missing from the start of `messages`. */
  readonly complete: boolean;
}

/** The outcome of a recovery attempt. */
export type Recovery =
  | {
      readonly recovered: true;
      readonly position: StreamPosition;
      readonly messages: readonly StoredMessage[];
    }
  | { readonly recovered: false; readonly position: StreamPosition };

/** Reads channel streams. */
export interface HistoryStore {
  /** The stream's current position (offset 0 and a fresh epoch for a channel never published to). */
  position(channel: string): Promise<StreamPosition>;
  /** Up to `limit` messages after `since` (default: the oldest retained), oldest first. */
  read(channel: string, query: { readonly since?: number; readonly limit: number }): Promise<HistoryPage>;
  /**
   * Everything after `since`, or nothing: recovered only when the epoch matches and every message after
   * `since.offset` is still retained (and there are at most `limit` of them). Never a partial replay.
   */
  recover(channel: string, since: StreamPosition, limit: number): Promise<Recovery>;
  close(): Promise<void>;
}
