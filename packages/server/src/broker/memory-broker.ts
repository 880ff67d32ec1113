import type { Broker, BrokerHandler, Envelope, Publication, PublicationInput } from './broker.js';
import type { Clock } from '../util/clock.js';
import { systemClock } from '../util/clock.js';
import { ServerNotRunningError } from '../errors.js';
import type { MemoryHistoryStore } from '../history/memory-history-store.js';

/**
 * The single-process broker: offsets come from the memory history store and delivery is a synchronous call into the
 * local hub, so delivery order is publish order by construction.
 */
export class MemoryBroker implements Broker {
  private handler: BrokerHandler | null = null;

  /** @param history the streams this broker appends to (and the history store reads). */
  constructor(
    private readonly history: MemoryHistoryStore,
    private readonly clock: Clock = systemClock,
  ) {}

  start(handler: BrokerHandler): Promise<void> {
    this.handler = handler;
    return Promise.resolve();
  }

  publish(channel: string, input: PublicationInput): Promise<Publication> {
    const handler = this.handler;
    if (handler === null) return Promise.reject(new ServerNotRunningError('broker is not started'));
    const time = this.clock.now();
    const base = { channel, json: input.json, ephemeral: input.ephemeral, time };
    const withExclude = input.exclude === undefined ? base : { ...base, exclude: input.exclude };
    let publication: Publication = withExclude;
    if (!input.ephemeral) {
      const position = this.history.append(channel, input.json, time, input.history);
      publication = { ...withExclude, id: position.offset, epoch: position.epoch };
    }
    try {
      handler.onPublication(publication);
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

  close(): Promise<void> {
    this.handler = null;
    return Promise.resolve();
  }
}
