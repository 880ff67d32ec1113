import {
  CloseCode,
  ErrorCode,
  decodeCommand,
  encodeData,
  encodeServerFrame,
  errorPayload,
  isErrorCode,
} from '@switchboard/protocol';
import type { RestoredSubscription, ServerFrame, StreamPosition } from '@switchboard/protocol';
import type {
  Broker,
  BrokerHandler,
  Envelope,
  Exclusion,
  Publication,
  PublicationInput,
} from '../broker/broker.js';
import type { HistoryPage, HistoryStore } from '../history/history-store.js';
import type { PresenceMember, PresenceStore } from '../presence/presence-store.js';
import type { SessionSnapshot, SessionStore } from '../sessions/session-store.js';
import type { DropReason, Metrics } from '../metrics/metrics.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import type { ResolvedLimits } from '../limits/resolved-limits.js';
import type { ChannelRule } from './channel.js';
import type { ServerHooks } from './hooks.js';
import type { Authenticator, Principal } from '../auth/authenticator.js';
import type { Authorizer } from '../auth/authorizer.js';
import type { ConnectionHandle, PreparedFrame, TransportSocket } from '../transports/transport.js';
import { TokenBucket } from '../limits/token-bucket.js';
import { RateLimiter, rateLimited } from '../limits/rate-limiter.js';
import type { ConnectionLimits } from '../limits/connection-limits.js';
import { BackendUnavailableError, InvalidArgumentError, ServerNotRunningError } from '../errors.js';
import { Connection, NO_STRINGS } from './connection.js';
import type { ConnectionInfo } from './connection.js';
import { HeartbeatScheduler } from './heartbeat-scheduler.js';
import {
  Delivery,
  Outbound,
  PING_PREPARED,
  renderRoomPayload,
  renderSubscribeReply,
  renderV1Push,
} from './outbound.js';
import type { WireFormat } from './outbound.js';
import { SessionRegistry } from './session-registry.js';
import { UserIndex } from './user-index.js';
import { AuthClock } from './auth-clock.js';
import { PresenceTracker } from './presence-tracker.js';
import { ChannelRegistry } from './channel-registry.js';
import type { Joined, Outcome } from './channel-registry.js';
import type { HubCounters, HubStats } from './hub-stats.js';
import { handleV1Frame } from './v1-handler.js';
import { handleRoomFrame } from './room-handler.js';

export type { Outcome } from './channel-registry.js';
export type { HubStats, ChannelStats, HubCounters } from './hub-stats.js';

/** Closes after which the peer is presumed dead or stuck, so the close handshake gets only a short linger. */
const LINGER_CODES: ReadonlySet<number> = new Set([CloseCode.HeartbeatTimeout, CloseCode.SlowConsumer]);

/**
 * Errors that mean the client sent something malformed. Only these spend the error budget: a client whose
 * requests are merely refused (by the application, a limit, a missing subscription) is not a broken client
 * and must not be closed with a terminal code.
 */
const BUDGETED_ERRORS: ReadonlySet<ErrorCode> = new Set([
  ErrorCode.InvalidJson,
  ErrorCode.InvalidFrame,
  ErrorCode.UnknownCommand,
  ErrorCode.BadRequest,
  ErrorCode.InvalidChannel,
]);

/** The outbound hard limit is this multiple of the soft limit: past it, even reliable messages cannot wait. */
export const HARD_BUFFER_FACTOR = 4;

/** How long a connection we closed for being dead or slow may linger before it is destroyed (ms). */
const CLOSE_LINGER_MS = 1000;

/** The most channels /stats lists (largest first). */
const STATS_CHANNEL_LIMIT = 1000;

/** Everything the hub needs, passed in by the server. */
export interface HubOptions {
  readonly nodeId: string;
  readonly limits: ResolvedLimits;
  readonly channelRules: readonly ChannelRule[];
  readonly hooks: ServerHooks;
  readonly broker: Broker;
  readonly history: HistoryStore;
  readonly presence: PresenceStore;
  /** Where away sessions wait when every node must be able to resume them (the Redis engine). */
  readonly sessionStore?: SessionStore;
  readonly authenticator: Authenticator;
  readonly authorizer: Authorizer;
  /** Open-connection counts per address and per node; the hub reports opens and closes. */
  readonly connectionLimits: ConnectionLimits;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly clock: Clock;
}

/** The hub's side of every connection's {@link HubConnectionHandle}. */
interface HandleTarget {
  text(connection: Connection, text: string): void;
  unsupported(connection: Connection): void;
  transportPong(connection: Connection): void;
  closed(connection: Connection, code: number, reason: string): void;
}

/**
 * What the transport reports one connection's events to: two fields and prototype methods. (An object of
 * four closures, with the context they share, cost ~330 bytes per connection.)
 */
class HubConnectionHandle implements ConnectionHandle {
  constructor(
    private readonly target: HandleTarget,
    private readonly connection: Connection,
  ) {}
  receiveText(text: string): void {
    this.target.text(this.connection, text);
  }
  receiveUnsupported(): void {
    this.target.unsupported(this.connection);
  }
  receiveTransportPong(): void {
    this.target.transportPong(this.connection);
  }
  closed(code: number, reason: string): void {
    this.target.closed(this.connection, code, reason);
  }
}

