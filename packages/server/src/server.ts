import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { CloseCode, ErrorCode, channelNameProblem } from '@switchboard/protocol';
import type { AnyChannelMap, BroadcastOf, ChannelOf, DirectOf, PayloadOf } from '@switchboard/protocol';
import type { PresenceEntry } from '@switchboard/protocol';
import { Hub } from './hub/hub.js';
import type { ConnectionInfo } from './hub/connection.js';
import { createMemoryEngine } from './engine/memory-engine.js';
import type { Engine } from './engine/engine.js';
import { IDLE_HISTORY_READS, type HistoryReadStats } from './history/history-read-pacing.js';
import { PrometheusMetrics } from './metrics/prometheus-metrics.js';
import type { Metrics } from './metrics/metrics.js';
import { Webhooks } from './webhooks/webhooks.js';
import { Tracing } from './tracing/tracing.js';
import { ProcessMonitors, createHandshake } from './server-admission.js';
import { TrustedProxies } from './transports/client-ip.js';
import { AnonymousAuthenticator } from './auth/authenticator.js';
import { ServerAdmin } from './server-admin.js';
import { Authorizer } from './auth/authorizer.js';
import { Router } from './http/router.js';
import type { Readiness } from './http/ops-routes.js';
import { addRoutes } from './http/routes.js';
import { loadDemoPage, type DemoPage } from './http/demo-page.js';
import { attachSwitchboard, closeListener, dispatchRequest, listen, listenerPort } from './http/attach.js';
import { listenerUrl } from './http/attach.js';
import { WebSocketEndpoint } from './http/websocket-endpoint.js';
import { ConnectionLimits } from './limits/connection-limits.js';
import { idleStreamTtlMs, resolveLimits, type ResolvedLimits } from './limits/resolved-limits.js';
import { systemClock, type Clock } from './util/clock.js';
import { defaultLogger } from './util/pino-logger.js';
import type { Logger } from './util/logger.js';
import { resolveDrainMs, resolveHeartbeatProofs, validateOtherOptions } from './server-options.js';
import type { ServerOptions } from './server-options.js';
import { closeArgs, exclusion, historyLimit, historyResult, serverStats, valueOf } from './server-results.js';
import { closeEngine, engineReadiness, engineTokenAuthenticator } from './server-engine.js';
import { createListener, reloadTls, type Listener } from './server-listener.js';
import type { ChannelInfo, DisconnectOptions, HistoryResult, PublishOptions } from './server-results.js';
import type { SendOptions, ServerState, ServerStats } from './server-results.js';
import type { ClusterCounts } from './nodes/node-registry.js';
import { InvalidArgumentError, ServerNotRunningError } from './errors.js';
import { resolveGuaranteedConfig } from './hub/guaranteed-config.js';
import { DeliveryTally, tallyMetrics } from './hub/delivery-stats.js';
import { resolveDeliveryStores, type DeliveryStores } from './server-stores.js';
import { DeliveryApi } from './server-delivery.js';
import type { DeadLetterEntry, DeliverOptions, DeliverResult } from './server-delivery.js';
import { queueOperations } from './hub/queue-runtime.js';
import type { EnqueueOptions, EnqueueResult } from './hub/queue-operations.js';
import type { QueueDeadLetter, QueueOperations } from './hub/queue-operations.js';
import type { JobHandler, WorkerHandle } from './hub/queue-worker.js';

/**
 * A Switchboard server: the WebSocket endpoints, the hub behind them, the HTTP API, health and metrics.
 * Create it with {@link createServer}, then `start()`. `M`, the application's channel map shared with its
 * clients, types the library API's channels and payloads (docs/typescript.md); the HTTP API stays untyped.
 */
export class SwitchboardServer<M extends AnyChannelMap = AnyChannelMap> {
  /** This node's id, the prefix of every connection id it assigns. */
  readonly nodeId: string;
  /** Signed webhooks (`webhooks` option): `deadLetters()` lists those given up on. */
  readonly webhooks: Webhooks;
  private stateValue: ServerState = 'idle';
  private readonly limits: ResolvedLimits;
  private readonly hub: Hub;
  private readonly engine: Engine;
  private readonly metrics: Metrics;
  /** Guaranteed delivery's counts for /stats (fed by the metrics calls). */
  private readonly tally = new DeliveryTally();
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly websocket: WebSocketEndpoint;
  private readonly stores: DeliveryStores; // PostgreSQL's are opened by start()
  private readonly delivery: DeliveryApi; // server-delivery.ts
  private readonly tracing: Tracing;
  private queueOps!: QueueOperations; // set by the hub's queueRuntime factory
  private readonly router = new Router();
  private readonly basePath: string;
  /** The HTTP server, its TLS certificate and its silent-socket watch (server-listener.ts). */
  private readonly listener: Listener;
  private startedAt = 0;
  private demoPage: DemoPage | null = null;
  private detachListeners: (() => void) | null = null;
  private stopping: Promise<void> | null = null;
  private readonly monitors: ProcessMonitors; // admission's loop delay, /health's checks
  private readonly admin: ServerAdmin; // the dashboard at /admin, when the `admin` option is set

