import type { StreamPosition } from '@switchboard/protocol';
import type { Cluster } from 'ioredis';
import type { HistoryPage, HistoryStore, Recovery, StoredMessage } from './history-store.js';
import type { RedisContext } from '../redis/redis-context.js';
import { connectionFailed, toBackendError } from '../redis/redis-connection.js';
import { hashSlot } from '../redis/redis-keys.js';
import { candidateEpoch, keepScript, readScript } from '../redis/redis-scripts.js';
import { BackendUnavailableError } from '../errors.js';
import { ConcurrencyLimit } from '../util/concurrency-limit.js';
import type { TimerHandle } from '../util/clock.js';
import type { ConcurrencyRefusal } from '../util/concurrency-limit.js';
import {
  DEFAULT_HISTORY_READ_CONCURRENCY,
  DEFAULT_HISTORY_READ_QUEUE_SIZE,
  DEFAULT_HISTORY_READ_QUEUE_TIMEOUT_MS,
  reportedBound,
} from './history-read-pacing.js';
import type { HistoryReadLimits, HistoryReadLoad, HistoryReadRefusals } from './history-read-pacing.js';

/** Options of {@link RedisHistoryStore}. */
export interface RedisHistoryStoreOptions {
  /**
   * How long a stream with no members on any node and no messages left keeps its position after its last
   * use (ms); the broker's `streamTtlMs`. A read creating a stream gives it this long; the streams of
   * channels with members here are pushed forward every third of it. Default 300000.
   */
  readonly streamTtlMs?: number;
  /** Reads sent to Redis at once by this store; the others wait their turn, in order. Default 128. */
  readonly readConcurrency?: number;
  /** Reads waiting for their turn at once; one more is refused at once (`unavailable`). Default 10000. */
  readonly readQueueSize?: number;
  /** A read that has waited this long for its turn is refused (`unavailable`) (ms). Default 5000. */
  readonly readQueueTimeoutMs?: number;
  /**
   * Redis Cluster: once a read to a master failed on its connection, reads for that master's slots fail at
   * once (`unavailable`) for this long, then one read is let through to try it again (ms). Default 1000.
   */
  readonly unreachableMasterRetryMs?: number;
}

/** Default of {@link RedisHistoryStoreOptions.unreachableMasterRetryMs}. */
export const DEFAULT_UNREACHABLE_MASTER_RETRY_MS = 1000;

/** Default of {@link RedisHistoryStoreOptions.streamTtlMs}: the server's default history TTL. */
export const DEFAULT_REDIS_STREAM_TTL_MS = 300_000;

