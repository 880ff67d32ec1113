/**
 * The hub: composes the parts that serve connections (lifecycle, inbound frames, credentials, sessions,
 * channels, delivery, liveness, envelope routing) and gives the server its one entry point to them.
 * Single-threaded by design: every registry change and every fan-out runs to completion without an await
 * in between, so a fan-out never sees a half-registered connection.
 */
import { CloseCode } from '@switchboard/protocol';
import type { StreamPosition } from '@switchboard/protocol';
import type { Broker, BrokerHandler, Envelope, Exclusion, Publication } from '../broker/broker.js';
import type { HttpFramesEnvelope } from '../broker/broker.js';
import type { HistoryPage, HistoryStore } from '../history/history-store.js';
import type { PresenceStore } from '../presence/presence-store.js';
import type { SessionStore } from '../sessions/session-store.js';
import type { InboxStore } from '../inbox/inbox-store.js';
import type { QueueStore } from '../inbox/queue-store.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import type { ResolvedLimits } from '../limits/resolved-limits.js';
import type { ConnectionLimits } from '../limits/connection-limits.js';
import type { Authenticator, Principal } from '../auth/authenticator.js';
import type { Authorizer } from '../auth/authorizer.js';
import type { Admitted } from '../transports/handshake.js';
import type { ConnectionHandle, TransportSocket } from '../transports/transport.js';
import type { AcceptOptions, JoinDecision } from './accept-options.js';
import type { ChannelRule } from './channel.js';
import { ChannelQueries } from './channel-queries.js';
import { ChannelRegistry } from './channel-registry.js';
import { HubCommands } from './command-context.js';
import type { ConnectionInfo } from './connection.js';
import type { HandleTarget } from './connection-handle.js';
import { ConnectionRegistry } from './connections.js';
import { Credentials } from './credentials.js';
import { Delivery, type Closer } from './delivery.js';
import { EnvelopeRouter } from './envelope-router.js';
import { ErrorReplies } from './error-replies.js';
import type { ServerHooks } from './hooks.js';
import { hubStats } from './hub-stats.js';
import { RecentErrors } from './recent-errors.js';
import type { AdminView, HubCounters, HubStats } from './hub-stats.js';
import { transportProof, type HeartbeatProofs } from './heartbeat-proof.js';
import { Inbound, unsupportedReason } from './inbound.js';
import { ConnectionLifecycle } from './lifecycle.js';
import { Liveness } from './liveness.js';
import { OfflineHooks, type OfflineHookOptions } from './offline-hooks.js';
import type { WireFormat } from './outbound.js';
import { PresenceTracker } from './presence-tracker.js';
import { Publisher } from './publisher.js';
import { SessionResume } from './session-resume.js';
import { SseCompletions } from './sse-completions.js';
import { GuaranteedParts } from './guaranteed-parts.js';
import type { QueueRuntimeFactory } from './guaranteed-parts.js';
import type { GuaranteedConfig } from './guaranteed-config.js';
import { authorizeJoin, authorizeStream } from './join-authorization.js';
import type { StreamDecision } from './join-authorization.js';
import { finishCompleted } from './sse-handler.js';
import type { Tracing } from '../tracing/tracing.js';

export type { Outcome } from './channel-registry.js';
export type { HubStats, ChannelStats, HubCounters } from './hub-stats.js';
export type { AcceptOptions, JoinDecision } from './accept-options.js';
export type { StreamDecision } from './join-authorization.js';

/** Everything the hub needs, passed in by the server. */
export interface HubOptions extends OfflineHookOptions {
  readonly nodeId: string;
  /** Publish and fan-out spans (OpenTelemetry). */
  readonly tracing: Tracing;
  readonly limits: ResolvedLimits;
  /** What proves a connection alive, per dialect (`v1HeartbeatProof`, `roomHeartbeatProof`). */
  readonly heartbeatProofs: HeartbeatProofs;
  readonly channelRules: readonly ChannelRule[];
  readonly hooks: ServerHooks;
  readonly broker: Broker;
  readonly history: HistoryStore;
  readonly presence: PresenceStore;
  /** Where away sessions wait when every node must be able to resume them (the Redis engine). */
  readonly sessionStore?: SessionStore;
  /** Users' acknowledged inboxes; absent: the `inbox` command answers `not_available`. */
  readonly inbox?: InboxStore;
  /** Work queues; absent (or no `queueRuntime`): `consume` answers `not_available`. */
  readonly queues?: QueueStore;
  /** Guaranteed delivery's resolved options (hub/guaranteed-config.ts). */
  readonly guaranteed: GuaranteedConfig;
  /** Builds the queue runtime (hub/queue-dispatcher.ts) when `queues` is set. */
  readonly queueRuntime?: QueueRuntimeFactory;
  readonly authenticator: Authenticator;
  readonly authorizer: Authorizer;
  /** Open-connection counts per address and per node; the hub reports opens and closes. */
  readonly connectionLimits: ConnectionLimits;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly clock: Clock;
}

