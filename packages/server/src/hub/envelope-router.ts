/**
 * Envelope routing: everything that must reach "wherever the target is" (a user's connections, one
 * connection, everyone, a channel's join/leave notices, disconnects, inbox and queue wake-ups) travels as an Envelope through the
 * broker, and arrives here on the node that holds the target. With the memory broker an envelope loops
 * straight back; with Redis it crosses nodes. One code path for both.
 */
import type { ServerFrame } from '@switchboard/protocol';
import type { Broker, Envelope, Exclusion, HttpFramesEnvelope } from '../broker/broker.js';
import type { PresenceMember } from '../presence/presence-store.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import type { Connection } from './connection.js';
import type { ConnectionRegistry } from './connections.js';
import { DeliveryTally } from './delivery.js';
import type { Closer, Delivery } from './delivery.js';
import { Outbound, renderRoomPayload, renderV1Push } from './outbound.js';
import { renderSseEvent } from './sse-stream.js';

/** What envelope routing needs. */
export interface EnvelopeRouterOptions {
  readonly connections: ConnectionRegistry;
  /** A channel's local members (membership notices go to them). */
  readonly members: (channel: string) => Iterable<Connection>;
  readonly delivery: Delivery;
  readonly close: Closer;
  readonly broker: Broker;
  /** Frames POSTed on another node for one of this node's HTTP connections (the HTTP endpoint's). */
  readonly httpFrames: (envelope: HttpFramesEnvelope) => void;
  /** A user's inbox has new messages (the inbox dispatcher pulls them for the user's open devices). */
  readonly inboxNotified: (userId: string) => void;
  /** A work queue has new jobs (the queue dispatcher claims them for its consumers). */
  readonly queueNotified: (queue: string) => void;
  readonly logger: Logger;
  readonly clock: Clock;
}

/** Sends envelopes out (membership notices) and delivers the ones that arrive to this node's targets. */
export class EnvelopeRouter {
  constructor(private readonly options: EnvelopeRouterOptions) {}

  /** Announce a member's arrival or departure to a channel, on every node. Never throws. */
  announce(event: 'join' | 'leave', channel: string, member: PresenceMember): void {
    const envelope: Envelope = {
      kind: 'membership',
      event,
      channel,
      userId: member.userId,
      time: this.options.clock.now(),
      ...(member.connectionId === undefined ? {} : { connectionId: member.connectionId }),
      ...(member.info === undefined ? {} : { info: member.info }),
    };
    this.options.broker.send(envelope).catch((error: unknown) => {
      this.options.logger.warn({ err: error, channel }, `${event} notice not sent`);
    });
  }

  /** Deliver an envelope to this node's targets. Called by the broker. */
  deliver(envelope: Envelope): void {
    const { connections, close } = this.options;
    switch (envelope.kind) {
      case 'user': {
        const targets = connections.ofUser(envelope.userId);
        if (targets !== undefined)
          this.fanOut(targets, direct('direct', envelope.json, envelope.time), false, envelope.exclude);
        return;
      }
      case 'connection': {
        const connection = connections.get(envelope.connectionId);
        if (connection !== undefined)
          this.fanOut([connection], direct('direct', envelope.json, envelope.time), false);
        return;
      }
      case 'broadcast':
        this.fanOut(
          connections.all(),
          direct('broadcast', envelope.json, envelope.time),
          false,
          envelope.exclude,
        );
        return;
      case 'membership': {
        const frame: ServerFrame = {
          type: envelope.event,
          channel: envelope.channel,
          userId: envelope.userId,
          ...(envelope.connectionId === undefined ? {} : { connectionId: envelope.connectionId }),
          ...(envelope.info === undefined ? {} : { info: envelope.info }),
          time: envelope.time,
        };
        // A member never hears about its own arrival or departure.
        const exclude: Exclusion =
          envelope.userId !== null
            ? { userId: envelope.userId }
            : { connectionId: envelope.connectionId ?? '' };
        this.fanOut(this.options.members(envelope.channel), Outbound.same(frame), true, exclude);
        return;
      }
      case 'disconnect-user':
        for (const connection of connections.listUser(envelope.userId))
          close(connection, envelope.code, envelope.reason);
        return;
      case 'http-frames':
        this.options.httpFrames(envelope);
        return;
      case 'inbox':
        this.options.inboxNotified(envelope.userId);
        return;
      case 'queue':
        this.options.queueNotified(envelope.queue);
        return;
      case 'disconnect-connection': {
        const connection = connections.get(envelope.connectionId);
        if (connection !== undefined) close(connection, envelope.code, envelope.reason);
        return;
      }
    }
  }

  private fanOut(
    targets: Iterable<Connection>,
    outbound: Outbound,
    ephemeral: boolean,
    exclude?: Exclusion,
  ): void {
    const excludeConnection = exclude?.connectionId;
    const excludeUser = exclude?.userId;
    const delivery = this.options.delivery;
    const tally = new DeliveryTally();
    for (const connection of targets) {
      if (connection.id === excludeConnection) continue;
      if (excludeUser !== undefined && connection.userId === excludeUser) continue;
      delivery.writePrepared(
        connection,
        outbound.prepared(connection.format, connection.encoding),
        ephemeral,
        tally,
      );
    }
    delivery.settle(tally);
  }
}

/** A `direct` or `broadcast` push, rendered at most once per wire format. */
function direct(type: 'direct' | 'broadcast', json: string, time: number): Outbound {
  return new Outbound(
    () => renderV1Push(type, json, time),
    () => renderRoomPayload(type, json, undefined),
    () => renderSseEvent(type, json),
  );
}
