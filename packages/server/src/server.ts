import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { randomBytes } from 'node:crypto';
import {
  CloseCode,
  DEFAULT_HISTORY_LIMIT,
  ErrorCode,
  MAX_HISTORY_LIMIT,
  channelNameProblem,
} from '@switchboard/protocol';
import type { AnyChannelMap, BroadcastOf, ChannelOf, DirectOf, PayloadOf } from '@switchboard/protocol';
import type { PresenceEntry } from '@switchboard/protocol';
import { Hub } from './hub/hub.js';
import type { Outcome } from './hub/hub.js';
import type { ConnectionInfo } from './hub/connection.js';
import { createMemoryEngine } from './engine/memory-engine.js';
import type { Engine } from './engine/engine.js';
import type { HistoryPage } from './history/history-store.js';
import { IDLE_HISTORY_READS, type HistoryReadStats } from './history/history-read-pacing.js';
import { PrometheusMetrics } from './metrics/prometheus-metrics.js';
import type { Metrics } from './metrics/metrics.js';
import { Webhooks } from './webhooks/webhooks.js';
import { Handshake } from './transports/handshake.js';
import { OriginPolicy } from './transports/origin.js';
import { TrustedProxies } from './transports/client-ip.js';
import { AnonymousAuthenticator } from './auth/authenticator.js';
import type { Authenticator } from './auth/authenticator.js';
import { TokenAuthenticator } from './auth/token-authenticator.js';
import { Authorizer } from './auth/authorizer.js';
import { Router } from './http/router.js';
import type { Readiness } from './http/ops-routes.js';
import { addRoutes } from './http/routes.js';
import { loadDemoPage, type DemoPage } from './http/demo-page.js';
import { attachSwitchboard, closeListener, dispatchRequest, listen } from './http/attach.js';
import { listenerPort, listenerUrl } from './http/attach.js';
import { hostServer } from './http/host-server.js';
import { WebSocketEndpoint } from './http/websocket-endpoint.js';
import { httpServerOptions } from './http/http-deadlines.js';
import { guardOwnServer, type SilentSockets } from './http/silent-sockets.js';
import { TlsCertificate } from './http/tls.js';
import { ConnectionLimits } from './limits/connection-limits.js';
import { idleStreamTtlMs, resolveLimits } from './limits/resolved-limits.js';
import type { ResolvedLimits } from './limits/resolved-limits.js';
import { systemClock, type Clock } from './util/clock.js';
import { defaultLogger } from './util/pino-logger.js';
import type { Logger } from './util/logger.js';
import { closeArgs, exclusion, resolveHeartbeatProofs, validateOtherOptions } from './server-options.js';
import type {
  ChannelInfo,
  DisconnectOptions,
  HistoryResult,
  PublishOptions,
  SendOptions,
  ServerOptions,
  ServerState,
  ServerStats,
} from './server-options.js';
import type { ClusterCounts } from './nodes/node-registry.js';
import { InvalidArgumentError, ServerNotRunningError, TlsLoadError } from './errors.js';

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
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly websocket: WebSocketEndpoint;
  private readonly handshake: Handshake;
  private readonly router = new Router();
  private readonly basePath: string;
  private readonly ownsHttpServer: boolean;
  private readonly http: HttpServer;
  private readonly tls: TlsCertificate | null;
  /** The deadline and per-address count of sockets that have not spoken yet (own server only). */
  private readonly silentSockets: SilentSockets | null;
  private startedAt = 0;
  private demoPage: DemoPage | null = null;
  private detachListeners: (() => void) | null = null;
  private stopping: Promise<void> | null = null;

  constructor(private readonly options: ServerOptions = {}) {
    this.limits = resolveLimits(options);
    validateOtherOptions(options);
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? defaultLogger();
    this.metrics = options.metrics ?? new PrometheusMetrics();
    this.engine =
      options.engine ??
      createMemoryEngine(this.clock, {
        streamTtlMs: idleStreamTtlMs(this.limits),
        maxIdleStreams: this.limits.maxIdleStreams,
      });
    this.nodeId = this.engine.nodeId ?? randomBytes(4).toString('hex');
    // Tickets minted on one node must open connections on any: a shared engine's store wins over the
    // in-memory default (an explicit auth.ticketStore still wins over both).
    const auth =
      options.auth !== undefined &&
      options.auth.ticketStore === undefined &&
      this.engine.tickets !== undefined
        ? { ...options.auth, ticketStore: this.engine.tickets }
        : options.auth;
    const tokenAuthenticator =
      auth === undefined ? null : new TokenAuthenticator(auth, { clock: this.clock, logger: this.logger });
    const authenticator: Authenticator =
      options.authenticator ?? tokenAuthenticator ?? new AnonymousAuthenticator();
    this.basePath = options.basePath ?? '';
    const connectionLimits = new ConnectionLimits(this.limits, this.clock.now());
    const trustedProxies = new TrustedProxies(options.trustedProxies);
    this.hub = new Hub({
      nodeId: this.nodeId,
      limits: this.limits,
      heartbeatProofs: resolveHeartbeatProofs(options),
      channelRules: options.channels ?? [],
      hooks: options,
      broker: this.engine.broker,
      history: this.engine.history,
      presence: this.engine.presence,
      online: this.engine.online,
      webhooks: (this.webhooks = Webhooks.of(options, this.metrics, this.logger, this.clock)),
      ...(this.engine.sessions === undefined ? {} : { sessionStore: this.engine.sessions }),
      authenticator,
      authorizer: Authorizer.of(options),
      connectionLimits,
      metrics: this.metrics,
      logger: this.logger,
      clock: this.clock,
    });
    this.handshake = new Handshake({
      host: {
        accepting: () => this.stateValue === 'running',
        userAtLimit: (userId) => this.hub.userAtLimit(userId),
      },
      authenticator,
      origins: new OriginPolicy(options.allowedOrigins, options.requireOrigin ?? false),
      trustedProxies,
      connectionLimits,
      metrics: this.metrics,
      logger: this.logger,
      clock: this.clock,
    });
    this.websocket = new WebSocketEndpoint({
      basePath: this.basePath,
      maxChannelLength: this.limits.maxChannelLength,
      maxMessageBytes: this.limits.maxMessageBytes,
      handshake: this.handshake,
      acceptor: this.hub,
    });
    this.ownsHttpServer = options.server === undefined;
    this.tls =
      options.tls === undefined
        ? null
        : new TlsCertificate(options.tls, httpServerOptions(this.limits), options.http2 === true);
    this.http =
      hostServer(options.server, () => this.stop()) ??
      this.tls?.server ??
      createHttpServer(httpServerOptions(this.limits));
    // Deadlines and the silent-socket watch on a server of our own only: an attached server's sockets,
    // deadlines and limits are its application's.
    this.silentSockets = this.ownsHttpServer
      ? guardOwnServer(this.http, this.limits, {
          connectionLimits,
          trustedProxies,
          metrics: this.metrics,
          clock: this.clock,
        })
      : null;
    addRoutes(this.router, {
      ...this.limits,
      apiKey: options.apiKey,
      apiInsecure: options.apiInsecure === true,
      basePath: this.basePath,
      metricsEndpoint: options.metricsEndpoint ?? true,
      demo: options.demo === true,
      ops: {
        readiness: () => this.readiness(),
        stats: () => this.stats(),
        clusterCounts: () => this.clusterCounts(),
        renderMetrics: () => this.metrics.render(),
        demoPage: () => this.demoPage,
      },
      api: this,
      sse: { handshake: this.handshake, acceptor: this.hub },
      tokenAuthenticator,
      trustedProxies,
      metrics: this.metrics,
      logger: this.logger,
      clock: this.clock,
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
    return this.http;
  }

  /** The bound port, once listening. */
  get port(): number {
    return listenerPort(this.http);
  }

  /** The base URL for people (`http://localhost:8080` when listening on every interface). */
  get url(): string {
    return listenerUrl(this.http, this.options.host, this.basePath);
  }

  /** Start serving: the broker, the heartbeat, and (unless attached) listening on the port. */
  async start(): Promise<void> {
    if (this.stateValue !== 'idle')
      throw new ServerNotRunningError(`cannot start a server that is ${this.stateValue}`);
    this.stateValue = 'starting';
    try {
      if (this.tls !== null) await this.reloadTls();
      if (this.options.demo === true) this.demoPage = await loadDemoPage();
      await this.hub.start();
      await this.engine.nodes?.start(() => this.hub.counts());
      this.detachListeners = attachSwitchboard(this.http, this, {
        attachedAtRoot: !this.ownsHttpServer && this.basePath === '',
        endpoint: this.websocket,
        inFront: this.silentSockets,
        logger: this.logger,
        api: this.options,
      });
      if (this.ownsHttpServer) await listen(this.http, this.options.port ?? 8080, this.options.host);
    } catch (error) {
      // A failed start (EADDRINUSE, a broker that cannot connect) leaves nothing running behind it.
      await this.hub.shutdown().catch(() => {});
      await this.closeEngine();
      this.detachListeners?.();
      this.detachListeners = null;
      this.stateValue = 'stopped';
      throw error;
    }
    this.startedAt = this.clock.now();
    this.stateValue = 'running';
  }

  /**
   * Re-read the `tls` files (the CLI does on SIGHUP): handshakes from now on present the new certificate,
   * open connections keep theirs. Rejects with {@link TlsLoadError}, still serving the previous
   * certificate, when a file is missing or bad or the server has no `tls` option.
   */
  async reloadTls(): Promise<void> {
    if (this.tls === null)
      throw new TlsLoadError('no tls option: this server has no certificate files to reload');
    const loaded = await this.tls.reload();
    // An expired certificate is still installed (refusing it would not bring a valid one back), but it
    // is the classic renewal incident, so it is logged louder.
    if (Date.parse(loaded.validTo) <= this.clock.now())
      this.logger.warn(loaded, 'TLS certificate loaded, but it has expired');
    else this.logger.info(loaded, 'TLS certificate loaded');
  }

  /**
   * Graceful stop: refuse new connections, close every connection with 1001 (going away), wait for them
   * at most `shutdownTimeoutMs`, then drop the rest and close the HTTP server (when it is ours).
   */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    const wasRunning = this.stateValue === 'running';
    this.stateValue = 'stopping';
    if (wasRunning) {
      await this.hub.closeAll(CloseCode.GoingAway, 'server shutting down', this.limits.shutdownTimeoutMs);
    }
    await this.hub.shutdown();
    await this.closeEngine();
    await this.websocket.close();
    this.detachListeners?.();
    if (this.ownsHttpServer) await closeListener(this.http);
    this.stateValue = 'stopped';
  }

  // ---------------------------------------------------------------- library API

  private assertRunning(): void {
    if (this.stateValue !== 'running') throw new ServerNotRunningError();
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
    return {
      channel,
      members: this.hub.channelMembers(channel),
      ...(await this.hub.position(channel)),
    };
  }

  /** A channel's retained history: up to `limit` (default 100, at most 1000) messages after `since`. */
  async history<C extends ChannelOf<M>>(
    channel: C,
    options: { readonly since?: number; readonly limit?: number } = {},
  ): Promise<HistoryResult<PayloadOf<M, C>>> {
    this.assertRunning();
    this.checkChannel(channel);
    const limit = options.limit ?? DEFAULT_HISTORY_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_HISTORY_LIMIT)
      throw new InvalidArgumentError(
        ErrorCode.BadRequest,
        `limit must be an integer from 1 to ${MAX_HISTORY_LIMIT}`,
      );
    const page: HistoryPage = await this.hub.history(channel, options.since, limit);
    return {
      channel,
      offset: page.position.offset,
      epoch: page.position.epoch,
      messages: page.messages.map((m) => ({
        id: m.offset,
        data: JSON.parse(m.json) as PayloadOf<M, C>,
        time: m.time,
      })),
      complete: page.complete,
    };
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

  /** Withdraw this node from the shared registry and release the engine's connections; never throws. */
  private async closeEngine(): Promise<void> {
    await this.engine.nodes?.close().catch((error: unknown) => {
      this.logger.warn({ err: error }, 'leaving the node registry failed');
    });
    await this.engine.close?.().catch((error: unknown) => {
      this.logger.warn({ err: error }, 'closing the engine failed');
    });
  }

  /**
   * Whether this server should get traffic: running, and its engine can serve (Redis reachable, pub/sub
   * delivering). `/ready` answers 503 with the reason while it cannot; `/health` stays 200.
   */
  readiness(): Readiness {
    if (this.stateValue !== 'running') return { ready: false, status: this.stateValue };
    const health = this.engine.health?.();
    if (health === undefined || health.ready) return { ready: true, status: 'ready' };
    return {
      ready: false,
      status: 'not_ready',
      ...(health.reason === undefined ? {} : { reason: health.reason }),
      ...(health.details === undefined ? {} : { details: health.details }),
    };
  }

  /**
   * Counts across every node of the deployment (the engine's node registry); this node's own figures when
   * the engine has no registry (one node is the whole deployment).
   */
  async clusterCounts(): Promise<ClusterCounts> {
    if (this.engine.nodes === undefined) return { nodes: 1, ...this.hub.counts() };
    return this.engine.nodes.counts();
  }

  /** The /stats document. */
  stats(): ServerStats {
    const now = this.clock.now();
    return {
      ...this.hub.stats(),
      state: this.stateValue,
      uptimeMs: this.startedAt === 0 ? 0 : now - this.startedAt,
      startedAt: new Date(this.startedAt === 0 ? now : this.startedAt).toISOString(),
      historyReads: this.historyReads(),
    };
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

/** An outcome's value; its error as the InvalidArgumentError a library call throws. */
function valueOf<T>(outcome: Outcome<T>): T {
  if (!outcome.ok) throw new InvalidArgumentError(outcome.code, outcome.message);
  return outcome.value;
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