/** This node's connections and channels, as the server sees them. */
export class Hub {
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
  private readonly connections: ConnectionRegistry;
  private readonly channels: ChannelRegistry;
  private readonly queries: ChannelQueries;
  private readonly publisher: Publisher;
  private httpFrames: ((envelope: HttpFramesEnvelope) => void) | undefined;
  private readonly presence: PresenceTracker;
  private readonly sessions: SessionResume;
  private readonly credentials: Credentials;
  private readonly liveness: Liveness;
  private readonly lifecycle: ConnectionLifecycle;
  private readonly commands: HubCommands;
  /** The inbox and queue runtimes, the commands routed to them, their dead letters. */
  readonly guaranteed: GuaranteedParts;
  private readonly offline: OfflineHooks;
  /** The last errors sent to clients, for /stats. */
  private readonly recentErrors = new RecentErrors();
  /** Completed channels: their SSE streams end after their last message. */
  private readonly completions = new SseCompletions();
  /** What the broker delivers to: publications to the channels, envelopes to their targets. */
  private readonly brokerHandler: BrokerHandler;

  constructor(private readonly options: HubOptions) {
    const { limits, clock, metrics, logger, broker } = options;
    const counters = this.counters;
    // Every part that closes a connection closes it through the lifecycle (built last: it uses them all).
    const close: Closer = (connection, code, reason) => this.lifecycle.close(connection, code, reason);
    this.offline = OfflineHooks.of(options, limits.presenceGraceMs);
    const connections = new ConnectionRegistry(options.nodeId, this.offline.watching(broker), clock);
    const proof = transportProof(options.heartbeatProofs);
    const delivery = new Delivery({
      maxBufferedBytes: limits.maxBufferedBytes,
      slowConsumerTimeoutMs: limits.slowConsumerTimeoutMs,
      counters,
      metrics,
      clock,
      close,
    });
    const errors = new ErrorReplies({
      errorBurst: limits.errorBurst,
      errorRefillPerSecond: limits.errorRefillPerSecond,
      delivery,
      close,
      counters,
      metrics,
      logger,
      clock,
      recent: this.recentErrors,
    });
    const guaranteed = new GuaranteedParts({
      nodeId: options.nodeId,
      inbox: options.inbox,
      queues: options.queues,
      config: options.guaranteed,
      queueRuntime: options.queueRuntime,
      delivery,
      errors,
      authorizer: options.authorizer,
      hooks: options.hooks,
      webhooks: options.webhooks,
      metrics,
      logger,
      clock,
    });
    this.guaranteed = guaranteed;
    const router = new EnvelopeRouter({
      connections,
      members: (channel) => this.channels.memberConnections(channel),
      delivery,
      close,
      broker,
      httpFrames: (envelope) => this.httpFrames?.(envelope),
      inboxNotified: (userId) => guaranteed.notifyInbox(userId),
      queueNotified: (queue) => guaranteed.notifyQueue(queue),
      logger,
      clock,
    });
    const announce = router.announce.bind(router);
    this.presence = new PresenceTracker(options.presence, limits.presenceGraceMs, clock, announce, logger);
    // A crashed node's members, expired by the store, leave like anyone else.
    options.presence.onExpired?.((channel, member) => announce('leave', channel, member));
    const channels = new ChannelRegistry({
      limits,
      rules: options.channelRules,
      delivery,
      close,
      broker,
      history: options.history,
      presence: this.presence,
      counters,
      metrics,
      logger,
      clock,
      tracing: options.tracing,
    });
    const settings = channels.settings.bind(channels);
    this.queries = new ChannelQueries(options.history, options.presence, settings);
    this.publisher = new Publisher({ broker, settings, counters, metrics, tracing: options.tracing });
    this.liveness = new Liveness({
      heartbeatIntervalMs: limits.heartbeatIntervalMs,
      heartbeatTimeoutMs: limits.heartbeatTimeoutMs,
      transportProof: proof,
      delivery,
      close,
      metrics,
      clock,
    });
    this.credentials = new Credentials({
      authTimeoutMs: limits.authTimeoutMs,
      tokenExpiryGraceMs: limits.tokenExpiryGraceMs,
      authenticator: options.authenticator,
      delivery,
      errors,
      close,
      userAtLimit: (userId) => this.userAtLimit(userId),
      authenticated: (connection, principal, accept) => this.lifecycle.setUp(connection, principal, accept),
      metrics,
      clock,
    });
    this.sessions = new SessionResume({
      sessionGraceMs: limits.sessionGraceMs,
      heartbeatIntervalMs: limits.heartbeatIntervalMs,
      heartbeatTimeoutMs: limits.heartbeatTimeoutMs,
      store: options.sessionStore,
      channels,
      authorizer: options.authorizer,
      delivery,
      close,
      connected: (connection) => this.lifecycle.connected(connection),
      counters,
      logger,
      clock,
    });
    const commands = new HubCommands({
      maxChannelLength: limits.maxChannelLength,
      delivery,
      errors,
      close,
      answered: (connection) => this.lifecycle.answered(connection),
      authorizer: options.authorizer,
      channels,
      queries: this.queries,
      publisher: this.publisher,
      credentials: this.credentials,
      hooks: options.hooks,
      completions: this.completions,
      guaranteed: guaranteed.commands,
      logger,
    });
    this.commands = commands;
    const inbound = new Inbound({
      limits,
      transportProof: proof,
      commands,
      credentials: this.credentials,
      errors,
      delivery,
      closeWhenAnswered: (connection, code, reason) =>
        this.lifecycle.closeWhenAnswered(connection, code, reason),
      counters,
      metrics,
      clock,
    });
    const handleTarget: HandleTarget = {
      frame: (connection, frame) => inbound.receive(connection, frame),
      unsupported: (connection) =>
        close(connection, CloseCode.UnsupportedData, unsupportedReason(connection)),
      transportPing: (connection, bytes) => inbound.ping(connection, bytes),
      transportPong: (connection, bytes) => inbound.pong(connection, bytes),
      // The transport has already sent its close frame; this removes the connection now, not once the
      // transport reports the end, and counts and logs it under the code that was sent.
      invalid: (connection, code, reason) => close(connection, code, reason),
      closed: (connection, code, reason) => this.lifecycle.transportClosed(connection, code, reason),
    };
    this.lifecycle = new ConnectionLifecycle({
      connections,
      channels,
      sessions: this.sessions,
      credentials: this.credentials,
      liveness: this.liveness,
      commands,
      guaranteed: guaranteed.commands,
      handleTarget,
      hooks: options.hooks,
      connectionLimits: options.connectionLimits,
      counters,
      metrics,
      logger,
      clock,
    });
    this.connections = connections;
    this.channels = channels;
    this.brokerHandler = {
      onPublication: (publication) => channels.onPublication(publication),
      onEnvelope: (envelope) => router.deliver(envelope),
      onReconnected: () => {
        channels.verifyAll();
        guaranteed.resync();
      },
    };
    metrics.setGaugeSource(() => this.counts());
  }

