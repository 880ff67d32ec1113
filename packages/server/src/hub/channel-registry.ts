/**
 * Channels with local subscribers: membership, race-free subscribe and recovery, and the fan-out of
 * publications (stream continuity in stream-continuity.ts, batched frames in channel-batcher.ts).
 */
import { CloseCode, ErrorCode } from '@switchboard/protocol';
import type { StreamPosition } from '@switchboard/protocol';
import type { Broker, Exclusion, Publication } from '../broker/broker.js';
import type { HistoryStore, StoredMessage } from '../history/history-store.js';
import type { PresenceMember } from '../presence/presence-store.js';
import type { ResolvedLimits } from '../limits/resolved-limits.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Logger } from '../util/logger.js';
import type { Clock } from '../util/clock.js';
import type { Tracing } from '../tracing/tracing.js';
import { ChannelActivity } from './channel-activity.js';
import { Channel, resolveChannelSettings } from './channel.js';
import type { ChannelRule, ChannelSettings } from './channel.js';
import { ChannelBatcher } from './channel-batcher.js';
import type { Connection } from './connection.js';
import { DeliveryTally } from './delivery.js';
import type { Closer, Delivery } from './delivery.js';
import { Outbound, renderRoomPayload, renderV1Message } from './outbound.js';
import { renderSseEvent } from './sse-stream.js';
import type { PresenceTracker } from './presence-tracker.js';
import type { HubCounters } from './hub-stats.js';
import { MAX_RECOVERY_MESSAGES, StreamContinuity } from './stream-continuity.js';
import { alreadyHas, batchingMemberHas, markIfAhead, settleMarks, unmark } from './live-marks.js';

export { MAX_RECOVERY_MESSAGES } from './stream-continuity.js';

/** The outcome of a hub operation a client asked for: a value, or an error with a stable code. */
export type Outcome<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly code: ErrorCode; readonly message: string };

/** A subscription that is live and ready for its reply (the buffered live messages still held back). */
export interface Joined {
  readonly channel: string;
  /** Where the subscription starts: messages after it are delivered live. */
  readonly position: StreamPosition;
  /** Present when recovery was asked for. */
  readonly recovered?: boolean;
  /** Missed messages to send before anything live (recovery only). */
  readonly missed: readonly StoredMessage[];
  /** This join's hold on live messages; {@link ChannelRegistry.release} releases only its own. */
  readonly hold: readonly Publication[];
}

/** The part of the write policy the registry uses. */
export type ChannelWriter = Pick<Delivery, 'write' | 'writePrepared' | 'settle' | 'delivered' | 'writeFrame'>;

/** What the channel registry needs. */
export interface ChannelRegistryOptions {
  readonly limits: ResolvedLimits;
  /** Per-channel settings; the first matching rule wins. */
  readonly rules: readonly ChannelRule[];
  readonly delivery: ChannelWriter;
  /** Closes a room connection whose stream must be resubscribed (4002). */
  readonly close: Closer;
  readonly broker: Broker;
  readonly history: HistoryStore;
  /** Local presence with its grace period (channels with presence enabled). */
  readonly presence: PresenceTracker;
  readonly counters: HubCounters;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** Timers for retried stream checks and batch delays. */
  readonly clock: Clock;
  /** A fan-out span per traced publication (one carrying a `traceparent`). */
  readonly tracing: Tracing;
}

/** The presence member a connection counts as. */
export function presenceMember(connection: Connection): PresenceMember {
  return connection.userId === null
    ? { key: `#${connection.id}`, userId: null, connectionId: connection.id, info: connection.info }
    : { key: connection.userId, userId: connection.userId, info: connection.info };
}

/**
 * Channels with local subscribers: membership, race-free recovery, fan-out of publications, and the
 * stream continuity check that turns a gap into a refill from history (or an honest resubscribe).
 */
