/**
 * The broker as the hub sees it when the dashboard is on: the configured broker, with this node always
 * subscribed to its own reserved channels, whether or not a dashboard connection is here. Snapshots on
 * `$admin:nodes` are recorded and still reach the hub (the dashboard connections subscribed here);
 * questions and answers (admin-calls.ts) never do. Everything else passes through unchanged.
 */
import type { Broker, BrokerHandler, Envelope, Publication, PublicationInput } from '../broker/broker.js';
import { ADMIN_NODES_CHANNEL, isReservedChannel } from '../auth/admin-principal.js';
import { ADMIN_CALLS_CHANNEL, adminAnswersChannel } from './admin-calls.js';

/** Where the reserved channels' messages go. */
export interface AdminChannelsHandler {
  /** A snapshot of some node (this one's included) arrived on `$admin:nodes`. */
  snapshot(json: string): void;
  /** A question on `$admin:calls`. */
  question(json: string): void;
  /** An answer on this node's answers channel. */
  answer(json: string): void;
}

/** Ephemeral messages keep no history. */
const NO_HISTORY = { size: 0, ttlMs: 0 } as const;

/** The decorating broker; see the file comment. */
export class AdminBroker implements Broker {
  private readonly answers: string;
  /** The reserved channels this node holds a subscription to from start to close. */
  private readonly own: ReadonlySet<string>;

  constructor(
    private readonly inner: Broker,
    nodeId: string,
    private readonly admin: AdminChannelsHandler,
  ) {
    this.answers = adminAnswersChannel(nodeId);
    this.own = new Set([ADMIN_NODES_CHANNEL, ADMIN_CALLS_CHANNEL, this.answers]);
  }

  async start(handler: BrokerHandler): Promise<void> {
    await this.inner.start({
      onPublication: (publication) => {
        // One prefix test per publication is all an ordinary channel pays.
        if (isReservedChannel(publication.channel)) this.reserved(publication, handler);
        else handler.onPublication(publication);
      },
      onEnvelope: (envelope) => handler.onEnvelope(envelope),
      onReconnected: () => handler.onReconnected(),
    });
    await Promise.all([...this.own].map((channel) => this.inner.subscribe(channel)));
  }

  /** Publish an ephemeral message on a reserved channel (a snapshot, a question, an answer). */
  async publishReserved(channel: string, json: string): Promise<void> {
    await this.inner.publish(channel, { json, ephemeral: true, history: NO_HISTORY });
  }

  publish(channel: string, input: PublicationInput): Promise<Publication> {
    return this.inner.publish(channel, input);
  }

  send(envelope: Envelope): Promise<void> {
    return this.inner.send(envelope);
  }

  subscribe(channel: string): Promise<void> {
    return this.own.has(channel) ? Promise.resolve() : this.inner.subscribe(channel);
  }

  unsubscribe(channel: string): Promise<void> {
    return this.own.has(channel) ? Promise.resolve() : this.inner.unsubscribe(channel);
  }

  watchUser(userId: string): void {
    this.inner.watchUser(userId);
  }

  unwatchUser(userId: string): void {
    this.inner.unwatchUser(userId);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private reserved(publication: Publication, handler: BrokerHandler): void {
    const { channel, json } = publication;
    if (channel === ADMIN_CALLS_CHANNEL) this.admin.question(json);
    else if (channel === this.answers) this.admin.answer(json);
    else {
      if (channel === ADMIN_NODES_CHANNEL) this.admin.snapshot(json);
      handler.onPublication(publication);
    }
  }
}