/** How a transport asks the hub to set a new connection up. */
export interface AcceptOptions {
  /** v1: resume this session if it is still within its grace period. */
  readonly sessionId?: string;
  /** Room format: the channel to join. */
  readonly room?: string;
  /** Room format: replay every message after this id (`?last_message_id=N`). */
  readonly lastMessageId?: number;
  /** Room format: the epoch `lastMessageId` belongs to (`?epoch=`), when the client knows it. */
  readonly epoch?: string;
  /** The handshake had no credentials: the first frame must be `{"type":"auth","token":...}`. */
  readonly pendingAuth?: boolean;
  /** v1: the client reads several frames per WebSocket message, separated by newlines (`?batch=1`). */
  readonly batch?: boolean;
}

/**
 * The hub: which connections exist, which users and sessions they belong to, and how a message reaches
 * them. Single-threaded by design: every registry change and every fan-out runs to completion without an
 * await in between, so a fan-out never sees a half-registered connection.
 */
export class Hub implements BrokerHandler {
  readonly counters: HubCounters = {
    framesReceived: 0,
    messagesPublished: 0,
    messagesDelivered: 0,
    messagesDropped: 0,
    errors: 0,
    connectionsAccepted: 0,
    recoveries: 0,
    recoveryFailures: 0,
    sessionsResumed: 0,
    streamResets: 0,
  };
  private readonly connections = new Map<string, Connection>();
  private readonly users = new UserIndex<Connection>();
  /** Connections whose transport has not reported its close yet (including ones we are closing). */
  private readonly live = new Set<Connection>();
  private readonly scheduler: HeartbeatScheduler<Connection>;
  private readonly sessions: SessionRegistry<Connection>;
  private readonly authClock: AuthClock<Connection>;
  /** Accept options of connections waiting for first-message authentication. */
  private readonly pendingSetup = new WeakMap<Connection, AcceptOptions>();
  private readonly presence: PresenceTracker;
  private readonly channels: ChannelRegistry;
  private readonly limits: ResolvedLimits;
  private readonly hardBufferLimit: number;
  private readonly halfInterval: number;
  /** Whether inbound frames are rate limited at all (decided once: the limits never change). */
  private readonly rateLimits: boolean;
  private connectionCounter = 0;
  private drained: (() => void) | null = null;
  /** What every connection's handle reports to: one set of closures per hub, none per connection. */
  private readonly handleTarget: HandleTarget = {
    text: (connection, text) => this.receiveText(connection, text),
    unsupported: (connection) =>
      this.close(connection, CloseCode.UnsupportedData, 'binary frames are not supported'),
    transportPong: (connection) => {
      connection.lastReceived = this.options.clock.now();
    },
    closed: (connection, code, reason) => this.transportClosed(connection, code, reason),
  };

  constructor(private readonly options: HubOptions) {
    this.limits = options.limits;
    this.hardBufferLimit = options.limits.maxBufferedBytes * HARD_BUFFER_FACTOR;
    this.halfInterval = options.limits.heartbeatIntervalMs / 2;
    this.rateLimits = rateLimited(options.limits);
    this.scheduler = new HeartbeatScheduler<Connection>({
      intervalMs: options.limits.heartbeatIntervalMs,
      clock: options.clock,
      visit: (connection, now) => this.visit(connection, now),
      onTick: (visited, durationMs) => options.metrics.heartbeatTick(visited, durationMs),
    });
    this.sessions = new SessionRegistry(
      options.limits.sessionGraceMs,
      options.clock,
      options.sessionStore !== undefined,
    );
    this.authClock = new AuthClock<Connection>(
      options.clock,
      options.limits.tokenExpiryGraceMs,
      (connection, kind) => {
        if (kind === 'auth') this.close(connection, CloseCode.HandshakeTimeout, 'no auth message in time');
        else this.close(connection, CloseCode.TokenExpired, 'token expired');
      },
    );
    const announce = (event: 'join' | 'leave', channel: string, member: PresenceMember): void => {
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
    };
    this.presence = new PresenceTracker(
      options.presence,
      options.limits.presenceGraceMs,
      options.clock,
      announce,
      options.logger,
    );
    // A crashed node's members, expired by the store, leave like anyone else.
    options.presence.onExpired?.((channel, member) => announce('leave', channel, member));
    this.channels = new ChannelRegistry(
      {
        limits: this.limits,
        counters: this.counters,
        logger: options.logger,
        write: (connection, frame, ephemeral) => this.write(connection, frame, ephemeral),
        writePrepared: (connection, frame, ephemeral, tally) =>
          this.writePrepared(connection, frame, ephemeral, tally),
        settle: (tally) => this.settle(tally),
        writeFrame: (connection, frame) => this.writeFrame(connection, frame),
        close: (connection, code, reason) => this.close(connection, code, reason),
        streamReset: () => this.options.metrics.streamReset(),
        clock: options.clock,
        delivered: (count) => this.delivered(count),
      },
      options.channelRules,
      options.broker,
      options.history,
      options.presence,
      this.presence,
    );
    options.metrics.setGaugeSource(() => ({
      connections: this.connections.size,
      users: this.users.size,
      channels: this.channels.size,
    }));
  }

  /** The resolved limits, for handlers. */
  get settings(): ResolvedLimits {
    return this.limits;
  }

  /** The application's hooks, for handlers. */
  get hooks(): ServerHooks {
    return this.options.hooks;
  }

  /** Channel authorization, for handlers. */
  get authorizer(): Authorizer {
    return this.options.authorizer;
  }

