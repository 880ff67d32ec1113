/**
 * The connections of this node: by id, by user, and those whose transport has not reported its close yet.
 * Only bookkeeping: the connection lifecycle (lifecycle.ts) decides when a connection is added and removed.
 */
import type { Broker } from '../broker/broker.js';
import type { Principal } from '../auth/authenticator.js';
import type { TransportSocket } from '../transports/transport.js';
import type { Clock } from '../util/clock.js';
import { Connection } from './connection.js';
import type { WireFormat } from './outbound.js';
import { UserIndex } from './user-index.js';

/** Open connections, their users, and the ones still waiting for their transport's close. */
export class ConnectionRegistry {
  private readonly byId = new Map<string, Connection>();
  private readonly users = new UserIndex<Connection>();
  /** Connections whose transport has not reported its close yet (including ones we are closing). */
  private readonly live = new Set<Connection>();
  private counter = 0;
  private drained: (() => void) | null = null;

  constructor(
    /** This node's id: the prefix of every connection id, so an id names the node that holds it. */
    private readonly nodeId: string,
    /** Told when a user gets its first connection here and loses its last (routes user sends here). */
    private readonly broker: Pick<Broker, 'watchUser' | 'unwatchUser'>,
    private readonly clock: Clock,
  ) {}

  /** Open connections. */
  get size(): number {
    return this.byId.size;
  }

  /** Distinct users with an open connection. */
  get userCount(): number {
    return this.users.size;
  }

  /** A new connection id, for a connection about to open (its handshake's checks want to name it). */
  reserveId(): string {
    return `${this.nodeId}-${(++this.counter).toString(36)}`;
  }

  /**
   * Register a new connection (its user is indexed once known: {@link identify}), under `id` when one was
   * reserved for it.
   */
  open(
    socket: TransportSocket,
    principal: Principal,
    format: WireFormat,
    remoteAddress: string,
    now: number,
    id = this.reserveId(),
  ): Connection {
    const connection = new Connection(
      id,
      principal.userId,
      format,
      socket,
      remoteAddress,
      now,
      principal.info,
    );
    this.byId.set(id, connection);
    this.live.add(connection);
    return connection;
  }

  /** Index the connection under its user, now that the user is known. */
  identify(connection: Connection): void {
    if (connection.userId !== null && this.users.add(connection.userId, connection))
      this.broker.watchUser(connection.userId);
  }

  /** Forget an open connection (it is closing): no lookup finds it from now on. */
  remove(connection: Connection): void {
    this.byId.delete(connection.id);
    if (connection.userId !== null && this.users.delete(connection.userId, connection))
      this.broker.unwatchUser(connection.userId);
  }

  /** The transport reported the connection's close: it is gone for good. */
  closed(connection: Connection): void {
    this.live.delete(connection);
    if (this.live.size === 0) this.drained?.();
  }

  /** An open connection by id. */
  get(id: string): Connection | undefined {
    return this.byId.get(id);
  }

  /** A user's open connections, live (not a copy); undefined when none. */
  ofUser(userId: string): Iterable<Connection> | undefined {
    return this.users.get(userId);
  }

  /** A copy of a user's open connections (to close them, or to hand them out). */
  listUser(userId: string): Connection[] {
    return this.users.list(userId);
  }

  /** How many connections a user holds here. */
  userConnections(userId: string): number {
    return this.users.count(userId);
  }

  /** Every open connection, live (not a copy). */
  all(): IterableIterator<Connection> {
    return this.byId.values();
  }

  /**
   * Wait until every transport has reported its close, at most `timeoutMs`; then drop whatever is left
   * without a close handshake.
   */
  async drain(timeoutMs: number): Promise<void> {
    if (this.live.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = this.clock.setTimeout(resolve, timeoutMs);
        this.drained = () => {
          timer.cancel();
          resolve();
        };
      });
    }
    for (const connection of [...this.live]) connection.socket.terminate();
    this.drained = null;
  }
}
