import { randomBytes } from 'node:crypto';
import type { StreamPosition } from '@switchboard/protocol';
import type { Clock, TimerHandle } from '../util/clock.js';
import { systemClock } from '../util/clock.js';
import type { HistoryPage, HistoryPolicy, HistoryStore, Recovery, StoredMessage } from './history-store.js';

interface Stream {
  readonly epoch: string;
  offset: number;
  /** Retained messages, oldest first; `head` skips trimmed ones without shifting the array each time. */
  messages: StoredMessage[];
  head: number;
  ttlMs: number;
  lastPublishAt: number;
}

/** Options for {@link MemoryHistoryStore}. */
export interface MemoryHistoryStoreOptions {
  readonly clock?: Clock;
  /**
   * How long a stream's position (epoch and offset) outlives its last publish once its messages have
   * expired (ms). Past it the stream is forgotten and the next publish starts a new epoch. Default 86400000.
   */
  readonly streamTtlMs?: number;
  /** How often idle streams are swept (ms). Default 60000. */
  readonly sweepIntervalMs?: number;
}

/**
 * Streams in this process's memory. The epoch is random per stream and per process, so a restart of the
 * in-memory engine changes every epoch and clients learn honestly that their positions are gone.
 */
export class MemoryHistoryStore implements HistoryStore {
  private readonly streams = new Map<string, Stream>();
  private readonly clock: Clock;
  private readonly streamTtlMs: number;
  private readonly sweeper: TimerHandle;

  constructor(options: MemoryHistoryStoreOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.streamTtlMs = options.streamTtlMs ?? 86_400_000;
    this.sweeper = this.clock.setInterval(() => this.sweep(), options.sweepIntervalMs ?? 60_000);
  }

  /** Number of streams held (for stats and tests). */
  get streamCount(): number {
    return this.streams.size;
  }

  /** Assign the next offset and retain the message per `policy`. Synchronous: the memory broker's order is publish order. */
  append(channel: string, json: string, time: number, policy: HistoryPolicy): StreamPosition {
    const stream = this.stream(channel, time);
    stream.offset++;
    stream.lastPublishAt = time;
    stream.ttlMs = policy.ttlMs;
    if (policy.size > 0) {
      stream.messages.push({ offset: stream.offset, json, time });
      this.trim(stream, time, policy.size);
    } else if (stream.messages.length > 0) {
      stream.messages = [];
      stream.head = 0;
    }
    return { offset: stream.offset, epoch: stream.epoch };
  }

  /** The current position, synchronously. */
  positionNow(channel: string): StreamPosition {
    const stream = this.stream(channel, this.clock.now());
    return { offset: stream.offset, epoch: stream.epoch };
  }

  position(channel: string): Promise<StreamPosition> {
    return Promise.resolve(this.positionNow(channel));
  }

  read(channel: string, query: { readonly since?: number; readonly limit: number }): Promise<HistoryPage> {
    const now = this.clock.now();
    const stream = this.stream(channel, now);
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
    const stream = this.stream(channel, now);
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

  close(): Promise<void> {
    this.sweeper.cancel();
    return Promise.resolve();
  }

  private stream(channel: string, now: number): Stream {
    let stream = this.streams.get(channel);
    if (stream === undefined) {
      stream = {
        epoch: randomBytes(6).toString('base64url'),
        offset: 0,
        messages: [],
        head: 0,
        ttlMs: 0,
        lastPublishAt: now,
      };
      this.streams.set(channel, stream);
    }
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

  /** Forget streams with no retained messages whose last publish is older than the stream TTL. */
  private sweep(): void {
    const now = this.clock.now();
    for (const [channel, stream] of this.streams) {
      this.trim(stream, now, Infinity);
      if (stream.head >= stream.messages.length && now - stream.lastPublishAt > this.streamTtlMs) {
        this.streams.delete(channel);
      }
    }
  }
}