  /** The logger, for handlers. */
  get logger(): Logger {
    return this.options.logger;
  }

  /** Start the broker, the heartbeat and the grace-period sweepers. */
  async start(): Promise<void> {
    await this.options.broker.start(this);
    this.scheduler.start();
    this.sessions.start();
    this.presence.start();
    this.authClock.start();
  }

  // ---------------------------------------------------------------- connections

  /** Register a connection the transport has opened. Returns the handle the transport reports to. */
  accept(
    socket: TransportSocket,
    principal: Principal,
    format: WireFormat,
    remoteAddress: string,
    options: AcceptOptions = {},
  ): ConnectionHandle {
    const now = this.options.clock.now();
    const id = `${this.options.nodeId}-${(++this.connectionCounter).toString(36)}`;
    const connection = new Connection(
      id,
      principal.userId,
      format,
      socket,
      remoteAddress,
      now,
      principal.info,
    );
    connection.batch = format === 'v1' && options.batch === true;
    this.connections.set(id, connection);
    this.live.add(connection);
    this.scheduler.add(connection);
    this.counters.connectionsAccepted++;
    this.options.metrics.connectionOpened(socket.kind);
    this.options.connectionLimits.opened(remoteAddress);
    if (options.pendingAuth === true) {
      // Nothing but an `auth` frame is accepted until the deadline; the session, the room and the
      // `connected` push wait for the identity.
      connection.session = this.sessions.transient(null, connection);
      connection.authDeadline = now + this.limits.authTimeoutMs;
      this.authClock.watch(connection);
      this.pendingSetup.set(connection, options);
    } else {
      this.setUp(connection, principal, options);
    }
    return new HubConnectionHandle(this.handleTarget, connection);
  }

  /** Give an authenticated connection its identity, session and room, and tell the application. */
  private setUp(connection: Connection, principal: Principal, options: AcceptOptions): void {
    connection.userId = principal.userId;
    connection.info = principal.info;
    this.setCredentials(connection, principal);
    const claimed =
      connection.format === 'v1' && options.sessionId !== undefined
        ? this.sessions.claim(options.sessionId, principal.userId, connection)
        : null;
    let restore: ReadonlyMap<string, StreamPosition | null> | null = null;
    let lookupShared = false;
    if (claimed !== null) {
      connection.session = claimed.record;
      restore = claimed.record.channels;
      if (claimed.previous !== null) {
        // The newer connection wins. Take over what the old one was subscribed to, then close it: its own
        // cleanup cannot release the session any more (the registry checks who holds it).
        restore = this.channels.leaveAll(claimed.previous);
        this.close(claimed.previous, CloseCode.Replaced, 'replaced by a newer connection');
      }
      this.counters.sessionsResumed++;
    } else if (connection.format === 'v1') {
      connection.session = this.sessions.create(principal.userId, connection);
      if (options.sessionId !== undefined && this.options.sessionStore !== undefined) {
        // Away sessions wait in the shared store: it may have been held on another node.
        lookupShared = true;
      }
    } else {
      connection.session = this.sessions.transient(principal.userId, connection);
    }
    if (connection.userId !== null && this.users.add(connection.userId, connection))
      this.options.broker.watchUser(connection.userId);
    if (connection.format === 'v1') {
      if (lookupShared) void this.resumeShared(connection, options.sessionId ?? '');
      else if (restore === null)
        this.writeFrame(connection, this.connectedFrame(connection, this.options.clock.now()));
      else void this.resume(connection, restore);
    } else if (options.room !== undefined) {
      connection.room = options.room;
      void this.joinRoom(connection, options.room, options);
    }
    // A session resumed from the shared store brings its state: the hook runs once it is known.
    if (!lookupShared && this.options.hooks.onConnect !== undefined)
      this.runHook('onConnect', () => this.options.hooks.onConnect?.(connection));
  }

  /** Record when the connection's credentials expire, and watch for it. */
  private setCredentials(connection: Connection, principal: Principal): void {
    this.authClock.unwatch(connection);
    connection.authDeadline = 0;
    connection.expiresAt = principal.expiresAt ?? 0;
    connection.scopes = principal.scopes ?? NO_STRINGS;
    connection.grants = principal.channels ?? NO_STRINGS;
    this.authClock.watch(connection);
  }

