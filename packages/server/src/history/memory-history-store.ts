import { randomBytes } from 'node:crypto';
import type { StreamPosition } from '@switchboard/protocol';
import type { Clock, TimerHandle } from '../util/clock.js';
import { systemClock } from '../util/clock.js';
import type { HistoryPage, HistoryPolicy, HistoryStore, Recovery, StoredMessage } from './history-store.js';
import { StreamRetention } from './stream-retention.js';
import type { RetainedStream } from './stream-retention.js';

interface Stream extends RetainedStream {
  readonly epoch: string;
  offset: number;
  /** Retained messages, oldest first; `head` skips trimmed ones without shifting the array each time. */
  messages: StoredMessage[];
  head: number;
}

/** Default of {@link MemoryHistoryStoreOptions.streamTtlMs}: the server's default history TTL. */
export const DEFAULT_STREAM_TTL_MS = 300_000;

/** Default of {@link MemoryHistoryStoreOptions.maxIdleStreams}. */
export const DEFAULT_MAX_IDLE_STREAMS = 10_000;

/** Streams a sweep visits per event-loop turn (a few milliseconds of work); it goes on in the next turn. */
const SWEEP_BUDGET = 5000;

/** Options for {@link MemoryHistoryStore}. */
export interface MemoryHistoryStoreOptions {
  readonly clock?: Clock;
  /**
   * How long a stream with no local members and no messages left keeps its position (epoch and offset)
   * after its last use: created (by a read, a subscribe or a publish), published to, or left by its last
   * member (ms). Past it the stream is forgotten and its next use starts a new epoch, so an old position
   * is never recovered wrongly. A stream is never forgotten while it has members or retains a message.
   * Default 300000.
   */
  readonly streamTtlMs?: number;
  /**
   * Idle streams (no members, no messages left) kept at most; past it, the least recently used is
   * forgotten first. Default 10000.
   */
  readonly maxIdleStreams?: number;
  /** How often expired streams are swept (ms). Default: a quarter of `streamTtlMs`, from 250 ms to 15 s. */
  readonly sweepIntervalMs?: number;
}

/**
 * Streams in this process's memory. The epoch is random per stream and per process, so a restart of the
 * in-memory engine changes every epoch and clients learn honestly that their positions are gone. What is
 * kept, and for how long, is {@link StreamRetention}'s: memory is bounded by the streams with members,
 * those with messages left, and at most `maxIdleStreams` idle ones.
 */
export class MemoryHistoryStore implements HistoryStore {
  private readonly streams = new Map<string, Stream>();
  private readonly clock: Clock;
  private readonly retention: StreamRetention<Stream>;
  private readonly sweeper: TimerHandle;
  /** The rest of a sweep that had more to do than one turn's budget. */
  private sweepRest: TimerHandle | null = null;

  constructor(options: MemoryHistoryStoreOptions = {}) {
    this.clock = options.clock ?? systemClock;
    const streamTtlMs = options.streamTtlMs ?? DEFAULT_STREAM_TTL_MS;
    this.retention = new StreamRetention<Stream>(
      streamTtlMs,
      options.maxIdleStreams ?? DEFAULT_MAX_IDLE_STREAMS,
      {
        forget: (stream) => {
          if (this.streams.get(stream.channel) === stream) this.streams.delete(stream.channel);
        },
        idle: (stream) => {
          stream.messages = [];
          stream.head = 0;
        },
      },
    );
    const sweepIntervalMs =
      options.sweepIntervalMs ?? Math.min(15_000, Math.max(250, Math.floor(streamTtlMs / 4)));
    this.sweeper = this.clock.setInterval(() => this.sweep(), sweepIntervalMs);
  }

  /** Channel streams held in memory: with members, with messages left, or idle (for /stats and tests). */
  streamCount(): number {
    return this.streams.size;
  }

  /** Assign the next offset and retain the message per `policy`. Synchronous: the memory broker's order is publish order. */
  append(channel: string, json: string, time: number, policy: HistoryPolicy): StreamPosition {
    const stream = this.stream(channel, time);
    stream.offset++;
    stream.ttlMs = policy.ttlMs;
    if (policy.size > 0) {
      stream.messages.push({ offset: stream.offset, json, time });
      this.trim(stream, time, policy.size);
      stream.retainsUntil = time + policy.ttlMs;
    } else {
      if (stream.messages.length > 0) {
        stream.messages = [];
        stream.head = 0;
      }
      stream.retainsUntil = 0;
    }
    this.retention.touch(stream, time);
    return { offset: stream.offset, epoch: stream.epoch };
  }

