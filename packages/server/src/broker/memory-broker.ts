import type { Broker, BrokerHandler, Envelope, Publication, PublicationInput } from './broker.js';
import type { Clock } from '../util/clock.js';
import { systemClock } from '../util/clock.js';
import { ServerNotRunningError } from '../errors.js';

/**
 * The single-process broker: offsets are counters in a Map and delivery is a synchronous call into the
 * local hub, so delivery order is publish order by construction.
 */
export class MemoryBroker implements Broker {
  private handler: BrokerHandler | null = null;
  private readonly offsets = new Map<string, number>();

  constructor(private readonly clock: Clock = systemClock) {}

  start(handler: BrokerHandler): Promise<void> {
    this.handler = handler;
    return Promise.resolve();
  }

  publish(channel: string, input: PublicationInput): Promise<Publication> {
    const handler = this.handler;
    if (handler === null) return Promise.reject(new ServerNotRunningError('broker is not started'));
    let publication: Publication;
    const base = { channel, json: input.json, ephemeral: input.ephemeral, time: this.clock.now() };
    const withExclude = input.exclude === undefined ? base : { ...base, exclude: input.exclude };
    if (input.ephemeral) {
      publication = withExclude;
    } else {
      const id = (this.offsets.get(channel) ?? 0) + 1;
      this.offsets.set(channel, id);
      publication = { ...withExclude, id };
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

  lastOffset(channel: string): Promise<number> {
    return Promise.resolve(this.offsets.get(channel) ?? 0);
  }

  close(): Promise<void> {
    this.handler = null;
    return Promise.resolve();
  }
}
