/**
 * Stream continuity: each channel remembers the position it last delivered on this node. A publication
 * that does not follow it means messages went missing between the broker and this node (a pub/sub hiccup,
 * a failover): newer publications are held while the missing ones are read from history and delivered in
 * order; when history cannot fill the gap, the channel's subscribers are sent to resubscribe by their
 * positions (never a silent gap).
 */
import type { StreamPosition } from '@switchboard/protocol';
import type { Publication } from '../broker/broker.js';
import type { HistoryPage, HistoryStore } from '../history/history-store.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import type { Channel } from './channel.js';
import type { HubCounters } from './hub-stats.js';

/**
 * The most messages a recovery replays, and a refill reads. A client further behind than this gets
 * `recovered: false` and reloads its state: replaying more would be slower than a reload and would flood
 * the connection.
 */
export const MAX_RECOVERY_MESSAGES = 10_000;

/** A start no stream has (members on different epochs): the refill covers nothing and all resubscribe. */
const MIXED_EPOCHS: StreamPosition = { offset: -1, epoch: '' };

/** Continuity checks tried (250 ms, then doubling, apart) before subscribers are sent to resubscribe. */
const STREAM_CHECK_ATTEMPTS = 5;

/** What continuity needs from the channel registry that owns the channels. */
export interface ContinuityHost {
  /** Whether `channel` is still the registry's channel of its name (not left by everyone meanwhile). */
  isCurrent(channel: Channel): boolean;
  /** Deliver a publication as if it had just arrived (refilled messages, then the held ones, in order). */
  onPublication(publication: Publication): void;
  /** Every local subscriber of `channel` must subscribe again from its own position. */
  resubscribe(channel: Channel, reason: string): void;
}

/** What continuity checks need. */
export interface StreamContinuityOptions {
  readonly history: HistoryStore;
  readonly counters: HubCounters;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** Timers of retried checks. */
  readonly clock: Clock;
}

/** Fills the gaps of channels' streams from history, or sends their subscribers to resubscribe. */
export class StreamContinuity {
  constructor(
    private readonly host: ContinuityHost,
    private readonly options: StreamContinuityOptions,
  ) {}

  /**
   * `publication` does not follow `last`, the channel's last delivered position: hold it (and whatever
   * arrives meanwhile), read the missing messages from history and deliver everything in order.
   */
  fillGap(channel: Channel, last: StreamPosition, publication: Publication): void {
    channel.filling = [publication];
    const { id, epoch } = publication;
    this.refill(channel, last, id === undefined || epoch === undefined ? null : { offset: id - 1, epoch }, 0);
  }

  /**
   * The broker's delivery was interrupted (Redis reconnect, failover, silent subscription): the channel
   * may have missed publications. Check it against its stream and refill it from history, or send its
   * subscribers to resubscribe when history cannot cover what was missed.
   */
  verify(channel: Channel): void {
    if (channel.filling !== null) return; // a refill under way reads history itself
    const last = channel.position ?? earliestStart(channel);
    if (last === null) return;
    channel.filling = [];
    this.checkStream(channel, last, 0);
  }

  /** Compare the channel with its stream's position and refill what it missed (or retry the check). */
  private checkStream(channel: Channel, last: StreamPosition, attempt: number): void {
    this.options.history.position(channel.name).then(
      (position) => this.refill(channel, last, position, attempt),
      (error: unknown) => this.retryCheck(channel, last, attempt, error),
    );
  }

  /**
   * The backend could not answer a continuity check (it is still coming back): try again with a backoff
   * while live messages wait, rather than sending every subscriber of the node to resubscribe after a
   * blip. Past the attempts, or with too much waiting, the subscribers resubscribe after all.
   */
  private retryCheck(channel: Channel, last: StreamPosition, attempt: number, error: unknown): void {
    if (!this.host.isCurrent(channel)) {
      channel.filling = null;
      return;
    }
    const { logger, clock } = this.options;
    const waiting = channel.filling?.length ?? 0;
    if (attempt + 1 < STREAM_CHECK_ATTEMPTS && waiting <= MAX_RECOVERY_MESSAGES) {
      logger.info({ err: error, channel: channel.name, attempt }, 'stream check failed: retrying');
      clock.setTimeout(() => this.checkStream(channel, last, attempt + 1), 250 * 2 ** attempt);
      return;
    }
    logger.warn({ err: error, channel: channel.name }, 'stream check failed');
    this.refill(channel, last, null, attempt);
  }

  /**
   * Deliver what `channel` missed between `last` and `target` from history, then what was held in
   * `channel.filling`; without a target (or when history cannot cover it), every subscriber resubscribes.
   */
  private refill(
    channel: Channel,
    last: StreamPosition,
    target: StreamPosition | null,
    attempt: number,
  ): void {
    const missing = target === null ? -1 : target.offset - last.offset;
    let read: Promise<HistoryPage | null> = Promise.resolve(null);
    if (target !== null && target.epoch === last.epoch && last.offset >= 0 && missing >= 0) {
      if (missing === 0) read = Promise.resolve({ position: target, messages: [], complete: true });
      else if (missing <= MAX_RECOVERY_MESSAGES)
        read = this.options.history.read(channel.name, { since: last.offset, limit: missing });
    }
    read.then(
      (page) => this.refilled(channel, last, page),
      (error: unknown) => this.retryCheck(channel, last, attempt, error),
    );
  }

  /** Deliver a refill's page and the held messages, or send the subscribers to resubscribe. */
  private refilled(channel: Channel, last: StreamPosition, page: HistoryPage | null): void {
    const held = channel.filling ?? [];
    channel.filling = null;
    if (!this.host.isCurrent(channel)) return;
    if (page !== null && page.complete && page.position.epoch === last.epoch) {
      channel.position ??= last;
      for (const m of page.messages) {
        if (m.offset <= last.offset) continue;
        this.host.onPublication({
          channel: channel.name,
          id: m.offset,
          epoch: last.epoch,
          json: m.json,
          time: m.time,
          ephemeral: false,
        });
      }
      for (const p of held) this.host.onPublication(p);
      return;
    }
    this.options.counters.streamResets++;
    this.options.metrics.streamReset();
    this.options.logger.warn(
      { channel: channel.name, last },
      'stream gap could not be filled: subscribers resubscribe',
    );
    this.host.resubscribe(channel, 'messages were lost in transit; resubscribe from your position');
  }
}

/**
 * Where a channel's continuity check starts when nothing was delivered on it yet: the earliest position
 * its members subscribed at (members that started later may see a message they already had again; the
 * SDK drops it by offset). Null when no member knows its start; {@link MIXED_EPOCHS} when members disagree
 * on the epoch, which no refill can cover, so they all resubscribe.
 */
function earliestStart(channel: Channel): StreamPosition | null {
  let earliest: StreamPosition | null = null;
  for (const connection of channel.members) {
    const start = connection.subscriptions.get(channel.name);
    if (start === undefined || start === null) continue;
    if (earliest === null || (start.epoch === earliest.epoch && start.offset < earliest.offset)) {
      earliest = start;
    } else if (start.epoch !== earliest.epoch) {
      return MIXED_EPOCHS;
    }
  }
  return earliest;
}
