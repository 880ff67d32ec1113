/**
 * The history seam: each channel is a stream with an epoch and a bounded, time-limited buffer of recent
 * messages, for reconnection, not archiving. Appends happen inside the broker's publish (so that on Redis
 * the offset, the append and the delivery are one atomic script); this seam reads.
 *
 * Streams are not kept for ever (docs/recovery.md, "How long a stream is kept"): one with members on some
 * node is kept; one without keeps its messages until they expire and its position until the engine's
 * stream TTL after its last use (created, published to, or left by its last member), and is then
 * forgotten. Its next use starts a new epoch, so an old position is answered `recovered: false`, never
 * with a wrong replay.
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
  /**
   * This node has local members of `channel` (idempotent): its stream must not be forgotten until
   * {@link release}. Never throws; a shared store keeps the stream alive in the background.
   */
  hold(channel: string): void;
  /** This node has no local member of `channel` any more: the stream's time runs from now. Never throws. */
  release(channel: string): void;
  /**
   * Channel streams this process holds in memory, for /stats. Absent when the streams live elsewhere
   * (Redis, where their keys expire on the same rule).
   */
  streamCount?(): number;
  close(): Promise<void>;
}