  constructor(private readonly options: ServerOptions = {}) {
    this.limits = resolveLimits(options);
    validateOtherOptions(options);
    this.clock = options.clock ?? systemClock;
    const guaranteed = resolveGuaranteedConfig(options.inbox, options.queues, options.undeliveredAfterMs);
    this.logger = options.logger ?? defaultLogger();
    const admin = (this.admin = new ServerAdmin(options.admin, this.clock, this.logger));
    this.metrics = admin.metrics(tallyMetrics(options.metrics ?? new PrometheusMetrics(), this.tally));
    this.engine =
      options.engine ??
      createMemoryEngine(this.clock, {
        streamTtlMs: idleStreamTtlMs(this.limits),
        maxIdleStreams: this.limits.maxIdleStreams,
        inboxLimits: guaranteed.inbox.limits,
        queueLimits: guaranteed.queues.limits,
      });
    this.nodeId = this.engine.nodeId ?? randomBytes(4).toString('hex');
    const tokenAuthenticator = engineTokenAuthenticator(options.auth, this.engine, this.clock, this.logger);
    const authenticator = admin.authenticator(
      options.authenticator ?? tokenAuthenticator ?? new AnonymousAuthenticator(),
    );
    this.basePath = options.basePath ?? '';
    const connectionLimits = new ConnectionLimits(this.limits, this.clock.now());
    const trustedProxies = new TrustedProxies(options.trustedProxies);
    const observe = { metrics: this.metrics, logger: this.logger, clock: this.clock };
    const stores = (this.stores = resolveDeliveryStores(this.engine, guaranteed, options.postgres));
    const tracing = (this.tracing = new Tracing(this.nodeId, options.tracerProvider));
    this.hub = new Hub({
      nodeId: this.nodeId,
      tracing,
      limits: this.limits,
      heartbeatProofs: resolveHeartbeatProofs(options),
      channelRules: options.channels ?? [],
      hooks: options,
      broker: admin.hubBroker(this.engine.broker, this.nodeId),
      history: this.engine.history,
      presence: this.engine.presence,
      online: this.engine.online,
      webhooks: (this.webhooks = Webhooks.of(options, this.metrics, this.logger, this.clock)),
      ...(this.engine.sessions === undefined ? {} : { sessionStore: this.engine.sessions }),
      ...(stores.inbox === undefined ? {} : { inbox: stores.inbox }),
      ...(stores.queues === undefined ? {} : { queues: stores.queues }),
      guaranteed,
      queueRuntime: (deps) =>
        (this.queueOps = queueOperations(deps, this, this.engine.broker, this.limits)).dispatcher,
      authenticator,
      authorizer: Authorizer.of(options),
      connectionLimits,
      ...observe,
    });
    this.delivery = new DeliveryApi({
      inbox: stores.inbox ?? null,
      config: guaranteed,
      broker: this.engine.broker,
      deadLetters: this.hub.guaranteed.deadLetters,
      assertRunning: () => this.assertRunning(),
      maxMessageBytes: this.limits.maxMessageBytes,
      ...observe,
    });
    const monitors = (this.monitors = new ProcessMonitors(this.limits, options.health, this.clock));
    const host = { server: this, health: monitors.health, engine: this.engine };
    admin.attach({ ...host, view: () => this.hub.adminView(), startedAt: () => this.startedAt }, this.nodeId);
    const handshake = createHandshake(options, monitors.loopDelay, {
      accepting: () => this.stateValue === 'running',
      userAtLimit: (userId) => this.hub.userAtLimit(userId),
      ...{ authenticator, trustedProxies, connectionLimits, ...observe },
    });
    this.websocket = new WebSocketEndpoint({
      ...{ basePath: this.basePath, compression: options.compression, handshake, acceptor: this.hub },
      ...this.limits,
    });
    this.listener = createListener(options, this.limits, () => this.stop(), {
      connectionLimits,
      trustedProxies,
      ...observe,
    });
    addRoutes(this.router, {
      ...this.limits,
      apiKey: options.apiKey,
      apiInsecure: options.apiInsecure === true,
      basePath: this.basePath,
      metricsEndpoint: options.metricsEndpoint ?? true,
      demo: options.demo === true,
      ops: {
        readiness: () => this.readiness(),
        health: () => monitors.health.report(),
        stats: () => this.stats(),
        clusterCounts: () => this.clusterCounts(),
        renderMetrics: () => this.metrics.render(),
        demoPage: () => this.demoPage,
      },
      api: this,
      queues: this.queueOps,
      webhooks: this.webhooks,
      sse: { handshake, acceptor: this.hub },
      tokenAuthenticator,
      trustedProxies,
      tracing,
      admin: admin.routes(),
      ...observe,
    });
    this.metrics.setReadinessSource(() => this.readiness().ready);
    this.metrics.setHistoryReadSource(() => this.historyReads());
  }