  /** Start the broker, the heartbeat and the grace-period sweepers. */
  async start(): Promise<void> {
    await this.options.broker.start(this.brokerHandler);
    this.liveness.start();
    this.sessions.start();
    this.presence.start();
    this.credentials.start();
    this.guaranteed.start();
    await this.offline.start();
  }

  // ---------------------------------------------------------------- connections

  /** Register a connection a transport opened for what the handshake admitted; returns its handle. */
  accept(socket: TransportSocket, format: WireFormat, admitted: Admitted<AcceptOptions>): ConnectionHandle {
    return this.lifecycle.accept(socket, format, admitted);
  }

  /**
   * Whether `principal` may join `room` (the room dialect's `subscribe`), decided before the upgrade. The
   * authorize hook sees the connection as it will be: the id is reserved here, and the connection opens
   * under it. Rejects when the hook throws.
   */
  authorizeJoin(principal: Principal, room: string): Promise<JoinDecision> {
    return authorizeJoin(this.options.authorizer, () => this.connections.reserveId(), principal, room);
  }

  /** {@link authorizeJoin} for an SSE stream's channels, under one reserved id (`denied`: the first refused). */
  authorizeStream(principal: Principal, channels: readonly string[]): Promise<StreamDecision> {
    return authorizeStream(this.options.authorizer, () => this.connections.reserveId(), principal, channels);
  }

  /** Whether a user already holds `maxConnectionsPerUser` connections on this node. */
  userAtLimit(userId: string): boolean {
    const max = this.options.limits.maxConnectionsPerUser;
    return max > 0 && this.connections.userConnections(userId) >= max;
  }

  /** Look up an open connection. */
  connection(id: string): ConnectionInfo | undefined {
    return this.connections.get(id);
  }

  /** Open connections of a user on this node. */
  userConnections(userId: string): ConnectionInfo[] {
    return this.connections.listUser(userId);
  }

