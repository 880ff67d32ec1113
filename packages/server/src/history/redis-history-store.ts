import type { StreamPosition } from '@switchboard/protocol';
import type { HistoryPage, HistoryStore, Recovery, StoredMessage } from './history-store.js';
import type { RedisContext } from '../engine/redis-engine.js';
import { toBackendError } from '../engine/redis-connection.js';
import { candidateEpoch, readScript } from '../engine/redis-scripts.js';

/** Options of {@link RedisHistoryStore}. */
export interface RedisHistoryStoreOptions {
  /**
   * How long the epoch a read creates for a channel never published to lasts without a publish (ms); the
   * broker's `streamTtlMs`. Default 86400000.
   */
  readonly streamTtlMs?: number;
}

/** What the read script answers. */
interface StreamSnapshot {
  readonly position: StreamPosition;
  /** Retained messages after the asked offset, oldest first, expired ones at the start skipped. */
  readonly messages: StoredMessage[];
}

/**
 * Channel streams in Redis Streams (written by the Redis broker's publish script): entry ids are
 * `<offset>-0`, so a read after offset N is an XRANGE from `N+1-0`. Every read is one script that sees the
 * position and the messages at the same instant, and creates the epoch of a channel never published to,
 * so the epoch a subscriber is given before the first publish is the one that publish uses.
 */
export class RedisHistoryStore implements HistoryStore {
  private readonly streamTtlMs: number;

  constructor(
    readonly context: RedisContext,
    options: RedisHistoryStoreOptions = {},
  ) {
    this.streamTtlMs = options.streamTtlMs ?? 86_400_000;
  }

  async position(channel: string): Promise<StreamPosition> {
    return (await this.snapshot(channel, 0, 0)).position;
  }

  async read(
    channel: string,
    query: { readonly since?: number; readonly limit: number },
  ): Promise<HistoryPage> {
    const since = query.since ?? 0;
    const { position, messages } = await this.snapshot(channel, since, query.limit);
    const first = messages[0];
    const complete = since >= position.offset || (first !== undefined && first.offset === since + 1);
    return { position, messages, complete };
  }

  async recover(channel: string, since: StreamPosition, limit: number): Promise<Recovery> {
    const { position, messages } = await this.snapshot(channel, since.offset, limit, since.epoch);
    if (since.epoch !== position.epoch || since.offset > position.offset)
      return { recovered: false, position };
    const missed = position.offset - since.offset;
    if (missed === 0) return { recovered: true, position, messages: [] };
    const first = messages[0];
    if (missed > limit || first?.offset !== since.offset + 1 || messages.length !== missed)
      return { recovered: false, position };
    return { recovered: true, position, messages };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** Position and up to `limit` messages after `since`; none unless the epoch is `epoch` (when given). */
  private async snapshot(
    channel: string,
    since: number,
    limit: number,
    epoch?: string,
  ): Promise<StreamSnapshot> {
    const { client, keys, clock } = this.context;
    let reply: unknown;
    try {
      reply = await readScript.run(
        client,
        [keys.meta(channel), keys.stream(channel)],
        [
          candidateEpoch(),
          this.streamTtlMs,
          Math.max(0, Math.floor(since)),
          Math.max(0, Math.floor(limit)),
          clock.now(),
          epoch ?? '',
          epoch === undefined ? '0' : '1',
        ],
      );
    } catch (error) {
      throw toBackendError(error, 'history read');
    }
    const [streamEpoch, offset, entries] = reply as [string, number, string[]];
    const messages: StoredMessage[] = [];
    for (let i = 0; i + 2 < entries.length; i += 3) {
      messages.push({ offset: Number(entries[i]), time: Number(entries[i + 1]), json: entries[i + 2] ?? '' });
    }
    return { position: { offset: Number(offset), epoch: String(streamEpoch) }, messages };
  }
}