/** Streams kept alive at once per batch of a keep-alive pass (each one script call). */
const KEEP_BATCH = 256;

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
 *
 * A stream's meta hash expires `streamTtlMs` after its last use (docs/recovery.md, "How long a stream is
 * kept"); while this node holds members of a channel ({@link hold}) it pushes that expiry forward, so a
 * stream is never forgotten under its members on any node.
 *
 * Reads are paced: at most `readConcurrency` are sent to Redis at once, the others wait their turn in
 * order. A subscribe storm (every join reads its channel's position) would otherwise put tens of thousands
 * of commands in the client's queue at once, each with its command timeout running while Redis and the
 * node work through the ones ahead of it, and refuse the last ones with `unavailable` although Redis is
 * fine. A read waiting here has sent nothing, so no timeout runs for it; the wait has its own bounds
 * (`readQueueSize`, `readQueueTimeoutMs`), and when the command connection is lost everything waiting is
 * refused at once, so a Redis that is really down still fails reads fast (docs/scaling.md). On Redis
 * Cluster that takes the whole cluster client being down: one master's lost connection fails only the
 * reads sent to it. ioredis retries such a read for about a second before it fails, so while that master
 * stays unreachable the reads for its slots fail at once without being sent (one is let through every
 * `unreachableMasterRetryMs` to try it again): they would otherwise hold the pacing's slots a second each
 * and starve the reads of the healthy shards.
 */
export class RedisHistoryStore implements HistoryStore {
  private readonly streamTtlMs: number;
  private readonly reads: ConcurrencyLimit;
  /** The bounds `reads` was made with, for {@link readLimits}. */
  private readonly limits: HistoryReadLimits;
  /** Redis Cluster: a connection that fails is one master's, not the whole deployment's. */
  private readonly sharded: boolean;
  /**
   * Position reads not sent to Redis yet, by channel; a position() of the channel until then shares the
   * read instead of adding its own. Sharing is safe because the shared read is sent, and so runs in Redis,
   * after every call that shares it was made: each caller gets the stream as it was at some moment after
   * its call, as with a read of its own, only later. ChannelRegistry.join relies on exactly that: it
   * registers the member (live messages are held for it from then on) and waits for the broker's
   * subscription before it asks, so whatever is published after the position it is given reaches it live
   * (and what it holds at or below the position is dropped on release). A read already sent must never be
   * shared: a join registered after Redis ran it would be given a position older than its registration and
   * miss what was published in between. So an entry leaves this map the moment its read is sent.
   */
  private readonly pendingPositions = new Map<string, Promise<StreamPosition>>();
  /**
   * Redis Cluster: masters (`host:port`, as the client's slot map names them) whose last read failed on its
   * connection, and from when a read may try each again (clock ms). A read that succeeds clears its master.
   */
  private readonly unreachable = new Map<string, number>();
  private readonly unreachableRetryMs: number;
  /** Reads the pacing refused, by reason, for {@link readRefusals}. */
  private readonly refusals: Record<ConcurrencyRefusal['reason'], number> = {
    'queue-full': 0,
    'waited-too-long': 0,
  };
  /** Channels with local members, whose streams this node keeps alive (hold/release). */
  private readonly held = new Set<string>();
  /** Channels whose last local member left, owed one last push of their expiry. */
  private readonly released = new Set<string>();
  private keepTimer: TimerHandle | null = null;
  /** A pass of keep-alives is running (one at a time, in batches). */
  private keeping: Promise<void> | null = null;
  private closed = false;

  constructor(
    readonly context: RedisContext,
    options: RedisHistoryStoreOptions = {},
  ) {
    this.streamTtlMs = options.streamTtlMs ?? DEFAULT_REDIS_STREAM_TTL_MS;
    this.sharded = context.address.topology === 'cluster';
    this.unreachableRetryMs = options.unreachableMasterRetryMs ?? DEFAULT_UNREACHABLE_MASTER_RETRY_MS;
    const concurrency = options.readConcurrency ?? DEFAULT_HISTORY_READ_CONCURRENCY;
    const maxWaiting = options.readQueueSize ?? DEFAULT_HISTORY_READ_QUEUE_SIZE;
    const maxWaitMs = options.readQueueTimeoutMs ?? DEFAULT_HISTORY_READ_QUEUE_TIMEOUT_MS;
    this.limits = Object.freeze({
      concurrency: reportedBound(concurrency),
      queueSize: reportedBound(maxWaiting),
      queueTimeoutMs: reportedBound(maxWaitMs),
    });
    this.reads = new ConcurrencyLimit({
      concurrency,
      maxWaiting,
      maxWaitMs,
      clock: context.clock,
      refuse: (refused) => {
        this.refusals[refused.reason]++;
        return refusal(refused);
      },
    });
  }

  /**
   * The stream's position. Calls for one channel made before their read is sent share it: one Redis call
   * for the members of a room who subscribe together. The read is sent a microtask after the first call at
   * the earliest, so the calls of one tick (joins waiting on the same broker subscription) all share it.
   */
  position(channel: string): Promise<StreamPosition> {
    const pending = this.pendingPositions.get(channel);
    if (pending !== undefined) return pending;
    const read: Promise<StreamPosition> = Promise.resolve()
      .then(() =>
        this.reads.run(() => {
          // Sent now: from here on a new call must read again (see pendingPositions).
          if (this.pendingPositions.get(channel) === read) this.pendingPositions.delete(channel);
          return this.snapshot(channel, 0, 0);
        }),
      )
      .then((snapshot) => snapshot.position);
    this.pendingPositions.set(channel, read);
    // A read refused while it waited was never sent: forget it too.
    const forget = (): void => {
      if (this.pendingPositions.get(channel) === read) this.pendingPositions.delete(channel);
    };
    read.then(forget, forget);
    return read;
  }

  async read(
    channel: string,
    query: { readonly since?: number; readonly limit: number },
  ): Promise<HistoryPage> {
    const since = query.since ?? 0;
    const { position, messages } = await this.reads.run(() => this.snapshot(channel, since, query.limit));
    const first = messages[0];
    const complete = since >= position.offset || (first !== undefined && first.offset === since + 1);
    return { position, messages, complete };
  }

  async recover(channel: string, since: StreamPosition, limit: number): Promise<Recovery> {
    const { position, messages } = await this.reads.run(() =>
      this.snapshot(channel, since.offset, limit, since.epoch),
    );
    if (since.epoch !== position.epoch || since.offset > position.offset)
      return { recovered: false, position };
    const missed = position.offset - since.offset;
    if (missed === 0) return { recovered: true, position, messages: [] };
    const first = messages[0];
    if (missed > limit || first?.offset !== since.offset + 1 || messages.length !== missed)
      return { recovered: false, position };
    return { recovered: true, position, messages };
  }

  /**
   * Local members: keep the stream alive. Nothing is sent now: the subscribe that follows reads the
   * position, and that read pushes the expiry forward for a held channel (so a subscribe storm adds no
   * command); after it, a pass every third of the stream TTL does.
   */
  hold(channel: string): void {
    if (this.closed) return;
    this.held.add(channel);
    this.released.delete(channel);
    this.keepTimer ??= this.context.clock.setInterval(
      () => this.keepAlive([...this.held]),
      // setInterval takes at most 2^31-1 ms (24.8 days).
      Math.min(2 ** 31 - 1, Math.max(1, Math.floor(this.streamTtlMs / 3))),
    );
  }

  /** The last local member left: one last push, so the stream lives the stream TTL from now. */
  release(channel: string): void {
    if (!this.held.delete(channel) || this.closed) return;
    this.released.add(channel);
    // Batched: the leaves of one turn (a mass disconnect) go out together, at most KEEP_BATCH at once.
    if (this.released.size === 1) queueMicrotask(() => this.keepAlive([]));
  }

  /** Reads in flight and waiting, for monitoring. */
  readLoad(): HistoryReadLoad {
    return { running: this.reads.running, waiting: this.reads.waiting };
  }

  /** Reads refused by the pacing since this store was made, for monitoring. */
  readRefusals(): HistoryReadRefusals {
    return { queueFull: this.refusals['queue-full'], waitedTooLong: this.refusals['waited-too-long'] };
  }

  /** The bounds the reads are paced with (`null`: no bound), for monitoring. */
  readLimits(): HistoryReadLimits {
    return this.limits;
  }

  /**
   * Refuse the reads still waiting (`unavailable`); reads already sent are left to finish. Held streams
   * are no longer kept alive: their keys expire within the stream TTL.
   */
  close(): Promise<void> {
    this.closed = true;
    this.keepTimer?.cancel();
    this.keepTimer = null;
    this.held.clear();
    this.released.clear();
    this.reads.rejectWaiting(() => new BackendUnavailableError('history store closed'));
    return Promise.resolve();
  }

  /**
   * Push the expiry of `channels` and of the released ones forward, KEEP_BATCH at a time. One pass at a
   * time: a pass asked for while one runs is skipped (the held ones come round again a third of the TTL
   * later), except the released channels, which the running pass picks up before it ends.
   */
  private keepAlive(channels: readonly string[]): void {
    if (this.keeping !== null || this.closed) return;
    const run = async (): Promise<void> => {
      let pending = [...channels];
      for (;;) {
        if (pending.length === 0) {
          pending = [...this.released];
          this.released.clear();
        }
        if (pending.length === 0 || this.closed) return;
        const batch = pending.splice(0, KEEP_BATCH);
        await Promise.all(batch.map((channel) => this.keep(channel)));
      }
    };
    this.keeping = run().finally(() => {
      this.keeping = null;
      // A release that came as the pass ended, while it still counted as running.
      if (this.released.size > 0) this.keepAlive([]);
    });
  }

  /** One keep-alive; a failure is logged (the next pass tries again; the key has two thirds of its TTL left). */
  private async keep(channel: string): Promise<void> {
    try {
      await keepScript.run(this.context.client, [this.context.keys.meta(channel)], [this.streamTtlMs]);
    } catch (error) {
      this.context.logger.debug({ err: error, channel }, 'stream keep-alive failed');
    }
  }

  /** Redis Cluster: the master serving the channel's keys, as the client's slot map has it (if known). */
  private masterOf(channel: string): string | undefined {
    const slots = (this.context.client as Cluster).slots;
    return slots[hashSlot(this.context.keys.meta(channel))]?.[0];
  }

  /**
   * Throw `unavailable` when `master` was found unreachable and it is not yet time to try it again; when it
   * is, this read tries it, and the reads after it keep failing at once until it has answered.
   */
  private admitTo(master: string, now: number): void {
    const retryAt = this.unreachable.get(master);
    if (retryAt === undefined) return;
    if (now < retryAt) {
      throw new BackendUnavailableError(
        `redis unavailable: history read not sent (the master serving this channel, ${master}, is unreachable)`,
      );
    }
    this.unreachable.set(master, now + this.unreachableRetryMs);
  }

  /** Position and up to `limit` messages after `since`; none unless the epoch is `epoch` (when given). */
  private async snapshot(
    channel: string,
    since: number,
    limit: number,
    epoch?: string,
  ): Promise<StreamSnapshot> {
    const { client, keys, clock } = this.context;
    const master = this.sharded ? this.masterOf(channel) : undefined;
    const sentAt = clock.now();
    if (master !== undefined) this.admitTo(master, sentAt);
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
          this.held.has(channel) ? '1' : '0',
        ],
      );
    } catch (error) {
      const failure = toBackendError(error, 'history read');
      // The command connection is gone (Redis down, or the broker reopening a stalled link): every read
      // that waits would fail the same way once sent, so refuse them now rather than one slot at a time.
      // This runs before the limiter frees this read's slot, so no waiting read is sent to a dead link.
      // (A timeout or an error reply says nothing about the reads behind it: they keep their turn.)
      // A Cluster client holds a connection per master, and one failing says nothing of the others: the
      // reads waiting for healthy shards would succeed. So there only the cluster client itself not being
      // ready (every master's connection gone, the client reconnecting) refuses them; a read sent to a
      // dead master fails alone, and the reads behind it keep their turn (each fails on its own if its
      // shard is the dead one too).
      const linkLost = this.sharded
        ? client.status !== 'ready'
        : connectionFailed(error) || client.status !== 'ready';
      // One master unreachable while the cluster client is up: its next reads fail unsent (admitTo). With
      // the whole client down every read is refused anyway, and no mark may outlive that outage.
      if (master !== undefined && failure instanceof BackendUnavailableError && connectionFailed(error)) {
        if (client.status === 'ready') this.unreachable.set(master, clock.now() + this.unreachableRetryMs);
        else this.unreachable.clear();
      }
      if (failure instanceof BackendUnavailableError && linkLost) {
        const why = `redis unavailable: history read not sent (the command connection failed: ${message(error)})`;
        this.reads.rejectWaiting(() => new BackendUnavailableError(why, { cause: failure }));
      }
      throw failure;
    }
    // Reachable again; unless a read sent later has found it unreachable since (the mark is newer).
    const retryAt = master === undefined ? undefined : this.unreachable.get(master);
    if (master !== undefined && retryAt !== undefined && retryAt - this.unreachableRetryMs <= sentAt)
      this.unreachable.delete(master);
    const [streamEpoch, offset, entries] = reply as [string, number, string[]];
    const messages: StoredMessage[] = [];
    for (let i = 0; i + 2 < entries.length; i += 3) {
      messages.push({ offset: Number(entries[i]), time: Number(entries[i + 1]), json: entries[i + 2] ?? '' });
    }
    return { position: { offset: Number(offset), epoch: String(streamEpoch) }, messages };
  }
}

/** The error of a read the pacing refused without sending it. */
function refusal(refused: ConcurrencyRefusal): Error {
  return new BackendUnavailableError(
    refused.reason === 'queue-full'
      ? `redis busy: history read refused (${refused.waiting} reads already waiting)`
      : `redis busy: history read refused after waiting ${refused.waitedMs} ms for its turn`,
  );
}

/** What a failed call said, for an error message. */
function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
