import type { Broker, BrokerHandler, Envelope, Publication, PublicationInput } from './broker.js';
import type { Clock } from '../util/clock.js';
import { systemClock } from '../util/clock.js';
import { ServerNotRunningError } from '../errors.js';
import type { MemoryHistoryStore } from '../history/memory-history-store.js';

/** Idempotency keys remembered at most (the oldest is forgotten first); bounds memory under a key flood. */
const MAX_IDEMPOTENCY_KEYS = 100_000;

/**
 * The single-process broker: offsets come from the memory history store and delivery is a synchronous call into the
 * local hub, so delivery order is publish order by construction.
 */
export class MemoryBroker implements Broker {
  private handler: BrokerHandler | null = null;
  /** Publications by `channel \0 idempotencyKey`, oldest first (one TTL for all keeps insertion order = expiry order). */
  private readonly idempotent = new Map<string, { publication: Publication; expiresAt: number }>();

  /**
   * @param history the streams this broker appends to (and the history store reads).
   * @param idempotencyWindowMs how long a publish's idempotency key is remembered (ms). Default 300000.
   */
  constructor(
    private readonly history: MemoryHistoryStore,
    private readonly clock: Clock = systemClock,
    private readonly idempotencyWindowMs = 300_000,
  ) {}

  start(handler: BrokerHandler): Promise<void> {
    this.handler = handler;
    return Promise.resolve();
  }

  publish(channel: string, input: PublicationInput): Promise<Publication> {
    const handler = this.handler;
    if (handler === null) return Promise.reject(new ServerNotRunningError('broker is not started'));
    const time = this.clock.now();
    const key =
      input.ephemeral || input.idempotencyKey === undefined ? null : `${channel}\0${input.idempotencyKey}`;
    if (key !== null) {
      this.forgetExpired(time);
      const seen = this.idempotent.get(key);
      if (seen !== undefined) return Promise.resolve({ ...seen.publication, duplicate: true });
    }
    const base = { channel, json: input.json, ephemeral: input.ephemeral, time };
    const withExclude = input.exclude === undefined ? base : { ...base, exclude: input.exclude };
    let publication: Publication = withExclude;
    if (!input.ephemeral) {
      const position = this.history.append(channel, input.json, time, input.history);
      publication = { ...withExclude, id: position.offset, epoch: position.epoch };
    }
    if (key !== null) {
      if (this.idempotent.size >= MAX_IDEMPOTENCY_KEYS)
        this.idempotent.delete(this.idempotent.keys().next().value as string);
      this.idempotent.set(key, { publication, expiresAt: time + this.idempotencyWindowMs });
    }
    try {
      const { traceparent } = input;
      handler.onPublication(traceparent === undefined ? publication : { ...publication, traceparent });
    } catch (error) {
      return Promise.reject(error as Error);
    }
    return Promise.resolve(publication);
  }

  send(envelope: Envelope): Promise<void> {
    const handler = this.handler;
    if (handler === null) return Promise.reject(new ServerNotRunningError('broker is not started'));
    try {
      handler.onEnvelope(envelope);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    return Promise.resolve();
  }

  subscribe(): Promise<void> {
    return Promise.resolve();
  }

  unsubscribe(): Promise<void> {
    return Promise.resolve();
  }

  watchUser(): void {}

  unwatchUser(): void {}

  private forgetExpired(now: number): void {
    for (const [key, entry] of this.idempotent) {
      if (entry.expiresAt > now) return;
      this.idempotent.delete(key);
    }
  }

  close(): Promise<void> {
    this.handler = null;
    this.idempotent.clear();
    return Promise.resolve();
  }
}
