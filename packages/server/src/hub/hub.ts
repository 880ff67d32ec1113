import { randomBytes } from 'node:crypto';
import {
  CloseCode,
  ErrorCode,
  encodeData,
  isErrorCode,
  encodeServerFrame,
  errorPayload,
  matchChannelPattern,
} from '@switchboard/protocol';
import type { ServerFrame, SubscribeResult } from '@switchboard/protocol';
import type { Broker, BrokerHandler, Envelope, Exclusion, Publication } from '../broker/broker.js';
import type { DropReason, Metrics } from '../metrics/metrics.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import type { ChannelRule, ResolvedLimits, ServerHooks } from '../server-options.js';
import type { Principal } from '../auth/authenticator.js';
import type { ConnectionHandle, TransportSocket } from '../transports/transport.js';
import { TokenBucket } from '../limits/token-bucket.js';
import { InvalidArgumentError, ServerNotRunningError } from '../errors.js';
import { Connection } from './connection.js';
import type { ConnectionInfo } from './connection.js';
import { HeartbeatScheduler } from './heartbeat-scheduler.js';
import { Outbound, PING_FRAME, renderRoomPayload, renderV1Message, renderV1Push } from './outbound.js';
import type { WireFormat } from './outbound.js';
import { handleV1Frame } from './v1-handler.js';
import { handleRoomFrame } from './room-handler.js';

/** The outcome of a hub operation a client asked for: a value, or an error with a stable code. */
export type Outcome<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly code: ErrorCode; readonly message: string };

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

/** Resolved per-channel settings. */
interface ChannelSettings {
  readonly maxMembers: number;
  readonly joinLeave: boolean;
}

class Channel {
  readonly members = new Set<Connection>();
  constructor(
    readonly name: string,
    readonly settings: ChannelSettings,
    readonly ready: Promise<void>,
  ) {}
}

/** Counters shown in /stats. */
export interface HubCounters {
  framesReceived: number;
  messagesPublished: number;
  messagesDelivered: number;
  messagesDropped: number;
  errors: number;
  connectionsAccepted: number;
}

/** One channel in /stats. */
export interface ChannelStats {
  readonly name: string;
  readonly members: number;
}

/** A snapshot of this node, as /stats returns it. */
export interface HubStats {
  readonly nodeId: string;
  readonly connections: number;
  readonly users: number;
  readonly channels: {
    readonly total: number;
    readonly truncated: boolean;
    readonly list: readonly ChannelStats[];
  };
  readonly messages: {
    readonly received: number;
    readonly published: number;
    readonly delivered: number;
    readonly dropped: number;
  };
  readonly errors: number;
  readonly connectionsAccepted: number;
  readonly heartbeat: {
    readonly intervalMs: number;
    readonly timeoutMs: number;
    readonly slots: number;
    readonly tickMs: number;
  };
}

/** Everything the hub needs, passed in by the server. */
export interface HubOptions {
  readonly nodeId: string;
  readonly limits: ResolvedLimits;
  readonly channelRules: readonly ChannelRule[];
  readonly hooks: ServerHooks;
  readonly broker: Broker;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly clock: Clock;
}

/** The most channels /stats lists (largest first). */
const STATS_CHANNEL_LIMIT = 1000;