export class ChannelRegistry {
  private readonly channels = new Map<string, Channel>();
  /** The batches of the members that read batched frames. */
  private readonly batches: ChannelBatcher;
  private readonly continuity: StreamContinuity;
  private readonly delivery: ChannelWriter;
  /** Every publication fanned out on this node, whatever its channel (the admin dashboard's latency). */
  readonly activity: ChannelActivity;

  constructor(private readonly options: ChannelRegistryOptions) {
    this.delivery = options.delivery;
    this.activity = new ChannelActivity(options.clock.now());
    this.batches = new ChannelBatcher(options.delivery, options.clock);
    this.continuity = new StreamContinuity(
      {
        isCurrent: (channel) => this.channels.get(channel.name) === channel,
        onPublication: (publication) => this.onPublication(publication),
        resubscribe: (channel, reason) => this.forceResubscribe(channel, reason),
      },
      options,
    );
  }

  /** Channels with local subscribers. */
  get size(): number {
    return this.channels.size;
  }

  /** Local members of a channel. */
  members(name: string): number {
    return this.channels.get(name)?.members.size ?? 0;
  }

  /** The local members of a channel (empty when none). */
  memberConnections(name: string): Iterable<Connection> {
    return this.channels.get(name)?.members ?? [];
  }

  /**
   * Write every waiting batch now, whatever its delay: a graceful stop calls it before it closes the
   * connections, since a batch flushed by a leave is no longer written to the connection that leaves.
   */
  flushBatches(): void {
    for (const channel of this.channels.values()) this.batches.flush(channel);
  }

  /** Every channel with its local member count and its activity. */
  list(): { name: string; members: number; activity: ChannelActivity }[] {
    return [...this.channels.values()].map((c) => ({
      name: c.name,
      members: c.members.size,
      activity: c.activity,
    }));
  }

  /** Settings for a channel, subscribed or not. */
  settings(name: string): ChannelSettings {
    return (
      this.channels.get(name)?.settings ??
      resolveChannelSettings(this.options.rules, this.options.limits, name)
    );
  }

