/**
 * Everything that enters the hub to be delivered: channel publications and envelopes to users,
 * connections and everyone. Payloads are validated and encoded here, once, before the broker takes them.
 */
import { ErrorCode, encodeData } from '@switchboard/protocol';
import type { Broker, Envelope, Exclusion, Publication, PublicationInput } from '../broker/broker.js';
import type { Metrics } from '../metrics/metrics.js';
import { InvalidArgumentError } from '../errors.js';
import type { ChannelSettings } from './channel.js';
import type { HubCounters } from './hub-stats.js';
import type { Tracing } from '../tracing/tracing.js';

/** The longest idempotency key a publish may carry. */
export const MAX_IDEMPOTENCY_KEY = 128;

/** What publishing needs. */
export interface PublisherOptions {
  readonly broker: Broker;
  /** A channel's settings (its history policy travels with each publication). */
  readonly settings: (channel: string) => ChannelSettings;
  readonly counters: HubCounters;
  readonly metrics: Metrics;
  /** The publish span (a child of the active context: the HTTP API request's, or the caller's). */
  readonly tracing: Tracing;
}

/** Publishes to channels and sends envelopes, on every node, through the broker. */
export class Publisher {
  constructor(private readonly options: PublisherOptions) {}

  /**
   * Publish to a channel on every node; resolves with the publication (its `id` is the offset). The
   * payload is validated and encoded before an offset is taken, so a payload that cannot be delivered
   * never leaves a gap in the channel's ids.
   */
  publish(
    channel: string,
    data: unknown,
    ephemeral: boolean,
    exclude?: Exclusion,
    idempotencyKey?: string,
  ): Promise<Publication> {
    if (
      idempotencyKey !== undefined &&
      (typeof idempotencyKey !== 'string' ||
        idempotencyKey.length === 0 ||
        idempotencyKey.length > MAX_IDEMPOTENCY_KEY)
    ) {
      const message = `idempotencyKey must be a string of 1 to ${MAX_IDEMPOTENCY_KEY} characters`;
      return Promise.reject(new InvalidArgumentError(ErrorCode.BadRequest, message));
    }
    const encoded = encodeData(data);
    if (!encoded.ok) return Promise.reject(new InvalidArgumentError(ErrorCode.BadRequest, encoded.message));
    this.options.counters.messagesPublished++;
    this.options.metrics.messagePublished('channel');
    const input: PublicationInput = {
      json: encoded.json,
      ephemeral,
      history: this.options.settings(channel).history,
      ...(exclude === undefined ? {} : { exclude }),
      ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
    };
    const { tracing, broker } = this.options;
    const span = tracing.startPublish(channel, ephemeral);
    if (span === null) return broker.publish(channel, input);
    return broker.publish(channel, { ...input, traceparent: tracing.traceparentOf(span) }).then(
      (publication) => {
        tracing.endPublish(span, publication);
        return publication;
      },
      (error: unknown) => {
        tracing.endPublish(span, error instanceof Error ? error : new Error(String(error)));
        throw error;
      },
    );
  }

  /** Encode a payload for a targeted send; throws {@link InvalidArgumentError} when it cannot be delivered. */
  encode(data: unknown): string {
    const encoded = encodeData(data);
    if (!encoded.ok) throw new InvalidArgumentError(ErrorCode.BadRequest, encoded.message);
    return encoded.json;
  }

  /** Route an envelope through the broker to whichever node holds its target. */
  send(envelope: Envelope): Promise<void> {
    if (envelope.kind === 'user' || envelope.kind === 'connection' || envelope.kind === 'broadcast') {
      this.options.counters.messagesPublished++;
      this.options.metrics.messagePublished(envelope.kind);
    }
    return this.options.broker.send(envelope);
  }
}