/**
 * The hub: which connections exist, which channels and users they belong to, and how a message reaches
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
  };
  private readonly connections = new Map<string, Connection>();
  private readonly channels = new Map<string, Channel>();
  private readonly users = new Map<string, Set<Connection>>();
  /** Connections whose transport has not reported its close yet (including ones we are closing). */
  private readonly live = new Set<Connection>();
  private readonly scheduler: HeartbeatScheduler<Connection>;
  private readonly limits: ResolvedLimits;
  private readonly hardBufferLimit: number;
  private readonly halfInterval: number;
  private connectionCounter = 0;
  private drained: (() => void) | null = null;

  constructor(private readonly options: HubOptions) {
    this.limits = options.limits;
    this.hardBufferLimit = options.limits.maxBufferedBytes * HARD_BUFFER_FACTOR;
    this.halfInterval = options.limits.heartbeatIntervalMs / 2;
    this.scheduler = new HeartbeatScheduler<Connection>({
      intervalMs: options.limits.heartbeatIntervalMs,
      clock: options.clock,
      visit: (connection, now) => this.visit(connection, now),
      onTick: (visited, durationMs) => options.metrics.heartbeatTick(visited, durationMs),
    });
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

  /** The logger, for handlers. */
  get logger(): Logger {
    return this.options.logger;
  }

  /** Start the broker and the heartbeat scheduler. */
  async start(): Promise<void> {
    await this.options.broker.start(this);
    this.scheduler.start();
  }

  // ---------------------------------------------------------------- connections

  /**
   * Register a connection the transport has opened. Returns the handle the transport reports to.
   * For the `room` format, `room` is the channel the connection joins.
   */
  accept(
    socket: TransportSocket,
    principal: Principal,
    format: WireFormat,
    remoteAddress: string,
    room?: string,
  ): ConnectionHandle {
    const now = this.options.clock.now();
    const id = `${this.options.nodeId}-${(++this.connectionCounter).toString(36)}`;
    const sessionId = randomBytes(16).toString('base64url');
    const connection = new Connection(
      id,
      principal.userId,
      sessionId,
      format,
      socket,
      remoteAddress,
      now,
      principal.info,
    );
    this.connections.set(id, connection);
    this.live.add(connection);
    if (connection.userId !== null) {
      let set = this.users.get(connection.userId);
      if (set === undefined) this.users.set(connection.userId, (set = new Set()));
      set.add(connection);
    }
    if (room !== undefined) connection.room = room;
    this.scheduler.add(connection);
    this.counters.connectionsAccepted++;
    this.options.metrics.connectionOpened(socket.kind);
    if (format === 'v1') {
      this.writeFrame(connection, {
        type: 'connected',
        version: 1,
        connectionId: id,
        sessionId,
        userId: connection.userId,
        heartbeat: { interval: this.limits.heartbeatIntervalMs, timeout: this.limits.heartbeatTimeoutMs },
        time: now,
      });
    }
    if (room !== undefined) {
      void this.subscribe(connection, room).then((outcome) => {
        if (outcome.ok) return;
        const code = outcome.code === ErrorCode.ChannelFull ? CloseCode.ChannelFull : CloseCode.TryAgainLater;
        this.close(connection, code, outcome.message);
      });
    }
    this.runHook('onConnect', () => this.options.hooks.onConnect?.(connection));
    return {
      receiveText: (text) => this.receiveText(connection, text),
      receiveUnsupported: () =>
        this.close(connection, CloseCode.UnsupportedData, 'binary frames are not supported'),
      receiveTransportPong: () => {
        connection.lastReceived = this.options.clock.now();
      },
      closed: (code, reason) => this.transportClosed(connection, code, reason),
    };
  }

  /** Close a connection with `code`; it leaves every registry at once. Idempotent. */
  close(connection: Connection, code: number, reason: string): void {
    if (connection.state !== 'open') return;
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
    return [...(this.users.get(userId) ?? [])];
  }

  private transportClosed(connection: Connection, code: number, reason: string): void {
    if (connection.state === 'open') this.detach(connection, code, reason);
    connection.state = 'closed';
    this.live.delete(connection);
    this.options.metrics.connectionClosed(connection.socket.kind, code);
    if (this.live.size === 0) this.drained?.();
  }

  /** Remove a connection from every registry, exactly once, and tell the application. */
  private detach(connection: Connection, code: number, reason: string): void {
    connection.state = 'closing';
    this.connections.delete(connection.id);
    this.scheduler.remove(connection);
    if (connection.userId !== null) {
      const set = this.users.get(connection.userId);
      set?.delete(connection);
      if (set?.size === 0) this.users.delete(connection.userId);
    }
    for (const name of connection.subscriptions) this.leaveChannel(connection, name);
    connection.subscriptions.clear();
    this.runHook('onDisconnect', () => this.options.hooks.onDisconnect?.(connection, { code, reason }));
  }

  // ---------------------------------------------------------------- inbound

  private receiveText(connection: Connection, text: string): void {
    if (connection.state !== 'open') return;
    connection.lastReceived = this.options.clock.now();
    connection.awaitingPong = false;
    this.counters.framesReceived++;
    this.options.metrics.framesReceived(1);
    if (connection.format === 'v1') handleV1Frame(this, connection, text);
    else handleRoomFrame(this, connection, text);
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
    this.options.logger.error({ err: error, connectionId: connection.id }, 'operation failed');
    this.clientError(connection, ErrorCode.Internal, 'internal error', id);
  }

  /** Write a JSON value as it is (the room protocol's own frames). */
  writeRaw(connection: Connection, value: unknown): void {
    this.write(connection, Buffer.from(JSON.stringify(value)), false);
  }

  /** Send a successful reply. */
  reply(connection: Connection, id: number, result: unknown): void {
    this.writeFrame(connection, { type: 'reply', id, result });
  }

  // ---------------------------------------------------------------- channels

  private settingsFor(channel: string): ChannelSettings {
    const rule = this.options.channelRules.find((r) => matchChannelPattern(r.pattern, channel));
    return {
      maxMembers: rule?.maxMembers ?? this.limits.maxChannelMembers,
      joinLeave: rule?.joinLeave ?? false,
    };
  }

  /** Subscribe a connection to a channel. */
  async subscribe(connection: Connection, name: string): Promise<Outcome<SubscribeResult>> {
    if (connection.subscriptions.has(name)) {
      return { ok: false, code: ErrorCode.AlreadySubscribed, message: `already subscribed to ${name}` };
    }
    if (connection.subscriptions.size >= this.limits.maxSubscriptionsPerConnection) {
      return {
        ok: false,
        code: ErrorCode.TooManySubscriptions,
        message: `at most ${this.limits.maxSubscriptionsPerConnection} subscriptions per connection`,
      };
    }
    let channel = this.channels.get(name);
    if (channel === undefined) {
      const ready = this.options.broker.subscribe(name);
      // Observed below; this handler only keeps an early rejection from being reported as unhandled.
      ready.catch(() => {});
      channel = new Channel(name, this.settingsFor(name), ready);
      this.channels.set(name, channel);
    }
    const { maxMembers, joinLeave } = channel.settings;
    if (maxMembers > 0 && channel.members.size >= maxMembers) {
      return { ok: false, code: ErrorCode.ChannelFull, message: `${name} is full (${maxMembers} members)` };
    }
    channel.members.add(connection);
    connection.subscriptions.add(name);
    try {
      await channel.ready;
    } catch (error) {
      this.options.logger.warn({ err: error, channel: name }, 'broker subscribe failed');
      if (connection.subscriptions.delete(name)) this.leaveChannel(connection, name, false);
      return { ok: false, code: ErrorCode.Unavailable, message: 'subscription backend unavailable' };
    }
    if (joinLeave) this.announce(connection, name, 'join');
    const offset = await this.options.broker.lastOffset(name);
    return { ok: true, value: { channel: name, offset } };
  }

  /** Unsubscribe a connection from a channel. */
  unsubscribe(connection: Connection, name: string): Outcome<Record<string, never>> {
    if (!connection.subscriptions.delete(name)) {
      return { ok: false, code: ErrorCode.NotSubscribed, message: `not subscribed to ${name}` };
    }
    this.leaveChannel(connection, name);
    return { ok: true, value: {} };
  }

  private leaveChannel(connection: Connection, name: string, announce = true): void {
    const channel = this.channels.get(name);
    if (channel === undefined || !channel.members.delete(connection)) return;
    if (channel.members.size === 0) {
      this.channels.delete(name);
      this.options.broker.unsubscribe(name).catch((error: unknown) => {
        this.options.logger.warn({ err: error, channel: name }, 'broker unsubscribe failed');
      });
    } else if (announce && channel.settings.joinLeave) {
      this.announce(connection, name, 'leave');
    }
  }

  private announce(connection: Connection, channel: string, event: 'join' | 'leave'): void {
    const envelope: Envelope = {
      kind: 'membership',
      event,
      channel,
      connectionId: connection.id,
      userId: connection.userId,
      time: this.options.clock.now(),
    };
    this.options.broker.send(envelope).catch((error: unknown) => {
      this.options.logger.warn({ err: error, channel }, `${event} notice not sent`);
    });
  }

  /** Members of a channel on this node. */
  channelMembers(name: string): number {
    return this.channels.get(name)?.members.size ?? 0;
  }

  // ---------------------------------------------------------------- publishing

  /**
   * Publish to a channel on every node; resolves with the publication (its `id` is the offset). The
   * payload is validated and encoded before an offset is taken, so a payload that cannot be delivered
   * never leaves a gap in the channel's ids.
   */
  publish(channel: string, data: unknown, ephemeral: boolean, exclude?: Exclusion): Promise<Publication> {
    const encoded = encodeData(data);
    if (!encoded.ok) return Promise.reject(new InvalidArgumentError(ErrorCode.BadRequest, encoded.message));
    this.counters.messagesPublished++;
    this.options.metrics.messagePublished('channel');
    const input = { json: encoded.json, ephemeral };
    return this.options.broker.publish(channel, exclude === undefined ? input : { ...input, exclude });
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
      this.options.metrics.messagePublished(envelope.kind === 'user' ? 'user' : envelope.kind);
    }
    return this.options.broker.send(envelope);
  }

  /** Fan a publication out to this node's subscribers. Called by the broker. */
  onPublication(publication: Publication): void {
    const channel = this.channels.get(publication.channel);
    if (channel === undefined) return;
    const { id, json, time, exclude, ephemeral } = publication;
    const outbound = new Outbound(
      () => renderV1Message(publication.channel, id, json, time),
      () => renderRoomPayload('message', json, id),
    );
    this.fanOut(channel.members, outbound, ephemeral, exclude);
  }

  /** Deliver an envelope to this node's targets. Called by the broker. */
  onEnvelope(envelope: Envelope): void {
    switch (envelope.kind) {
      case 'user': {
        const set = this.users.get(envelope.userId);
        if (set !== undefined)
          this.fanOut(
            set,
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
        const channel = this.channels.get(envelope.channel);
        if (channel === undefined) return;
        const frame: ServerFrame = {
          type: envelope.event,
          channel: envelope.channel,
          connectionId: envelope.connectionId,
          userId: envelope.userId,
          time: envelope.time,
        };
        this.fanOut(channel.members, Outbound.same(frame), true, { connectionId: envelope.connectionId });
        return;
      }
      case 'disconnect-user':
        for (const connection of [...(this.users.get(envelope.userId) ?? [])]) {
          this.close(connection, envelope.code, envelope.reason);
        }
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
    let delivered = 0;
    for (const connection of targets) {
      if (connection.id === excludeConnection) continue;
      if (excludeUser !== undefined && connection.userId === excludeUser) continue;
      if (this.write(connection, outbound.frame(connection.format), ephemeral)) delivered++;
    }
    this.counters.messagesDelivered += delivered;
    this.options.metrics.messagesDelivered(delivered);
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
    if (connection.state !== 'open') {
      // A reply or push racing the connection's close: nobody can receive it, but it is still counted.
      this.drop('closed');
      return false;
    }
    const buffered = connection.socket.bufferedAmount;
    if (buffered + frame.length > this.limits.maxBufferedBytes) {
      if (ephemeral) {
        this.drop('backpressure');
        return false;
      }
      if (buffered + frame.length > this.hardBufferLimit) {
        this.drop('slow_consumer');
        this.close(connection, CloseCode.SlowConsumer, 'outbound buffer full');
        return false;
      }
      if (connection.overBufferSince === 0) connection.overBufferSince = this.options.clock.now();
    }
    connection.socket.send(frame);
    return true;
  }

  private drop(reason: DropReason): void {
    this.counters.messagesDropped++;
    this.options.metrics.messagesDropped(reason, 1);
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
        this.drop('slow_consumer');
        this.close(connection, CloseCode.SlowConsumer, 'slow consumer');
        return;
      }
    }
    if (silent >= this.halfInterval) {
      if (connection.awaitingPong) connection.socket.ping();
      connection.awaitingPong = true;
      // Heartbeats are never dropped as ephemeral: a slow connection is handled by the slow-consumer rule.
      this.write(connection, PING_FRAME, false);
    }
  }

  // ---------------------------------------------------------------- lifecycle and stats

  /**
   * Close every connection with `code` and wait until their transports confirm, at most `timeoutMs`;
   * then drop whatever is left.
   */
  async closeAll(code: number, reason: string, timeoutMs: number): Promise<void> {
    this.scheduler.stop();
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

  /** Stop the heartbeat and the broker. */
  async shutdown(): Promise<void> {
    this.scheduler.stop();
    await this.options.broker.close();
  }

  /** A snapshot of this node for /stats. */
  stats(): HubStats {
    const all: ChannelStats[] = [];
    for (const channel of this.channels.values())
      all.push({ name: channel.name, members: channel.members.size });
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