  /**
   * Subscribe `connection` to `name`, recovering from `since` when given. Live messages for this
   * connection and channel are held back from the moment it is a member; the caller writes its reply (and
   * the missed messages) and then calls {@link release}, which sends the held messages not already covered.
   * A `since` on a channel the connection already holds re-synchronises it.
   */
  async join(
    connection: Connection,
    name: string,
    since: StreamPosition | undefined,
  ): Promise<Outcome<Joined>> {
    const resync = connection.subscriptions.has(name);
    if (resync && since === undefined) {
      return { ok: false, code: ErrorCode.AlreadySubscribed, message: `already subscribed to ${name}` };
    }
    if (resync && connection.recovering?.has(name) === true) {
      return {
        ok: false,
        code: ErrorCode.AlreadySubscribed,
        message: `a subscription to ${name} is in progress`,
      };
    }
    if (!resync && connection.subscriptions.size >= this.options.limits.maxSubscriptionsPerConnection) {
      return {
        ok: false,
        code: ErrorCode.TooManySubscriptions,
        message: `at most ${this.options.limits.maxSubscriptionsPerConnection} subscriptions per connection`,
      };
    }
    let channel = this.channels.get(name);
    if (channel === undefined) {
      // Members keep the stream: it is never forgotten under them (released when the last one leaves).
      this.options.history.hold(name);
      const ready = this.options.broker.subscribe(name);
      // Observed below; this handler only keeps an early rejection from being reported as unhandled.
      ready.catch(() => {});
      channel = new Channel(
        name,
        resolveChannelSettings(this.options.rules, this.options.limits, name),
        ready,
        this.options.clock.now(),
      );
      this.channels.set(name, channel);
    }
    const { maxMembers } = channel.settings;
    if (!resync && maxMembers > 0 && channel.members.size >= maxMembers) {
      return { ok: false, code: ErrorCode.ChannelFull, message: `${name} is full (${maxMembers} members)` };
    }
    // A hold per join: an unsubscribe and a new subscribe during this await get their own, and this
    // join's late completion can neither release nor reuse theirs. What the batching members are owed is
    // written first, so that a batch never spans a change of who is owed it.
    this.batches.flush(channel);
    const hold: Publication[] = [];
    (connection.recovering ??= new Map()).set(name, hold);
    if (!resync) {
      channel.members.add(connection);
      if (connection.batch) channel.batchMembers++;
      connection.subscriptions.set(name, null);
    }
    try {
      await channel.ready;
      let joined: Joined;
      if (since === undefined) {
        joined = { channel: name, position: await this.options.history.position(name), missed: [], hold };
      } else {
        const recovery = await this.options.history.recover(name, since, MAX_RECOVERY_MESSAGES);
        if (recovery.recovered) this.options.counters.recoveries++;
        else this.options.counters.recoveryFailures++;
        joined = {
          channel: name,
          position: recovery.position,
          recovered: recovery.recovered,
          missed: recovery.recovered ? recovery.messages : [],
          hold,
        };
      }
      if (
        connection.state !== 'open' ||
        !connection.subscriptions.has(name) ||
        connection.recovering?.get(name) !== hold
      ) {
        return { ok: false, code: ErrorCode.NotSubscribed, message: `subscription to ${name} ended` };
      }
      connection.subscriptions.set(name, joined.position);
      if (!resync && channel.settings.presence)
        this.options.presence.joined(name, presenceMember(connection));
      return { ok: true, value: joined };
    } catch (error) {
      this.options.logger.warn({ err: error, channel: name }, 'subscribe failed');
      if (connection.recovering?.get(name) !== hold) {
        return { ok: false, code: ErrorCode.NotSubscribed, message: `subscription to ${name} ended` };
      }
      connection.recovering.delete(name);
      if (!resync && connection.subscriptions.delete(name)) this.leave(connection, name);
      return { ok: false, code: ErrorCode.Unavailable, message: 'subscription backend unavailable' };
    }
  }

  /**
   * Send the live messages held back during {@link join} that come after `sent` (the position the
   * connection was given), then deliver live again. Call right after writing the reply.
   */
  release(connection: Connection, name: string, sent: StreamPosition, hold: readonly Publication[]): void {
    const held = connection.recovering?.get(name);
    if (held === undefined || held !== hold) return;
    // The connection is owed live messages from now on; a batch waiting now is not for it.
    const channel = this.channels.get(name);
    if (channel !== undefined) this.batches.flush(channel);
    connection.recovering?.delete(name);
    if (connection.recovering?.size === 0) connection.recovering = null;
    let last = sent.offset;
    let delivered = 0;
    for (const publication of held) {
      if (publication.id !== undefined) {
        if (publication.id <= last) continue;
        last = publication.id;
      }
      if (this.delivery.write(connection, this.frameFor(connection, publication), publication.ephemeral))
        delivered++;
    }
    this.delivery.delivered(delivered);
    // History may have given it what this node's live feed has not delivered yet (see live-marks.ts).
    if (channel !== undefined && channel.members.has(connection))
      markIfAhead(channel, connection, { offset: last, epoch: sent.epoch });
  }

  /** Write the missed messages of a recovery, in order (room format frames or v1 `message` pushes). */
  writeMissed(connection: Connection, name: string, messages: readonly StoredMessage[], epoch: string): void {
    for (const m of messages) {
      const publication: Publication = {
        channel: name,
        id: m.offset,
        epoch,
        json: m.json,
        time: m.time,
        ephemeral: false,
      };
      this.delivery.write(connection, this.frameFor(connection, publication), false);
    }
    this.delivery.delivered(messages.length);
  }

