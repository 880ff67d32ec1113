import type { HistoryPolicy } from '../history/history-store.js';
/**
 * The broker seam: how a publish reaches the subscribers of every node, and how targeted sends (a user,
 * a connection, everyone) reach the node that holds the target. The memory broker loops everything back
 * into this process; the Redis broker (a later issue) fans out over Redis pub/sub.
 *
 * Offsets belong to the broker because on several nodes only the shared store can hand out the next one
 * atomically with the publish (one Lua script in Redis).
 */

/** Who must not receive a message: typically the sender. */
export interface Exclusion {
  readonly connectionId?: string;
  readonly userId?: string;
}

/** What a publisher hands to the broker. */
export interface PublicationInput {
  /** The payload, encoded once as JSON by the hub; brokers carry it as it is. */
  readonly json: string;
  /** Ephemeral messages get no offset, skip history and may be dropped under pressure. */
  readonly ephemeral: boolean;
  readonly exclude?: Exclusion;
  /** How much of the channel's history to keep; ignored for ephemeral messages. */
  readonly history: HistoryPolicy;
  /**
   * A publisher-chosen key that makes a retried publish safe: a second publish to the same channel with
   * the same key (within the idempotency window) resolves with the first one's offset and is not
   * delivered again. Ignored for ephemeral messages.
   */
  readonly idempotencyKey?: string;
}

/** A message on its way to a channel's subscribers. */
export interface Publication {
  readonly channel: string;
  /** Sequential per channel, starting at 1; absent on ephemeral messages. */
  readonly id?: number;
  /** The epoch of the channel's stream; absent on ephemeral messages. */
  readonly epoch?: string;
  /** The payload as JSON. */
  readonly json: string;
  readonly ephemeral: boolean;
  /** Server time (ms since the Unix epoch) when the broker accepted it. */
  readonly time: number;
  readonly exclude?: Exclusion;
  /** True when this is the answer to a retried publish (same idempotency key): it was not delivered again. */
  readonly duplicate?: boolean;
}

/** A targeted delivery or command that must reach whichever node holds the target. */
export type Envelope =
  | {
      readonly kind: 'user';
      readonly userId: string;
      readonly json: string;
      readonly time: number;
      readonly exclude?: Exclusion;
    }
  | {
      readonly kind: 'connection';
      readonly connectionId: string;
      readonly json: string;
      readonly time: number;
    }
  | {
      readonly kind: 'broadcast';
      readonly json: string;
      readonly time: number;
      readonly exclude?: Exclusion;
    }
  | {
      readonly kind: 'membership';
      readonly event: 'join' | 'leave';
      readonly channel: string;
      readonly userId: string | null;
      /** Set for anonymous members, whose presence is per connection. */
      readonly connectionId?: string;
      readonly info?: unknown;
      readonly time: number;
    }
  | {
      /** A user's inbox holds new messages: wakes the inbox dispatcher of each node holding the user. */
      readonly kind: 'inbox';
      readonly userId: string;
    }
  | {
      /** A work queue holds new jobs: wakes the queue dispatcher of every node. */
      readonly kind: 'queue';
      readonly queue: string;
    }
  | {
      readonly kind: 'disconnect-user';
      readonly userId: string;
      readonly code: number;
      readonly reason: string;
    }
  | {
      readonly kind: 'disconnect-connection';
      readonly connectionId: string;
      readonly code: number;
      readonly reason: string;
    }
  | HttpFramesEnvelope;

/**
 * Protocol v1 frames POSTed to one node for an HTTP connection (`/v1/sse`, `/v1/poll`) another node holds:
 * routed to that node, which checks the secret and hands them to the connection.
 */
export interface HttpFramesEnvelope {
  readonly kind: 'http-frames';
  /** The HTTP connection's id, `<nodeId>.<random>` (see {@link httpConnectionNode}). */
  readonly connection: string;
  /** The secret the POST presented (checked by the node that holds the connection). */
  readonly secret: string;
  readonly lines: readonly string[];
  /**
   * Absent: frames POSTed. `poll` / `delete`: a `GET /v1/poll/:connection` or `DELETE` that reached
   * another node, run on the owner and answered to `reply`. `answer`: the owner's answer to one; then
   * `connection` is the reply address (`<receivingNodeId>.<requestId>`, routed like a connection id).
   */
  readonly call?: 'poll' | 'delete' | 'answer';
  /** A forwarded poll's cursor. */
  readonly cursor?: number;
  /** Where a forwarded call's answer goes: `<receivingNodeId>.<requestId>`. */
  readonly reply?: string;
  /** An answer's HTTP status and body. */
  readonly status?: number;
  readonly body?: string;
}

/** The node that holds an HTTP connection: its id up to the last '.' ('' when there is none). */
export function httpConnectionNode(connection: string): string {
  const dot = connection.lastIndexOf('.');
  return dot <= 0 ? '' : connection.slice(0, dot);
}

/** Where the broker delivers what reaches this node. */
export interface BrokerHandler {
  onPublication(publication: Publication): void;
  onEnvelope(envelope: Envelope): void;
  /**
   * Delivery to this node was interrupted and is back (a pub/sub reconnect, a failover, a probe that
   * found the subscription silent): publications may have been missed on any channel, so the hub checks
   * every channel's continuity against history.
   */
  onReconnected(): void;
}

/**
 * The broker seam. Implementations must deliver a channel's publications in offset order, and report
 * every failure as a rejected promise, never a synchronous throw.
 */
export interface Broker {
  /** Connect and start delivering to `handler`. */
  start(handler: BrokerHandler): Promise<void>;
  /** Assign the next offset (unless ephemeral) and deliver to every node subscribed to `channel`. */
  publish(channel: string, input: PublicationInput): Promise<Publication>;
  /** Deliver an envelope to the node(s) holding its target. */
  send(envelope: Envelope): Promise<void>;
  /** This node now has local subscribers of `channel`. */
  subscribe(channel: string): Promise<void>;
  /** This node no longer has local subscribers of `channel`. */
  unsubscribe(channel: string): Promise<void>;
  /** This node now holds a connection of `userId`: deliver the user's envelopes here. Never throws. */
  watchUser(userId: string): void;
  /** This node holds no connection of `userId` any more. Never throws. */
  unwatchUser(userId: string): void;
  /** Stop delivering and release resources. */
  close(): Promise<void>;
}

// Beside the broker, not in engine/: the broker's connections and probe decide it; engine/ is a layer above.
/** Whether a shared backend can serve: `/ready` answers 503 with `reason` while it cannot. */
export interface EngineHealth {
  readonly ready: boolean;
  /** Why not, for people (`redis unreachable`, `pub/sub probe timed out`). */
  readonly reason?: string;
  /** Extra detail for /ready and /stats (connection states, last probe round trip). */
  readonly details?: Readonly<Record<string, unknown>>;
}
