/**
 * Where a subscription is in its channel's stream, and what to do with each message id: pure logic, no
 * I/O, so dedupe and gap detection are tested on their own.
 *
 * Ids are the stream's offsets, sequential per channel (1, 2, 3, ...). A subscription delivers message
 * `last + 1` and nothing else: an id at or below `last` was delivered already (the server's resume replay
 * and the client's own re-sync overlap on purpose), and an id above `last + 1` means messages are missing.
 * Missing messages are never skipped silently: the subscription re-syncs from `last`, and the server
 * either replays exactly what is missing or says it cannot (the stream moved past its history window).
 */
import type { HistoryMessage, StreamPosition, SubscribeResult } from '@switchboard/protocol';

/** What to do with a message: deliver it, drop it as a duplicate, re-sync (a gap), or drop it for want of a position. */
export type Arrival = 'next' | 'duplicate' | 'gap' | 'unpositioned';

/** Classify message `id` against the last delivered offset (`null`: no position yet). */
export function classifyArrival(last: number | null, id: number): Arrival {
  if (last === null) return 'unpositioned';
  if (id <= last) return 'duplicate';
  return id === last + 1 ? 'next' : 'gap';
}

/** What a `subscribe` reply means for the subscription. */
export interface ReplyPlan {
  /** Messages of the reply to deliver, in order (the ones not delivered yet). */
  readonly deliver: readonly HistoryMessage[];
  /** True when messages after `since` were lost for good. */
  readonly lost: boolean;
  /** Why they were lost; '' when nothing was. */
  readonly reason: string;
  /**
   * The last position delivered before the reply: `since`, or later when messages arrived in order while
   * the command was in flight. When `lost`, the messages after it up to the reply's offset are gone.
   */
  readonly previous: StreamPosition | undefined;
  /**
   * True when the reply says nothing about where the subscription is now: the server could not replay
   * from `since`, but messages delivered meanwhile moved the position past it, and from there the history
   * may still hold everything. The cursor stays where it is; the caller re-syncs from it. Declaring a
   * loss here would report messages as lost that the server could still replay.
   */
  readonly retry: boolean;
}

/** The position of one subscription, moved by the messages it delivers and the replies it gets. */
export class StreamCursor {
  private current: StreamPosition | null;

  /** Start at `position` (a position the application kept), or nowhere. */
  constructor(position: StreamPosition | null = null) {
    this.current = position;
  }

  /** The last message delivered, or the position of the last reply when nothing came after it; null before any. */
  get position(): StreamPosition | null {
    return this.current;
  }

  /** What to do with message `id` (see {@link classifyArrival}). */
  classify(id: number): Arrival {
    return classifyArrival(this.current?.offset ?? null, id);
  }

  /** Message `id` was delivered (it was classified `next`). */
  advance(id: number): void {
    if (this.current !== null) this.current = { offset: id, epoch: this.current.epoch };
  }

  /** Forget the position: the next subscribe starts from the channel's current position. */
  reset(): void {
    this.current = null;
  }

  /**
   * Apply the reply to a `subscribe` sent with `since` (or without, when undefined) and return what to
   * deliver. Afterwards the cursor is at the reply's position (or further, within the same epoch), except
   * when the plan says `retry`.
   *
   * The cursor may have moved past `since` while the command was in flight: messages that arrived in
   * order were delivered at once, and the reply's copies of them are dropped here. A reply that claims
   * `recovered: true` but whose messages do not continue the stream up to its offset is a broken promise;
   * it is reported as lost rather than trusted.
   */
  applyReply(since: StreamPosition | undefined, result: SubscribeResult): ReplyPlan {
    const target: StreamPosition = { offset: result.offset, epoch: result.epoch };
    const current = this.current;
    if (since === undefined) {
      this.current = target;
      return { deliver: [], lost: false, reason: '', previous: undefined, retry: false };
    }
    const previous =
      current !== null && current.epoch === since.epoch && current.offset > since.offset ? current : since;
    const sameEpoch = result.epoch === since.epoch;
    if (result.recovered !== true || !sameEpoch) {
      if (sameEpoch && previous.offset >= result.offset) {
        // Everything up to the reply's position arrived in order while the command was in flight.
        this.current = previous;
        return { deliver: [], lost: false, reason: '', previous, retry: false };
      }
      if (sameEpoch && previous.offset > since.offset) {
        return { deliver: [], lost: false, reason: '', previous, retry: true };
      }
      this.current = target;
      return {
        deliver: [],
        lost: true,
        reason: sameEpoch
          ? `messages after ${previous.offset} are no longer in the channel's history`
          : 'the channel stream was reset (new epoch)',
        previous,
        retry: false,
      };
    }
    this.current = target;
    let last = previous.offset;
    const deliver: HistoryMessage[] = [];
    for (const message of result.messages ?? []) {
      const arrival = classifyArrival(last, message.id);
      if (arrival === 'duplicate') continue;
      if (arrival === 'gap') break;
      deliver.push(message);
      last = message.id;
    }
    if (last < result.offset) {
      return {
        deliver,
        lost: true,
        reason: `the recovery reply skipped from ${last} to ${result.offset}`,
        previous: { offset: last, epoch: since.epoch },
        retry: false,
      };
    }
    // Never move backwards within an epoch: the messages up to `last` were delivered.
    if (last > result.offset) this.current = { offset: last, epoch: result.epoch };
    return { deliver, lost: false, reason: '', previous, retry: false };
  }
}