  /** Unsubscribe a connection from a channel. */
  unsubscribe(connection: Connection, name: string): Outcome<Record<string, never>> {
    if (!connection.subscriptions.delete(name)) {
      return { ok: false, code: ErrorCode.NotSubscribed, message: `not subscribed to ${name}` };
    }
    connection.recovering?.delete(name);
    this.leave(connection, name);
    return { ok: true, value: {} };
  }

  /** Write the waiting batches of the channels a batching connection is in (the server is closing it). */
  flushFor(connection: Connection): void {
    if (!connection.batch) return;
    for (const name of connection.channels()) {
      const channel = this.channels.get(name);
      if (channel !== undefined) this.batches.flush(channel);
    }
  }

  /** A closing connection leaves every channel. Returns the position each subscription had reached. */
  leaveAll(connection: Connection): Map<string, StreamPosition | null> {
    const positions = new Map<string, StreamPosition | null>();
    for (const [name, start] of connection.subscriptions) {
      positions.set(name, this.reached(this.channels.get(name), start, connection.batch));
      this.leave(connection, name);
    }
    connection.subscriptions.clear();
    connection.recovering = null;
    return positions;
  }

  /**
   * The later of where a subscription started and what this node last delivered on its channel (for a
   * batching connection, not counting the batch still waiting: it was never written to it).
   */
  private reached(
    channel: Channel | undefined,
    start: StreamPosition | null,
    batching: boolean,
  ): StreamPosition | null {
    const batch = batching ? (channel?.batch ?? null) : null;
    const last = batch !== null ? batch.before : (channel?.position ?? null);
    if (start === null) return last;
    if (last === null || last.epoch !== start.epoch || last.offset < start.offset) return start;
    return last;
  }

  private leave(connection: Connection, name: string): void {
    const channel = this.channels.get(name);
    if (channel === undefined || !channel.members.has(connection)) return;
    // Messages published before the leave were owed to it (a closing connection's write is counted as
    // dropped; its session position does not include them, see reached()).
    this.batches.flush(channel);
    if (!channel.members.delete(connection)) return;
    unmark(channel, connection);
    if (connection.batch) channel.batchMembers--;
    if (channel.settings.presence) this.options.presence.left(name, presenceMember(connection));
    if (channel.members.size === 0) {
      this.channels.delete(name);
      this.options.history.release(name);
      this.options.broker.unsubscribe(name).catch((error: unknown) => {
        this.options.logger.warn({ err: error, channel: name }, 'broker unsubscribe failed');
      });
    }
  }

  // ---------------------------------------------------------------- publications

  /** A publication for this node. Checks stream continuity, then fans out. */
  onPublication(publication: Publication): void {
    const channel = this.channels.get(publication.channel);
    if (channel === undefined) return;
    if (channel.filling !== null) {
      channel.filling.push(publication);
      return;
    }
    const { id, epoch } = publication;
    const last = channel.position;
    if (id !== undefined && epoch !== undefined) {
      if (last !== null && last.epoch === epoch && id <= last.offset) return; // delivered already
      if (last !== null && (last.epoch !== epoch || id !== last.offset + 1)) {
        this.continuity.fillGap(channel, last, publication);
        return;
      }
      channel.position = { offset: id, epoch };
    }
    this.fanOut(channel, publication, last);
  }

  private render(publication: Publication): Outbound {
    const { channel, id, json, time } = publication;
    return new Outbound(
      () => renderV1Message(channel, id, json, time),
      () => renderRoomPayload('message', json, id),
      () => renderSseEvent('message', json),
    );
  }

  /** One connection's frame of a publication outside a fan-out (recovered or held back). */
  private frameFor(connection: Connection, publication: Publication): Buffer {
    const outbound = this.render(publication);
    const sse = connection.sse;
    if (sse === null) return outbound.frame(connection.format, connection.encoding);
    return sse.frame(publication, () => outbound.sseBody(), outbound).payload;
  }