  /**
   * `auth` (first-message authentication) and `refresh` (new credentials before expiry, same user).
   * A failed first-message `auth` closes with 4504; a failed `refresh` is an error reply and the old
   * credentials keep their expiry.
   */
  authCommand(connection: Connection, type: 'auth' | 'refresh', token: string, id: number | undefined): void {
    const verify = this.options.authenticator.verifyToken?.bind(this.options.authenticator);
    if (verify === undefined) {
      this.clientError(
        connection,
        ErrorCode.NotAvailable,
        `${type} is not available: this server does not verify tokens`,
        id,
      );
      if (connection.authDeadline !== 0)
        this.close(connection, CloseCode.Unauthorized, 'authentication is not available');
      return;
    }
    const pending = connection.authDeadline !== 0;
    if (type === 'auth' && !pending) {
      this.clientError(
        connection,
        ErrorCode.BadRequest,
        'already authenticated; use refresh to renew credentials',
        id,
      );
      return;
    }
    if (type === 'refresh' && pending) {
      this.refuseUnauthenticated(connection, id);
      return;
    }
    verify(token).then(
      (outcome) => {
        if (connection.state !== 'open') return;
        if (!outcome.ok) {
          this.clientError(connection, outcome.code, outcome.message, id);
          if (pending) this.close(connection, CloseCode.Unauthorized, outcome.message);
          return;
        }
        const principal = outcome.principal;
        if (type === 'refresh' && principal.userId !== connection.userId) {
          this.clientError(connection, ErrorCode.PermissionDenied, 'refresh must be for the same user', id);
          return;
        }
        // A handshake with credentials is held to the per-user cap before its upgrade (HTTP 429); this
        // connection learns its user only now, so the same cap is a close.
        if (type === 'auth' && principal.userId !== null && this.userAtLimit(principal.userId)) {
          this.options.metrics.limitRejected('user_connections');
          this.clientError(connection, ErrorCode.RateLimited, 'too many open connections for this user', id);
          this.close(connection, CloseCode.ConnectionLimit, 'too many open connections for this user');
          return;
        }
        if (id !== undefined) {
          this.reply(connection, id, { userId: principal.userId, expiresAt: principal.expiresAt ?? null });
        }
        if (type === 'refresh') {
          connection.info = principal.info;
          this.setCredentials(connection, principal);
          return;
        }
        const options = this.pendingSetup.get(connection) ?? {};
        this.pendingSetup.delete(connection);
        this.setUp(connection, principal, options);
      },
      (error: unknown) => {
        this.failed(connection, id, error);
        // The credentials were not refused, the check could not run (an identity provider outage): 1011
        // tells the client to retry, instead of waiting out the deadline for a terminal 4506.
        if (pending) this.close(connection, CloseCode.InternalError, 'authentication is unavailable; retry');
      },
    );
  }

  private refuseUnauthenticated(connection: Connection, id: number | undefined): void {
    this.clientError(
      connection,
      ErrorCode.Unauthorized,
      'the first message must be {"type":"auth","token":...}',
      id,
    );
    this.close(connection, CloseCode.Unauthorized, 'authentication required');
  }

  private connectedFrame(
    connection: Connection,
    time: number,
    restored?: readonly RestoredSubscription[],
  ): ServerFrame {
    return {
      type: 'connected',
      version: 1,
      connectionId: connection.id,
      sessionId: connection.sessionId,
      userId: connection.userId,
      heartbeat: { interval: this.limits.heartbeatIntervalMs, timeout: this.limits.heartbeatTimeoutMs },
      time,
      ...(restored === undefined ? {} : { resumed: true, subscriptions: restored }),
    };
  }

  /**
   * Restore a resumed session's subscriptions, recovering each from where it was. Everything else sent to
   * the connection meanwhile is held so that `connected` stays the first frame.
   */
  /**
   * Resume a session from the shared store (it was held on this node or another). Until the store
   * answers, frames are held so that `connected` stays first; a store that cannot answer, or an unknown,
   * expired or other user's session, leaves the connection with the new session it was given.
   */
  private async resumeShared(connection: Connection, id: string): Promise<void> {
    connection.held = [];
    let snapshot: SessionSnapshot | null = null;
    try {
      snapshot = (await this.options.sessionStore?.take(id)) ?? null;
    } catch (error) {
      this.options.logger.warn({ err: error, connectionId: connection.id }, 'shared session lookup failed');
    }
    if (connection.state !== 'open') return;
    const adopted =
      snapshot !== null && snapshot.userId === connection.userId
        ? this.sessions.adopt(connection.session, id, connection, snapshot.state)
        : null;
    if (adopted !== null) connection.session = adopted;
    this.runHook('onConnect', () => this.options.hooks.onConnect?.(connection));
    if (adopted === null || snapshot === null) {
      const held = connection.held;
      connection.held = null;
      this.writeFrame(connection, this.connectedFrame(connection, this.options.clock.now()));
      for (const frame of held ?? []) this.write(connection, frame, false);
      return;
    }
    this.counters.sessionsResumed++;
    await this.resume(connection, new Map(snapshot.channels));
  }

  private async resume(
    connection: Connection,
    restore: ReadonlyMap<string, StreamPosition | null>,
  ): Promise<void> {
    connection.held ??= [];
    const joined: Joined[] = [];
    for (const [channel, position] of restore) {
      // Credentials may have changed since the session was last held: check again.
      if (
        !this.options.authorizer.permissive &&
        !(await this.options.authorizer.allows(connection, 'subscribe', channel))
      )
        continue;
      const outcome = await this.channels.join(connection, channel, position ?? undefined);
      if (outcome.ok) joined.push(outcome.value);
      else this.options.logger.info({ channel, code: outcome.code }, 'subscription not restored on resume');
    }
    if (connection.state !== 'open') return;
    const held = connection.held;
    connection.held = null;
    const restored = joined.map((j) => ({
      channel: j.channel,
      offset: j.position.offset,
      epoch: j.position.epoch,
      recovered: j.recovered ?? false,
    }));
    this.writeFrame(connection, this.connectedFrame(connection, this.options.clock.now(), restored));
    for (const frame of held ?? []) this.write(connection, frame, false);
    for (const j of joined) {
      this.channels.writeMissed(connection, j.channel, j.missed, j.position.epoch);
      this.channels.release(connection, j.channel, j.position.offset, j.hold);
    }
  }