  /** Where the server is in its lifecycle. */
  get state(): ServerState {
    return this.stateValue;
  }

  /** The HTTP server Switchboard listens on (its own, or the one it was attached to). */
  get httpServer(): HttpServer {
    return this.listener.http;
  }

  /** The bound port, once listening. */
  get port(): number {
    return listenerPort(this.listener.http);
  }

  /** The base URL for people (`http://localhost:8080` when listening on every interface). */
  get url(): string {
    return listenerUrl(this.listener.http, this.options.host, this.basePath);
  }

  /** Start serving: the broker, the heartbeat, and (unless attached) listening on the port. */
  async start(): Promise<void> {
    if (this.stateValue !== 'idle')
      throw new ServerNotRunningError(`cannot start a server that is ${this.stateValue}`);
    this.stateValue = 'starting';
    try {
      if (this.listener.tls !== null) await this.reloadTls();
      if (this.options.demo === true) this.demoPage = await loadDemoPage();
      await this.stores.ready();
      await this.hub.start();
      await this.engine.nodes?.start(() => this.hub.counts());
      const { http, ownsHttpServer } = this.listener;
      this.detachListeners = attachSwitchboard(http, this, {
        attachedAtRoot: !ownsHttpServer && this.basePath === '',
        endpoint: this.websocket,
        inFront: this.listener.silentSockets,
        logger: this.logger,
        api: this.options,
      });
      if (ownsHttpServer) await listen(http, this.options);
    } catch (error) {
      // A failed start (EADDRINUSE, a broker that cannot connect) leaves nothing running behind it.
      await this.hub.shutdown().catch(() => {});
      await closeEngine(this.engine, this.logger);
      this.detachListeners?.();
      this.detachListeners = null;
      this.stateValue = 'stopped';
      throw error;
    }
    this.startedAt = this.clock.now();
    this.monitors.start(this.startedAt);
    this.stateValue = 'running';
    await this.admin.start();
  }

  /**
   * Re-read the `tls` files (the CLI does on SIGHUP): handshakes from now on present the new certificate,
   * open connections keep theirs. Rejects with `TlsLoadError`, still serving the previous
   * certificate, when a file is missing or bad or the server has no `tls` option.
   */
  async reloadTls(): Promise<void> {
    await reloadTls(this.listener, this.logger, this.clock);
  }

  /**
   * Graceful stop: refuse new connections, close every connection with 1001 (going away), wait for them
   * at most `shutdownTimeoutMs`, then drop the rest and close the HTTP server (when it is ours).
   */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  /**
   * Drain, then stop (docs/operations.md#draining): `/ready` and new connections get 503 at once; open
   * ones are closed with 1012 and a `retry after <n> ms` hint in jittered batches over `drainMs` (default:
   * the option); the library API keeps serving meanwhile. A `stop()` during a drain resolves with it.
   */
  drain(options: { readonly drainMs?: number } = {}): Promise<void> {
    const drainMs = resolveDrainMs(options.drainMs, this.limits.drainMs);
    if (this.stopping === null && this.stateValue === 'running') {
      this.stateValue = 'draining';
      this.metrics.setDraining(true);
      this.stopping = this.hub.drain(drainMs).then(() => this.doStop());
    }
    return this.stop();
  }

  private async doStop(): Promise<void> {
    const wasRunning = this.stateValue === 'running' || this.stateValue === 'draining';
    this.stateValue = 'stopping';
    this.monitors.stop();
    this.admin.stop();
    if (wasRunning) {
      await this.hub.closeAll(CloseCode.GoingAway, 'server shutting down', this.limits.shutdownTimeoutMs);
    }
    await this.hub.shutdown();
    await closeEngine(this.engine, this.logger);
    await this.websocket.close();
    this.detachListeners?.();
    if (this.listener.ownsHttpServer) await closeListener(this.listener.http);
    this.metrics.setDraining(false);
    this.stateValue = 'stopped';
  }