  /**
   * Deliver a publication to the channel's members: rendered once per wire format, framed once per
   * transport, then one write per member. Members that read batched frames get it in the channel's
   * batch (see ChannelBatcher: at the end of the event-loop turn, or after the channel's batch delay),
   * unless it must travel alone (an exclusion, or a payload with a raw newline); then the waiting batch
   * goes first, so the channel's order holds. The batch also goes out before anything changes who it is
   * owed to (a join, a release, a leave), so that the members it reaches are exactly those it was owed
   * to. `before` is the channel's position before this publication.
   */
  private fanOut(channel: Channel, publication: Publication, before: StreamPosition | null): void {
    const outbound = this.render(publication);
    const sseBody = (): string => outbound.sseBody();
    const { exclude, ephemeral } = publication;
    // A batch cannot leave out a member that already has this publication: then each gets its own frame.
    const ahead = channel.ahead;
    const batched =
      channel.batchMembers > 0 &&
      exclude === undefined &&
      (ahead === null || !batchingMemberHas(ahead, publication)) &&
      this.batches.enqueue(channel, outbound, ephemeral, before);
    if (!batched) this.batches.flush(channel);
    const name = channel.name;
    const delivery = this.delivery;
    const tally = new DeliveryTally();
    // Untraced publications (all of them while tracing is off) start no span and allocate nothing here.
    const span = publication.traceparent === undefined ? null : this.options.tracing.startFanOut(publication);
    const plain = !channel.settings.compress;
    let recipients = 0;
    for (const connection of channel.members) {
      if (exclude !== undefined && excluded(connection, exclude)) continue;
      if (ahead !== null && alreadyHas(ahead, connection, publication)) continue;
      recipients++;
      if (connection.recovering !== null) {
        const held = connection.recovering.get(name);
        if (held !== undefined) {
          held.push(publication);
          continue;
        }
      }
      if (batched && connection.batch) continue;
      // An SSE stream's event id is its position in every channel it carries (SseCursor).
      const sse = connection.sse;
      const frame =
        sse === null
          ? outbound.prepared(connection.format, connection.encoding)
          : sse.frame(publication, sseBody, outbound);
      // Marked here, not where the frame is built: a frame does not know its channel's rule.
      if (plain) frame.compressible = false;
      delivery.writePrepared(connection, frame, ephemeral, tally);
    }
    delivery.settle(tally);
    if (ahead !== null) settleMarks(channel);
    // Batching members count as written: their frame is queued for the end of the turn (or the delay).
    const written = tally.delivered + (batched ? channel.batchMembers : 0);
    const now = this.options.clock.now();
    channel.activity.record(now, publication.time, written);
    this.activity.record(now, publication.time, written);
    if (span !== null) this.options.tracing.endFanOut(span, recipients);
  }

  /**
   * The broker's delivery was interrupted (Redis reconnect, failover, silent subscription): any channel
   * may have missed publications. Each one is checked against its stream (see StreamContinuity).
   */
  verifyAll(): void {
    for (const channel of this.channels.values()) this.continuity.verify(channel);
  }

  /** Every local subscriber must subscribe again from its own position (it will recover if it can). */
  private forceResubscribe(channel: Channel, reason: string): void {
    for (const connection of [...channel.members]) {
      if (connection.format !== 'v1') {
        // A room client resubscribes by reconnecting with ?last_message_id=N; an SSE stream's
        // EventSource reconnects with its Last-Event-ID.
        this.options.close(connection, CloseCode.ForceReconnect, reason);
        continue;
      }
      connection.subscriptions.delete(channel.name);
      connection.recovering?.delete(channel.name);
      this.leave(connection, channel.name);
      this.delivery.writeFrame(connection, {
        type: 'unsubscribed',
        channel: channel.name,
        resubscribe: true,
        reason,
      });
    }
    channel.position = null;
    channel.ahead = null;
  }
}

function excluded(connection: Connection, exclude: Exclusion): boolean {
  return (
    connection.id === exclude.connectionId ||
    (exclude.userId !== undefined && connection.userId === exclude.userId)
  );
}