  /** A room connection joins its room, replaying from `?last_message_id=` when given. */
  private async joinRoom(connection: Connection, room: string, options: AcceptOptions): Promise<void> {
    if (
      !this.options.authorizer.permissive &&
      !(await this.options.authorizer.allows(connection, 'subscribe', room))
    ) {
      this.close(connection, CloseCode.Forbidden, `not allowed to join ${room}`);
      return;
    }
    let since: StreamPosition | undefined;
    if (options.lastMessageId !== undefined) {
      const epoch = options.epoch ?? (await this.options.history.position(room)).epoch;
      since = { offset: options.lastMessageId, epoch };
    }
    const outcome = await this.channels.join(connection, room, since);
    if (!outcome.ok) {
      const code = outcome.code === ErrorCode.ChannelFull ? CloseCode.ChannelFull : CloseCode.TryAgainLater;
      this.close(connection, code, outcome.message);
      return;
    }
    const joined = outcome.value;
    this.channels.writeMissed(connection, room, joined.missed, joined.position.epoch);
    if (since !== undefined) {
      this.writeRaw(connection, {
        type: 'recovery',
        recovered: joined.recovered ?? false,
        offset: joined.position.offset,
        epoch: joined.position.epoch,
      });
    }
    this.channels.release(connection, room, joined.position.offset, joined.hold);
  }

  /** Close a connection with `code`; it leaves every registry at once. Idempotent. */
  close(connection: Connection, code: number, reason: string): void {
    if (connection.state !== 'open') return;
    // What was published before the close is owed to the client before it: the batches still waiting
    // (for the turn's end or a batch delay) go out now. Not to a dead or stuck peer (the linger codes),
    // which would not read them; and writing them may itself close the connection (outbound buffer full).
    if (!LINGER_CODES.has(code)) {
      this.channels.flushFor(connection);
      if (connection.state !== 'open') return;
    }
    this.detach(connection, code, reason);
    connection.socket.close(code, reason);
    if (LINGER_CODES.has(code)) {
      // A dead or stuck peer will never complete the close handshake; do not hold its buffers for
      // ws's 30 s close timeout.
      this.options.clock.setTimeout(() => {
        if (connection.state !== 'closed') connection.socket.terminate();
      }, CLOSE_LINGER_MS);
    }
  }

  /** Look up an open connection. */
  connection(id: string): ConnectionInfo | undefined {
    return this.connections.get(id);
  }

  /** Open connections of a user on this node. */
  userConnections(userId: string): ConnectionInfo[] {
    return this.users.list(userId);
  }

  /** Whether a user already holds `maxConnectionsPerUser` connections on this node. */
  userAtLimit(userId: string): boolean {
    const max = this.limits.maxConnectionsPerUser;
    return max > 0 && this.users.count(userId) >= max;
  }

  private transportClosed(connection: Connection, code: number, reason: string): void {
    if (connection.state === 'open') this.detach(connection, code, reason);
    connection.state = 'closed';
    this.live.delete(connection);
    this.options.connectionLimits.closed(connection.remoteAddress);
    this.options.metrics.connectionClosed(connection.socket.kind, code);
    if (this.live.size === 0) this.drained?.();
  }

  /** Remove a connection from every registry, exactly once, and tell the application. */
  private detach(connection: Connection, code: number, reason: string): void {
    connection.state = 'closing';
    connection.held = null;
    this.authClock.unwatch(connection);
    this.connections.delete(connection.id);
    this.scheduler.remove(connection);
    if (connection.userId !== null && this.users.delete(connection.userId, connection))
      this.options.broker.unwatchUser(connection.userId);
    const positions = this.channels.leaveAll(connection);
    const kept = this.sessions.release(connection.session, connection, positions);
    const store = this.options.sessionStore;
    if (kept && store !== undefined && connection.format === 'v1' && this.limits.sessionGraceMs > 0) {
      const snapshot: SessionSnapshot = {
        userId: connection.userId,
        channels: [...positions],
        state: connection.session.hasState ? [...connection.session.state] : [],
      };
      store.save(connection.session.id, snapshot, this.limits.sessionGraceMs).catch((error: unknown) => {
        this.options.logger.warn({ err: error, connectionId: connection.id }, 'session not saved');
      });
    }
    if (this.options.hooks.onDisconnect !== undefined)
      this.runHook('onDisconnect', () => this.options.hooks.onDisconnect?.(connection, { code, reason }));
  }

  // ---------------------------------------------------------------- inbound

  private receiveText(connection: Connection, text: string): void {
    if (connection.state !== 'open') return;
    const now = this.options.clock.now();
    connection.lastReceived = now;
    connection.awaitingPong = false;
    this.counters.framesReceived++;
    this.options.metrics.framesReceived(1);
    if (this.rateLimits && !this.withinRate(connection, text, now)) return;
    if (connection.authDeadline !== 0) {
      this.receiveFirstFrame(connection, text);
      return;
    }
    if (connection.format === 'v1') handleV1Frame(this, connection, text);
    else handleRoomFrame(this, connection, text);
  }