  /** What the admin dashboard reads (server-admin.ts): connections, channels, node-wide delivery activity. */
  adminView(): AdminView {
    const { connections, channels } = this;
    return { connections: connections.all(), channels: () => channels.list(), activity: channels.activity };
  }

  /** This node's connection, distinct user and channel counts (the node registry's report). */
  counts(): { connections: number; users: number; channels: number } {
    return {
      connections: this.connections.size,
      users: this.connections.userCount,
      channels: this.channels.size,
    };
  }

  // ---------------------------------------------------------------- channels and delivery

  /** Publish to a channel on every node; resolves with the publication (its `id` is the offset). */
  publish(
    channel: string,
    data: unknown,
    ephemeral: boolean,
    exclude?: Exclusion,
    idempotencyKey?: string,
  ): Promise<Publication> {
    return this.publisher.publish(channel, data, ephemeral, exclude, idempotencyKey);
  }

  /** Encode a payload for a targeted send; throws InvalidArgumentError when it cannot be delivered. */
  encode(data: unknown): string {
    return this.publisher.encode(data);
  }

  /** Route an envelope through the broker to whichever node holds its target. */
  send(envelope: Envelope): Promise<void> {
    return this.publisher.send(envelope);
  }

  /** This node's id (connection ids start with it). */
  get nodeId(): string {
    return this.options.nodeId;
  }

  /** Where frames POSTed on other nodes for this node's HTTP connections go (the HTTP endpoint). */
  onHttpFrames(handler: (envelope: HttpFramesEnvelope) => void): void {
    this.httpFrames = handler;
  }

  /**
   * Complete a channel for SSE streams (node-local): streams that have had its last message get `event:
   * done` and end once all their channels are done; a reconnect from the end gets 204. Resolves with
   * where the channel ended.
   */
  async completeChannel(channel: string): Promise<StreamPosition> {
    const end = await this.queries.position(channel);
    this.completions.complete(channel, end);
    for (const connection of [...this.channels.memberConnections(channel)]) {
      // A stream still joining checks for itself once its replay is written.
      if (connection.sse !== null && connection.recovering?.has(channel) !== true)
        finishCompleted(this.commands, connection);
    }
    return end;
  }

  /** Whether an SSE stream of `channels` resuming from `lastEventId` has nothing left (answered 204). */
  streamFinished(channels: readonly string[], lastEventId: string | undefined): boolean {
    return this.completions.finished(channels, lastEventId);
  }

  /** Members of a channel on this node. */
  channelMembers(name: string): number {
    return this.channels.members(name);
  }

  /** The current position of a channel's stream. */
  position(channel: string): Promise<StreamPosition> {
    return this.queries.position(channel);
  }

  /** A channel's retained history. */
  history(channel: string, since: number | undefined, limit: number): Promise<HistoryPage> {
    return this.queries.readHistory(channel, since, limit);
  }

  /** Presence in a channel. */
  presenceOf(channel: string): ReturnType<ChannelQueries['presenceOf']> {
    return this.queries.presenceOf(channel);
  }

  /** Presence counts of a channel. */
  presenceStats(channel: string): ReturnType<ChannelQueries['presenceStats']> {
    return this.queries.presenceStats(channel);
  }

  // ---------------------------------------------------------------- lifecycle and stats

  /** Close every connection with `code`, wait for their transports at most `timeoutMs`, then drop the rest. */
  closeAll(code: number, reason: string, timeoutMs: number): Promise<void> {
    return this.lifecycle.closeAll(code, reason, timeoutMs);
  }

  /** Close every connection with 1012 and a reconnect hint in jittered batches over `drainMs` (lifecycle.ts). */
  drain(drainMs: number): Promise<void> {
    return this.lifecycle.drainAll(drainMs);
  }

  /** Stop the timers and the stores. Pending presence departures are announced now. */
  async shutdown(): Promise<void> {
    this.liveness.stop();
    this.sessions.stop();
    this.credentials.stop();
    this.presence.stop();
    await this.guaranteed.stop();
    // Departures first, while the broker can still announce them; then the presence store withdraws
    // this node's entries, and only then does the broker close (a shared store needs its connection).
    await this.presence.flush();
    await this.options.presence.close();
    await this.offline.stop();
    await this.options.broker.close();
    await this.options.history.close();
  }

  /** A snapshot of this node for /stats. */
  stats(): HubStats {
    return hubStats({
      nodeId: this.options.nodeId,
      limits: this.options.limits,
      counters: this.counters,
      connections: this.connections,
      channels: this.channels.list(),
      streams: this.options.history.streamCount?.() ?? null,
      detachedSessions: this.sessions.detachedCount,
      liveness: this.liveness,
      recentErrors: this.recentErrors,
      now: this.options.clock.now(),
    });
  }
}