  // ---------------------------------------------------------------- library API

  private assertRunning(): void {
    if (this.stateValue !== 'running' && this.stateValue !== 'draining') throw new ServerNotRunningError();
  }

  private checkChannel(channel: string): void {
    const problem = channelNameProblem(channel, this.limits.maxChannelLength);
    if (problem !== null) throw new InvalidArgumentError(ErrorCode.InvalidChannel, problem);
  }

  /** Publish to a channel on every node. Resolves with the message id (absent for ephemeral messages). */
  async publish<C extends ChannelOf<M>>(
    channel: C,
    data: PayloadOf<M, C>,
    options: PublishOptions = {},
  ): Promise<{ id?: number; duplicate?: boolean }> {
    this.assertRunning();
    this.checkChannel(channel);
    const { ephemeral = false, exclude, idempotencyKey } = options;
    const publication = await this.hub.publish(channel, data, ephemeral, exclude, idempotencyKey);
    if (publication.id === undefined) return {};
    return publication.duplicate === true ? { id: publication.id, duplicate: true } : { id: publication.id };
  }

  /** End a channel's SSE streams after its last message, then 204 (docs/protocol.md#finished-streams). */
  async completeChannel(channel: string): Promise<{ offset: number }> {
    this.assertRunning();
    this.checkChannel(channel);
    return { offset: (await this.hub.completeChannel(channel)).offset };
  }

  /** Send to every connection of a user, on every node. */
  async sendToUser(userId: string, data: DirectOf<M>, options: SendOptions = {}): Promise<void> {
    this.assertRunning();
    const json = this.hub.encode(data);
    await this.hub.send({ kind: 'user', userId, json, time: this.clock.now(), ...exclusion(options) });
  }

  /** Send to one connection, wherever it is. */
  async sendToConnection(connectionId: string, data: DirectOf<M>): Promise<void> {
    this.assertRunning();
    const json = this.hub.encode(data);
    await this.hub.send({ kind: 'connection', connectionId, json, time: this.clock.now() });
  }

  /** Send to every connection on every node. */
  async broadcast(data: BroadcastOf<M>, options: SendOptions = {}): Promise<void> {
    this.assertRunning();
    const json = this.hub.encode(data);
    await this.hub.send({ kind: 'broadcast', json, time: this.clock.now(), ...exclusion(options) });
  }

  /**
   * Store a message in a user's acknowledged inbox and push it to each of the user's devices until it is
   * acked (docs/delivery.md). Resolves once the store holds it. Throws InboxFullError, or
   * InvalidArgumentError (`message_too_large` over `maxMessageBytes`, `bad_request`).
   */
  async deliver(userId: string, data: DirectOf<M>, options?: DeliverOptions): Promise<DeliverResult> {
    return this.tracing.deliver(() => this.delivery.deliver(userId, data, options));
  }

  /** A user's dead letters, oldest first: up to `limit` (default 100, at most 1000). */
  async deadLetters(userId: string, options?: { readonly limit?: number }): Promise<DeadLetterEntry[]> {
    return this.delivery.deadLetters(userId, options);
  }

  /** Put a dead letter back in the user's inbox as a new message; null when there is no such dead letter. */
  async redeliverDeadLetter(userId: string, id: string): Promise<{ id: string } | null> {
    return this.delivery.redeliverDeadLetter(userId, id);
  }

  /** Delete a dead letter; false when there was none. */
  async deleteDeadLetter(userId: string, id: string): Promise<boolean> {
    return this.delivery.deleteDeadLetter(userId, id);
  }

  /** Store a job in a work queue, then wake its consumers on every node (docs/delivery.md#work-queues). */
  async enqueue(queue: string, data: unknown, options?: EnqueueOptions): Promise<EnqueueResult> {
    return this.tracing.enqueue(queue, () => this.queueOps.enqueue(queue, data, options));
  }

  /** Run `handler` for the queue's jobs on this node: resolving acks a job, throwing nacks it. */
  consume(queue: string, handler: JobHandler, options?: { readonly prefetch?: number }): WorkerHandle {
    return this.queueOps.consume(queue, handler, options);
  }

