/**
 * Batched frames (v1 `?batch=1`): a channel's messages for the members that read several frames per
 * WebSocket message wait in the channel's batch and go out as one message, built once per encoding in
 * use (JSON lines; MessagePack values back to back) and shared by all of them. ChannelRegistry decides
 * what is batched and when the batch must go out early.
 */
import type { StreamPosition } from '@switchboard/protocol';
import { PreparedFrame } from '../transports/transport.js';
import type { Clock } from '../util/clock.js';
import type { Channel } from './channel.js';
import { DeliveryTally } from './delivery.js';
import type { Delivery } from './delivery.js';
import type { Outbound } from './outbound.js';

/**
 * The most messages one batch holds. Past a few hundred messages a batch saves nothing more (the cost
 * is one write per recipient per batch), while the client parses a whole WebSocket message in one go.
 */
export const MAX_BATCH_MESSAGES = 1000;

/**
 * A batch is written as soon as its frames reach this many bytes (the frame that crosses it goes with
 * it). Well under the default 1 MiB outbound buffer limit: a batch alone does not push an idle
 * connection over it, and a waiting channel holds little memory.
 */
export const MAX_BATCH_BYTES = 256 * 1024;

/** The part of the write policy a batch goes through: shared frames, tallied, reported once per batch. */
export type BatchWriter = Pick<Delivery, 'writePrepared' | 'settle'>;

/**
 * Collects each channel's batch and writes it: at the end of the event-loop turn, or, on a channel with
 * a batch delay, that long after its first message; at once when it is full ({@link MAX_BATCH_MESSAGES},
 * {@link MAX_BATCH_BYTES}); and whenever the registry calls {@link flush}.
 */
export class ChannelBatcher {
  /** Channels with a batch waiting for the end of this event-loop turn. */
  private pending: Channel[] = [];
  private flushScheduled = false;
  /** Writes every batch waiting for the turn's end: one setImmediate per turn for all channels. */
  private readonly flushPending = (): void => {
    this.flushScheduled = false;
    const channels = this.pending;
    this.pending = [];
    for (const channel of channels) this.flush(channel);
  };

  constructor(
    private readonly delivery: BatchWriter,
    /** Timers of channels with a batch delay. */
    private readonly clock: Clock,
  ) {}

  /**
   * Add a v1 message to the channel's batch; false when it cannot share a WebSocket message (its JSON
   * holds a raw newline, the batch separator: JSON.stringify never writes one, but a frame must not
   * depend on every path using it). `before` is the channel's position before this message. The batch's
   * size is counted in bytes of JSON (a MessagePack frame is rarely larger).
   */
  enqueue(channel: Channel, outbound: Outbound, ephemeral: boolean, before: StreamPosition | null): boolean {
    const frame = outbound.prepared('v1');
    if (frame.payload.includes(NEWLINE)) return false;
    let batch = channel.batch;
    if (batch === null) {
      batch = channel.batch = { items: [], bytes: 0, before };
      this.schedule(channel);
    }
    batch.items.push({ outbound, ephemeral });
    batch.bytes += frame.payload.length;
    if (batch.items.length >= MAX_BATCH_MESSAGES || batch.bytes >= MAX_BATCH_BYTES) this.flush(channel);
    return true;
  }

  /**
   * Write the channel's waiting batch, if any, to its batching members that are not recovering, as few
   * WebSocket messages as possible: one per run of messages of the same kind (ephemeral ones can be
   * dropped under backpressure, reliable ones cannot), each built once and shared by every member.
   */
  flush(channel: Channel): void {
    const batch = channel.batch;
    if (batch === null) return;
    channel.batch = null;
    // A timer only ever writes the batch it was started for: a batch written early takes its timer along.
    if (channel.batchTimer !== null) {
      channel.batchTimer.cancel();
      channel.batchTimer = null;
    }
    let run: Outbound[] = [];
    let runEphemeral = false;
    for (const item of batch.items) {
      if (run.length > 0 && item.ephemeral !== runEphemeral) {
        this.write(channel, run, runEphemeral);
        run = [];
      }
      runEphemeral = item.ephemeral;
      run.push(item.outbound);
    }
    this.write(channel, run, runEphemeral);
  }

  /**
   * Arrange for a new batch to be written: by the channel's own timer when it has a batch delay (one per
   * waiting batch, not per message or member), else with every other channel's at the end of the turn.
   */
  private schedule(channel: Channel): void {
    const delay = channel.settings.batchDelayMs;
    if (delay > 0) {
      // The system clock's timers are unref'd: a waiting batch never keeps the process alive, and a
      // graceful stop writes every batch itself before closing the connections.
      channel.batchTimer = this.clock.setTimeout(() => this.flush(channel), delay);
      return;
    }
    this.pending.push(channel);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flushPending);
    }
  }

  /** Write a run of messages to the batching members: one WebSocket message, built once per encoding. */
  private write(channel: Channel, messages: readonly Outbound[], ephemeral: boolean): void {
    if (messages.length === 0) return;
    const compressible = channel.settings.compress;
    let json: PreparedFrame | undefined;
    let msgpack: PreparedFrame | undefined;
    const name = channel.name;
    const delivery = this.delivery;
    const tally = new DeliveryTally(messages.length);
    for (const connection of channel.members) {
      if (!connection.batch) continue;
      if (connection.recovering !== null && connection.recovering.has(name)) continue;
      const frame =
        connection.encoding === 'json'
          ? (json ??= join(messages, 'json', compressible))
          : (msgpack ??= join(messages, 'msgpack', compressible));
      delivery.writePrepared(connection, frame, ephemeral, tally);
    }
    delivery.settle(tally);
  }
}

/** The separator of frames batched in one WebSocket message. */
const NEWLINE = 0x0a;

/**
 * One WebSocket message of `messages`: a lone message's own frame; else JSON frames joined by newlines,
 * or MessagePack values back to back (each value says where it ends). `compressible` false (the
 * channel's rule says `compress: false`) marks the frame plain, whichever encoding: a frame does not
 * know its channel's rule.
 */
function join(
  messages: readonly Outbound[],
  encoding: 'json' | 'msgpack',
  compressible: boolean,
): PreparedFrame {
  const frames = messages.map((m) => m.prepared('v1', encoding));
  const first = frames[0];
  if (frames.length === 1 && first !== undefined) {
    if (!compressible) first.compressible = false;
    return first;
  }
  const separated = encoding === 'json';
  let length = separated ? frames.length - 1 : 0;
  for (const frame of frames) length += frame.payload.length;
  const bytes = Buffer.allocUnsafe(length);
  let at = 0;
  for (const frame of frames) {
    if (separated && frame !== first) bytes[at++] = NEWLINE;
    at += frame.payload.copy(bytes, at);
  }
  const joined = new PreparedFrame(bytes, !separated);
  joined.compressible = compressible;
  return joined;
}