  /** The current position, synchronously. */
  positionNow(channel: string): StreamPosition {
    const stream = this.readStream(channel, this.clock.now());
    return { offset: stream.offset, epoch: stream.epoch };
  }

  position(channel: string): Promise<StreamPosition> {
    return Promise.resolve(this.positionNow(channel));
  }

  read(channel: string, query: { readonly since?: number; readonly limit: number }): Promise<HistoryPage> {
    const now = this.clock.now();
    const stream = this.readStream(channel, now);
    this.trim(stream, now, Infinity);
    const retained = this.retained(stream);
    const since = query.since ?? 0;
    const after = retained.filter((m) => m.offset > since).slice(0, query.limit);
    const first = after[0];
    const complete = since >= stream.offset || (first !== undefined && first.offset === since + 1);
    return Promise.resolve({
      position: { offset: stream.offset, epoch: stream.epoch },
      messages: after,
      complete,
    });
  }

  recover(channel: string, since: StreamPosition, limit: number): Promise<Recovery> {
    const now = this.clock.now();
    const stream = this.readStream(channel, now);
    const position = { offset: stream.offset, epoch: stream.epoch };
    if (since.epoch !== stream.epoch || since.offset > stream.offset)
      return Promise.resolve({ recovered: false, position });
    if (since.offset === stream.offset) return Promise.resolve({ recovered: true, position, messages: [] });
    this.trim(stream, now, Infinity);
    const retained = this.retained(stream);
    const first = retained[0];
    const missed = stream.offset - since.offset;
    if (first === undefined || first.offset > since.offset + 1 || missed > limit) {
      return Promise.resolve({ recovered: false, position });
    }
    return Promise.resolve({
      recovered: true,
      position,
      messages: retained.filter((m) => m.offset > since.offset),
    });
  }

  /** Local members: the stream is kept (created if need be) until {@link release}. */
  hold(channel: string): void {
    this.retention.hold(this.stream(channel, this.clock.now()));
  }

  /** No local member any more: the stream's time runs from now. */
  release(channel: string): void {
    const stream = this.streams.get(channel);
    if (stream?.held === true) this.retention.release(stream, this.clock.now());
  }

  close(): Promise<void> {
    this.sweeper.cancel();
    this.sweepRest?.cancel();
    this.sweepRest = null;
    return Promise.resolve();
  }

  private sweep(): void {
    if (this.sweepRest !== null) return; // the last sweep is still going
    if (!this.retention.sweep(this.clock.now(), SWEEP_BUDGET)) return;
    this.sweepRest = this.clock.setTimeout(() => {
      this.sweepRest = null;
      this.sweep();
    }, 0);
  }

  /**
   * The channel's stream, created when it has none (a new epoch at offset 0); one past its time counts as
   * forgotten. The caller then holds it or touches it, so that every stream without members waits in a
   * queue of the retention (a read of a channel nobody uses leaves nothing behind past the stream TTL).
   */
  private stream(channel: string, now: number): Stream {
    let stream = this.streams.get(channel);
    if (stream !== undefined && this.retention.expired(stream, now)) {
      this.retention.remove(stream);
      this.streams.delete(channel);
      stream = undefined;
    }
    if (stream === undefined) {
      stream = {
        channel,
        epoch: randomBytes(6).toString('base64url'),
        offset: 0,
        messages: [],
        head: 0,
        ttlMs: 0,
        usedAt: now,
        retainsUntil: 0,
        held: false,
        queue: null,
      };
      this.streams.set(channel, stream);
    }
    return stream;
  }

  /** The stream a read is about; one it creates is idle from now. */
  private readStream(channel: string, now: number): Stream {
    const stream = this.stream(channel, now);
    if (!stream.held && stream.queue === null) this.retention.touch(stream, now);
    return stream;
  }

  private retained(stream: Stream): StoredMessage[] {
    return stream.head === 0 ? stream.messages : stream.messages.slice(stream.head);
  }

  /** Drop messages past the size or older than the TTL; compact the array once half of it is dead. */
  private trim(stream: Stream, now: number, size: number): void {
    const messages = stream.messages;
    let head = stream.head;
    if (messages.length - head > size) head = messages.length - size;
    const oldest = now - stream.ttlMs;
    while (head < messages.length && (messages[head] as StoredMessage).time < oldest) head++;
    if (head > 32 && head * 2 > messages.length) {
      stream.messages = messages.slice(head);
      head = 0;
    }
    stream.head = head;
  }
}