  /** A queue's dead letters, oldest first: up to `limit` (default 100, at most 1000). */
  async queueDeadLetters(queue: string, options: { limit?: number } = {}): Promise<QueueDeadLetter[]> {
    return this.queueOps.deadLetters(queue, options.limit);
  }

  /** Put a dead letter back at the end of its queue; null when there is no such dead letter. */
  async redeliverQueueDeadLetter(queue: string, id: string): Promise<{ id: string } | null> {
    return this.queueOps.redeliverDeadLetter(queue, id);
  }

  /** Delete a queue's dead letter; false when there was none. */
  async deleteQueueDeadLetter(queue: string, id: string): Promise<boolean> {
    return this.queueOps.deleteDeadLetter(queue, id);
  }

  /** Close every connection of a user (default code 4502: kicked, do not reconnect). */
  async disconnectUser(userId: string, options: DisconnectOptions = {}): Promise<void> {
    this.assertRunning();
    await this.hub.send({ kind: 'disconnect-user', userId, ...closeArgs(options) });
  }

  /** Close one connection (default code 4502: kicked, do not reconnect). */
  async disconnectConnection(connectionId: string, options: DisconnectOptions = {}): Promise<void> {
    this.assertRunning();
    await this.hub.send({ kind: 'disconnect-connection', connectionId, ...closeArgs(options) });
  }

  /** A connection on this node. */
  getConnection(connectionId: string): ConnectionInfo | undefined {
    return this.hub.connection(connectionId);
  }

  /** A user's connections on this node. */
  getUserConnections(userId: string): ConnectionInfo[] {
    return this.hub.userConnections(userId);
  }

  /** Members on this node and the last message id of a channel. */
  async channelInfo(channel: string): Promise<ChannelInfo> {
    return { channel, members: this.hub.channelMembers(channel), ...(await this.hub.position(channel)) };
  }

  /** A channel's retained history: up to `limit` (default 100, at most 1000) messages after `since`. */
  async history<C extends ChannelOf<M>>(
    channel: C,
    options: { readonly since?: number; readonly limit?: number } = {},
  ): Promise<HistoryResult<PayloadOf<M, C>>> {
    this.assertRunning();
    this.checkChannel(channel);
    const page = await this.hub.history(channel, options.since, historyLimit(options.limit));
    return historyResult<PayloadOf<M, C>>(channel, page);
  }

  /** Who is in a channel with presence enabled (every node). */
  async presence(channel: string): Promise<readonly PresenceEntry[]> {
    this.assertRunning();
    return valueOf(await this.hub.presenceOf(channel));
  }

  /** How many users and connections are in a channel with presence enabled. */
  async presenceStats(channel: string): Promise<{ users: number; connections: number }> {
    this.assertRunning();
    return valueOf(await this.hub.presenceStats(channel));
  }

  /** Whether this server should get traffic: running, and its engine (Redis) can serve (`/ready`, else 503). */
  readiness(): Readiness {
    return engineReadiness(this.stateValue, this.engine);
  }

  /** Counts across every node (the engine's node registry); this node's own when the engine has none. */
  async clusterCounts(): Promise<ClusterCounts> {
    if (this.engine.nodes === undefined) return { nodes: 1, ...this.hub.counts() };
    return this.engine.nodes.counts();
  }

  /** The /stats document. */
  stats(): ServerStats {
    const [reads, delivery] = [this.historyReads(), this.hub.guaranteed.stats(this.tally)];
    return serverStats(this.hub.stats(), this.stateValue, this.startedAt, this.clock.now(), reads, delivery);
  }

  /** The engine's paced history reads; an engine that does not pace them (memory) has none waiting. */
  private historyReads(): HistoryReadStats {
    return this.engine.historyReads?.() ?? IDLE_HISTORY_READS;
  }

  // ---------------------------------------------------------------- HTTP

  /**
   * Answer a request if its path is one of Switchboard's; returns false otherwise, so a framework can
   * mount Switchboard as a fallback-aware handler.
   */
  handleRequest(req: IncomingMessage, res: ServerResponse): boolean {
    return dispatchRequest(this.router, this.basePath, this.logger, req, res);
  }

  /** Handle an upgrade if its path is one of Switchboard's; returns false otherwise. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    return this.websocket.handleUpgrade(req, socket, head);
  }
}

/**
 * Create a Switchboard server; options are validated here and throw {@link InvalidOptionError}. Give the
 * application's channel map to type it: `createServer<App>({ ... })`.
 */
export function createServer<M extends AnyChannelMap = AnyChannelMap>(
  options: ServerOptions<M> = {},
): SwitchboardServer<M> {
  return new SwitchboardServer<M>(options);
}