  /**
   * Charge a frame to the connection's message and byte buckets. Over either, the frame is answered with
   * `rate_limited` (temporary, and outside the malformed-frame budget: the frame may be fine) and not
   * processed; a connection that keeps going after its allowance of refusals is closed with 4003.
   */
  private withinRate(connection: Connection, text: string, now: number): boolean {
    const limiter = (connection.rate ??= new RateLimiter(this.limits, now));
    const limit = limiter.take(limiter.countsBytes ? Buffer.byteLength(text) : 0, now);
    if (limit === null) return true;
    this.options.metrics.limitRejected(limit);
    if (limiter.strike(now)) {
      this.close(connection, CloseCode.RateLimited, 'rate limit exceeded');
      return false;
    }
    // Decoded only to answer the command's id; refusals are bounded by the strike budget, so is this work.
    let id: number | undefined;
    if (connection.format === 'v1') {
      const decoded = decodeCommand(text, { maxChannelLength: this.limits.maxChannelLength });
      id = decoded.ok ? decoded.command.id : decoded.id;
    }
    this.clientError(connection, ErrorCode.RateLimited, `over the ${limit} per second limit; slow down`, id);
    return false;
  }

  /** Before authentication only `{"type":"auth","token":...}` is accepted, in either wire format. */
  private receiveFirstFrame(connection: Connection, text: string): void {
    const decoded = decodeCommand(text, { maxChannelLength: this.limits.maxChannelLength });
    // Heartbeat traffic is not "something else first": a client answering our ping while its `auth` is
    // being verified (a slow identity provider) must not be refused for it.
    if (decoded.ok && (decoded.command.type === 'pong' || decoded.command.type === 'ping')) return;
    if (decoded.ok && decoded.command.type === 'auth') {
      this.authCommand(connection, 'auth', decoded.command.token, decoded.command.id);
      return;
    }
    this.refuseUnauthenticated(connection, decoded.ok ? decoded.command.id : decoded.id);
  }

  /** Send an error to a client (a reply when `id` is given) and charge its error budget. */
  clientError(connection: Connection, code: ErrorCode, message: string, id?: number): void {
    if (connection.state !== 'open') return;
    this.counters.errors++;
    this.options.metrics.clientError(code);
    const error = errorPayload(code, message);
    this.writeFrame(
      connection,
      id === undefined ? { type: 'error', ...error } : { type: 'reply', id, error },
    );
    if (!BUDGETED_ERRORS.has(code)) return;
    const now = this.options.clock.now();
    connection.errorBudget ??= new TokenBucket(this.limits.errorBurst, this.limits.errorRefillPerSecond, now);
    if (!connection.errorBudget.take(now))
      this.close(connection, CloseCode.TooManyErrors, 'too many invalid frames');
  }

  /** Answer a command whose operation threw: a temporary error, never the internals. */
  failed(connection: Connection, id: number | undefined, error: unknown): void {
    if (error instanceof ServerNotRunningError) {
      this.clientError(connection, ErrorCode.ShuttingDown, 'server is shutting down', id);
      return;
    }
    if (error instanceof InvalidArgumentError && isErrorCode(error.code)) {
      this.clientError(connection, error.code, error.message, id);
      return;
    }
    if (error instanceof BackendUnavailableError) {
      this.clientError(connection, ErrorCode.Unavailable, 'a backend is unavailable; retry later', id);
      return;
    }
    this.options.logger.error({ err: error, connectionId: connection.id }, 'operation failed');
    this.clientError(connection, ErrorCode.Internal, 'internal error', id);
  }

  /** Write a JSON value as it is (the room protocol's own frames). */
  writeRaw(connection: Connection, value: unknown): void {
    this.write(connection, Buffer.from(JSON.stringify(value)), false);
  }

  /** Write an already-encoded frame. */
  writeText(connection: Connection, text: string): void {
    this.write(connection, Buffer.from(text), false);
  }

  /** Send a successful reply. */
  reply(connection: Connection, id: number, result: unknown): void {
    this.writeFrame(connection, { type: 'reply', id, result });
  }

  // ---------------------------------------------------------------- channels

  /**
   * The v1 `subscribe` command: join (recovering from `since` when given), reply, then let live messages
   * through. Reply and release happen in one synchronous step, so nothing live can slip in between.
   */
  subscribe(
    connection: Connection,
    channel: string,
    since: StreamPosition | undefined,
    id: number | undefined,
  ): void {
    void this.channels.join(connection, channel, since).then((outcome) => {
      if (!outcome.ok) {
        this.clientError(connection, outcome.code, outcome.message, id);
        return;
      }
      const joined = outcome.value;
      if (id !== undefined) this.write(connection, Buffer.from(renderSubscribeReply(id, joined)), false);
      else this.channels.writeMissed(connection, channel, joined.missed, joined.position.epoch);
      this.channels.release(connection, channel, joined.position.offset, joined.hold);
    });
  }

  /** Unsubscribe a connection from a channel. */
  unsubscribe(connection: Connection, name: string): Outcome<Record<string, never>> {
    return this.channels.unsubscribe(connection, name);
  }

  /** Members of a channel on this node. */
  channelMembers(name: string): number {
    return this.channels.members(name);
  }

  /** A channel's retained history. */
  history(channel: string, since: number | undefined, limit: number): Promise<HistoryPage> {
    return this.channels.readHistory(channel, since, limit);
  }

  /** Presence in a channel. */
  presenceOf(channel: string): ReturnType<ChannelRegistry['presenceOf']> {
    return this.channels.presenceOf(channel);
  }

  /** Presence counts of a channel. */
  presenceStats(channel: string): ReturnType<ChannelRegistry['presenceStats']> {
    return this.channels.presenceStats(channel);
  }

  /** The current position of a channel's stream. */
  position(channel: string): Promise<StreamPosition> {
    return this.options.history.position(channel);
  }

  // ---------------------------------------------------------------- publishing

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
    const encoded = encodeData(data);
    if (!encoded.ok) return Promise.reject(new InvalidArgumentError(ErrorCode.BadRequest, encoded.message));
    this.counters.messagesPublished++;
    this.options.metrics.messagePublished('channel');
    const input: PublicationInput = {
      json: encoded.json,
      ephemeral,
      history: this.channels.settings(channel).history,
      ...(exclude === undefined ? {} : { exclude }),
      ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
    };
    return this.options.broker.publish(channel, input);
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
      this.counters.messagesPublished++;
      this.options.metrics.messagePublished(envelope.kind);
    }
    return this.options.broker.send(envelope);
  }

  /** Fan a publication out to this node's subscribers. Called by the broker. */
  onPublication(publication: Publication): void {
    this.channels.onPublication(publication);
  }

  /** This node's connection, distinct user and channel counts (the node registry's report). */
  counts(): { connections: number; users: number; channels: number } {
    return { connections: this.connections.size, users: this.users.size, channels: this.channels.size };
  }

  /** The broker's delivery was interrupted and is back: check every channel for missed publications. */
  onReconnected(): void {
    this.channels.verifyAll();
  }

  /** Deliver an envelope to this node's targets. Called by the broker. */
  onEnvelope(envelope: Envelope): void {
    switch (envelope.kind) {
      case 'user': {
        const targets = this.users.get(envelope.userId);
        if (targets !== undefined)
          this.fanOut(
            targets,
            this.directOutbound('direct', envelope.json, envelope.time),
            false,
            envelope.exclude,
          );
        return;
      }
      case 'connection': {
        const connection = this.connections.get(envelope.connectionId);
        if (connection !== undefined)
          this.fanOut([connection], this.directOutbound('direct', envelope.json, envelope.time), false);
        return;
      }
      case 'broadcast':
        this.fanOut(
          this.connections.values(),
          this.directOutbound('broadcast', envelope.json, envelope.time),
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
        this.fanOut(this.channels.memberConnections(envelope.channel), Outbound.same(frame), true, exclude);
        return;
      }
      case 'disconnect-user':
        for (const connection of this.users.list(envelope.userId))
          this.close(connection, envelope.code, envelope.reason);
        return;
      case 'disconnect-connection': {
        const connection = this.connections.get(envelope.connectionId);
        if (connection !== undefined) this.close(connection, envelope.code, envelope.reason);
        return;
      }
    }
  }

  private directOutbound(type: 'direct' | 'broadcast', json: string, time: number): Outbound {
    return new Outbound(
      () => renderV1Push(type, json, time),
      () => renderRoomPayload(type, json, undefined),
    );
  }

  private fanOut(
    targets: Iterable<Connection>,
    outbound: Outbound,
    ephemeral: boolean,
    exclude?: Exclusion,
  ): void {
    const excludeConnection = exclude?.connectionId;
    const excludeUser = exclude?.userId;
    const tally = new Delivery();
    for (const connection of targets) {
      if (connection.id === excludeConnection) continue;
      if (excludeUser !== undefined && connection.userId === excludeUser) continue;
      this.writePrepared(connection, outbound.prepared(connection.format), ephemeral, tally);
    }
    this.settle(tally);
  }

  private delivered(count: number): void {
    this.counters.messagesDelivered += count;
    this.options.metrics.messagesDelivered(count);
  }

  /** Report what a fan-out did: once per fan-out, never per recipient. */
  private settle(tally: Delivery): void {
    this.delivered(tally.delivered);
    if (tally.backpressure > 0) this.drop('backpressure', tally.backpressure);
    if (tally.slowConsumer > 0) this.drop('slow_consumer', tally.slowConsumer);
    if (tally.closed > 0) this.drop('closed', tally.closed);
  }

  /** Encode and write one frame to one connection (replies, errors, the connected push). */
  writeFrame(connection: Connection, frame: ServerFrame): void {
    this.write(connection, Buffer.from(encodeServerFrame(frame)), false);
  }

  /**
   * Write without waiting. Over the soft limit, ephemeral messages are dropped and counted; reliable ones
   * are queued and the connection is marked slow (the heartbeat sweep closes it if it stays slow). Over the
   * hard limit the connection is closed at once as a slow consumer: the client will reconnect and recover.
   */
  private write(connection: Connection, frame: Buffer, ephemeral: boolean): boolean {
    const refused = this.refuse(connection, frame.length, ephemeral);
    if (refused !== null) {
      this.drop(refused, 1);
      return false;
    }
    if (connection.held !== null) connection.held.push(frame);
    else connection.socket.send(frame);
    return true;
  }

  /**
   * {@link write} for a fan-out: the frame is shared by every recipient (the transport frames it once),
   * and outcomes are tallied, `tally.weight` messages per frame, for {@link settle} to report once.
   */
  private writePrepared(
    connection: Connection,
    frame: PreparedFrame,
    ephemeral: boolean,
    tally: Delivery,
  ): void {
    const refused = this.refuse(connection, frame.payload.length, ephemeral);
    if (refused === null) {
      if (connection.held !== null) connection.held.push(frame.payload);
      else connection.socket.sendPrepared(frame);
      tally.delivered += tally.weight;
    } else if (refused === 'backpressure') tally.backpressure += tally.weight;
    else if (refused === 'slow_consumer') tally.slowConsumer += tally.weight;
    else tally.closed += tally.weight;
  }

  /**
   * Why `length` more bytes cannot be queued for `connection`, or null when they can. A connection past
   * the hard limit is closed here (4001). A connection holding its frames (a resume) takes everything.
   */
  private refuse(connection: Connection, length: number, ephemeral: boolean): DropReason | null {
    // A reply or push racing the connection's close: nobody can receive it, but it is still counted.
    if (connection.state !== 'open') return 'closed';
    if (connection.held !== null) return null;
    const buffered = connection.socket.bufferedAmount + length;
    if (buffered <= this.limits.maxBufferedBytes) return null;
    if (ephemeral) return 'backpressure';
    if (buffered > this.hardBufferLimit) {
      this.close(connection, CloseCode.SlowConsumer, 'outbound buffer full');
      return 'slow_consumer';
    }
    if (connection.overBufferSince === 0) connection.overBufferSince = this.options.clock.now();
    return null;
  }

  private drop(reason: DropReason, count: number): void {
    this.counters.messagesDropped += count;
    this.options.metrics.messagesDropped(reason, count);
  }

  // ---------------------------------------------------------------- heartbeat

  /**
   * One heartbeat visit, once per interval per connection. A connection silent past the timeout is closed;
   * one quiet for half an interval gets an application ping, plus a transport ping when the previous
   * application ping went unanswered (clients such as wscat answer only transport pings).
   */
  private visit(connection: Connection, now: number): void {
    const silent = now - connection.lastReceived;
    if (silent >= this.limits.heartbeatTimeoutMs) {
      this.close(connection, CloseCode.HeartbeatTimeout, 'heartbeat timeout');
      return;
    }
    if (connection.overBufferSince !== 0) {
      if (connection.socket.bufferedAmount <= this.limits.maxBufferedBytes) {
        connection.overBufferSince = 0;
      } else if (now - connection.overBufferSince >= this.limits.slowConsumerTimeoutMs) {
        this.drop('slow_consumer', 1);
        this.close(connection, CloseCode.SlowConsumer, 'slow consumer');
        return;
      }
    }
    if (silent >= this.halfInterval) {
      if (connection.awaitingPong) connection.socket.ping();
      connection.awaitingPong = true;
      // Heartbeats are never dropped as ephemeral: a slow connection is handled by the slow-consumer rule.
      const refused = this.refuse(connection, PING_PREPARED.payload.length, false);
      if (refused !== null) this.drop(refused, 1);
      else if (connection.held !== null) connection.held.push(PING_PREPARED.payload);
      else connection.socket.sendPrepared(PING_PREPARED);
    }
  }

  // ---------------------------------------------------------------- lifecycle and stats

  /**
   * Close every connection with `code` and wait until their transports confirm, at most `timeoutMs`;
   * then drop whatever is left.
   */
  async closeAll(code: number, reason: string, timeoutMs: number): Promise<void> {
    this.scheduler.stop();
    // Waiting batches (a batch delay) go out before the closes: a closing connection is written nothing.
    this.channels.flushBatches();
    for (const connection of [...this.connections.values()]) this.close(connection, code, reason);
    if (this.live.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = this.options.clock.setTimeout(resolve, timeoutMs);
        this.drained = () => {
          timer.cancel();
          resolve();
        };
      });
    }
    for (const connection of [...this.live]) connection.socket.terminate();
    this.drained = null;
  }

  /** Stop the timers and the stores. Pending presence departures are announced now. */
  async shutdown(): Promise<void> {
    this.scheduler.stop();
    this.sessions.stop();
    this.sessions.clear();
    this.authClock.stop();
    this.presence.stop();
    // Departures first, while the broker can still announce them; then the presence store withdraws
    // this node's entries, and only then does the broker close (a shared store needs its connection).
    await this.presence.flush();
    await this.options.presence.close();
    await this.options.broker.close();
    await this.options.history.close();
  }

  /** A snapshot of this node for /stats. */
  stats(): HubStats {
    const all = this.channels.list();
    all.sort((a, b) => b.members - a.members || (a.name < b.name ? -1 : 1));
    const c = this.counters;
    return {
      nodeId: this.options.nodeId,
      connections: this.connections.size,
      users: this.users.size,
      channels: {
        total: all.length,
        truncated: all.length > STATS_CHANNEL_LIMIT,
        list: all.slice(0, STATS_CHANNEL_LIMIT),
      },
      messages: {
        received: c.framesReceived,
        published: c.messagesPublished,
        delivered: c.messagesDelivered,
        dropped: c.messagesDropped,
      },
      errors: c.errors,
      connectionsAccepted: c.connectionsAccepted,
      recovery: { recovered: c.recoveries, failed: c.recoveryFailures, streamResets: c.streamResets },
      sessions: { resumed: c.sessionsResumed, detached: this.sessions.detachedCount },
      heartbeat: {
        intervalMs: this.limits.heartbeatIntervalMs,
        timeoutMs: this.limits.heartbeatTimeoutMs,
        slots: this.scheduler.slotCount,
        tickMs: this.scheduler.tickMs,
      },
    };
  }

  private runHook(name: string, call: () => unknown): void {
    try {
      const result = call();
      if (result instanceof Promise) {
        result.catch((error: unknown) =>
          this.options.logger.error({ err: error, hook: name }, 'hook failed'),
        );
      }
    } catch (error) {
      this.options.logger.error({ err: error, hook: name }, 'hook failed');
    }
  }
}
