import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { randomBytes } from 'node:crypto';
import {
  BATCH_QUERY_PARAM,
  CloseCode,
  DEFAULT_HISTORY_LIMIT,
  ErrorCode,
  MAX_HISTORY_LIMIT,
  channelNameProblem,
} from '@switchboard/protocol';
import type { PresenceEntry } from '@switchboard/protocol';
import { Hub } from './hub/hub.js';
import type { AcceptOptions } from './hub/hub.js';
import type { HubStats } from './hub/hub.js';
import type { ConnectionInfo } from './hub/connection.js';
import type { WireFormat } from './hub/outbound.js';
import { createMemoryEngine } from './engine/memory-engine.js';
import type { Exclusion } from './broker/broker.js';
import type { HistoryPage } from './history/history-store.js';
import { IDLE_HISTORY_READS } from './history/history-read-pacing.js';
import type { HistoryReadStats } from './history/history-read-pacing.js';
import { PrometheusMetrics } from './metrics/prometheus-metrics.js';
import type { Metrics } from './metrics/metrics.js';
import { WebSocketTransport } from './transports/websocket-transport.js';
import { AnonymousAuthenticator } from './auth/authenticator.js';
import { TokenAuthenticator } from './auth/token-authenticator.js';
import { APP_SUBPROTOCOL } from './auth/token-sources.js';
import { addTicketRoute } from './http/ticket-route.js';
import { Authorizer } from './auth/authorizer.js';
import type { AuthOutcome, Authenticator } from './auth/authenticator.js';
import { Router } from './http/router.js';
import { ApiKeyGuard } from './http/api-key.js';
import { addApiRoutes } from './http/api-routes.js';
import { loadDemoPage } from './http/demo-page.js';
import type { DemoPage } from './http/demo-page.js';
import { rejectUpgrade, sendError, sendJson } from './http/http-utils.js';
import { OriginPolicy } from './http/origin.js';
import { TrustedProxies, clientAddress, normalizeAddress } from './http/client-ip.js';
import { enforceDeadlines, httpServerOptions } from './http/http-deadlines.js';
import { ConnectionLimits } from './limits/connection-limits.js';
import type { AdmissionRefusal } from './limits/connection-limits.js';
import type { LimitName } from './metrics/metrics.js';
import { systemClock } from './util/clock.js';
import type { Clock } from './util/clock.js';
import { silentLogger } from './util/logger.js';
import type { Logger } from './util/logger.js';
import { validateOtherOptions } from './server-options.js';
import type { ServerOptions } from './server-options.js';
import { resolveLimits } from './limits/resolved-limits.js';
import type { ResolvedLimits } from './limits/resolved-limits.js';
import type { Engine } from './engine/engine.js';
import type { ClusterCounts } from './nodes/node-registry.js';
import { InvalidArgumentError, ServerNotRunningError, TlsLoadError } from './errors.js';
import { TlsCertificate } from './http/tls.js';

/** A refused handshake: its HTTP answer and the limit it is counted under. */
type LimitRefusal = Omit<AdmissionRefusal, 'limit' | 'status'> & {
  readonly limit: LimitName;
  readonly status: number;
};

/**
 * The upgrade socket's error listener until ws takes the socket over (it stays attached for the
 * connection's lifetime). One shared function, not a closure: a closure created in handleUpgrade would
 * share that function's context, which holds the request, its headers, the URL with the token and the
 * `head` Buffer (a view of the whole request's bytes), and keep them alive as long as the connection.
 */
function destroyOnError(this: Duplex): void {
  this.destroy();
}

/** Lifecycle of a server: it only moves forward. */
export type ServerState = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped';

/** The accept options of a plain v1 handshake, shared (the hub only reads them). */
const NO_ACCEPT_OPTIONS: AcceptOptions = Object.freeze({});

/** The longest idempotency key a publish may carry. */
const MAX_IDEMPOTENCY_KEY = 128;

/** Options of a publish through the library API. */
export interface PublishOptions {
  /** Skip history; may be dropped under backpressure. Default false. */
  readonly ephemeral?: boolean;
  /** Do not deliver to this connection or user (typically the sender). */
  readonly exclude?: Exclusion;
  /**
   * Makes a retried publish safe: a second publish to the channel with the same key within the
   * idempotency window (5 minutes) resolves with the first one's id and is not delivered again.
   */
  readonly idempotencyKey?: string;
}

/** Options of sends to users and broadcasts. */
export interface SendOptions {
  readonly exclude?: Exclusion;
}

/** How to close connections through the library API. */
export interface DisconnectOptions {
  /** Close code; default 4502 (kicked, no reconnect). */
  readonly code?: number;
  /** Close reason (at most 123 bytes); default "disconnected by the server". */
  readonly reason?: string;
}

/** The /stats document. */
export interface ServerStats extends HubStats {
  readonly uptimeMs: number;
  readonly startedAt: string;
  readonly state: ServerState;
  /**
   * History reads in flight, waiting and refused by the engine's pacing (Redis), and its bounds (`limits`,
   * `null` for no bound); with the memory engine, whose reads are not paced, all 0 and `limits: null`.
   */
  readonly historyReads: HistoryReadStats;
}

/** What the server knows about one channel. */
export interface ChannelInfo {
  readonly channel: string;
  /** Subscribers on this node. */
  readonly members: number;
  /** The last message id assigned in the channel (0 when none). */
  readonly offset: number;
  /** The epoch of the channel's stream. */
  readonly epoch: string;
}

/** A page of a channel's history, as the library API returns it. */
export interface HistoryResult {
  readonly channel: string;
  readonly offset: number;
  readonly epoch: string;
  readonly messages: readonly { readonly id: number; readonly data: unknown; readonly time: number }[];
  /** False when messages after `since` were already trimmed. */
  readonly complete: boolean;
}

/**
 * A Switchboard server: the WebSocket endpoints, the hub behind them, the HTTP API, health and metrics.
 * Create it with {@link createServer}, then `start()`.
 */
export class SwitchboardServer {
  /** This node's id, the prefix of every connection id it assigns. */
  readonly nodeId: string;
  private stateValue: ServerState = 'idle';
  private readonly limits: ResolvedLimits;
  private readonly hub: Hub;
  private readonly engine: Engine;
  private readonly metrics: Metrics;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly authenticator: Authenticator;
  /** The built-in JWT authenticator when the `auth` option is set (it also serves the ticket route). */
  private readonly tokenAuthenticator: TokenAuthenticator | null;
  private readonly transport: WebSocketTransport;
  private readonly router = new Router();
  private readonly basePath: string;
  private readonly ownsHttpServer: boolean;
  private readonly http: HttpServer;
  private readonly tls: TlsCertificate | null;
  private readonly origins: OriginPolicy;
  private readonly trustedProxies: TrustedProxies;
  private readonly connectionLimits: ConnectionLimits;
  /** The "X-Forwarded-For from an untrusted peer" warning is logged once per server, not per handshake. */
  private warnedForwardedFor = false;
  private startedAt = 0;
  private demoPage: DemoPage | null = null;
  private detachListeners: (() => void) | null = null;
  private stopping: Promise<void> | null = null;

  constructor(private readonly options: ServerOptions = {}) {
    this.limits = resolveLimits(options);
    validateOtherOptions(options);
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.metrics = options.metrics ?? new PrometheusMetrics();
    this.engine = options.engine ?? createMemoryEngine(this.clock);
    this.nodeId = this.engine.nodeId ?? randomBytes(4).toString('hex');
    // Tickets minted on one node must open connections on any: a shared engine's store wins over the
    // in-memory default (an explicit auth.ticketStore still wins over both).
    const auth =
      options.auth !== undefined &&
      options.auth.ticketStore === undefined &&
      this.engine.tickets !== undefined
        ? { ...options.auth, ticketStore: this.engine.tickets }
        : options.auth;
    this.tokenAuthenticator =
      auth === undefined ? null : new TokenAuthenticator(auth, { clock: this.clock, logger: this.logger });
    this.authenticator = options.authenticator ?? this.tokenAuthenticator ?? new AnonymousAuthenticator();
    this.basePath = options.basePath ?? '';
    this.origins = new OriginPolicy(options.allowedOrigins, options.requireOrigin ?? false);
    this.trustedProxies = new TrustedProxies(options.trustedProxies);
    this.connectionLimits = new ConnectionLimits(this.limits, this.clock.now());
    this.hub = new Hub({
      nodeId: this.nodeId,
      limits: this.limits,
      channelRules: options.channels ?? [],
      hooks: options,
      broker: this.engine.broker,
      history: this.engine.history,
      presence: this.engine.presence,
      ...(this.engine.sessions === undefined ? {} : { sessionStore: this.engine.sessions }),
      authenticator: this.authenticator,
      authorizer: new Authorizer(
        options.channels ?? [],
        options.defaultPermission ?? 'anyone',
        options.authorize,
      ),
      connectionLimits: this.connectionLimits,
      metrics: this.metrics,
      logger: this.logger,
      clock: this.clock,
    });
    // switchboard.v1 is selected whenever offered: browsers that send a bearer subprotocol beside it
    // need one offered protocol echoed, and never the token (docs/security-auth.md).
    this.transport = new WebSocketTransport({
      maxPayload: this.limits.maxMessageBytes,
      protocols: [APP_SUBPROTOCOL],
    });
    this.ownsHttpServer = options.server === undefined;
    this.tls =
      options.tls === undefined ? null : new TlsCertificate(options.tls, httpServerOptions(this.limits));
    this.http = options.server ?? this.tls?.server ?? createHttpServer(httpServerOptions(this.limits));
    // Slowloris deadlines on a server of our own only: an attached server's are its application's call.
    if (this.ownsHttpServer)
      enforceDeadlines(this.http, this.limits, () => this.metrics.limitRejected('request_timeout'));
    this.addRoutes();
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
    const address = this.http.address();
    if (address === null || typeof address === 'string')
      throw new ServerNotRunningError('server is not listening');
    return (address as AddressInfo).port;
  }

  /** The base URL for people (`http://localhost:8080` when listening on every interface). */
  get url(): string {
    const address = this.http.address() as AddressInfo | null;
    if (address === null) throw new ServerNotRunningError('server is not listening');
    const host = this.options.host;
    const shown =
      host === undefined || host === '0.0.0.0' || host === '::'
        ? 'localhost'
        : host.includes(':')
          ? `[${host}]`
          : host;
    const scheme = 'cert' in this.http ? 'https' : 'http';
    return `${scheme}://${shown}:${address.port}${this.basePath}`;
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
      this.attachListeners();
      if (this.ownsHttpServer) {
        await new Promise<void>((resolve, reject) => {
          const onError = (error: Error): void => reject(error);
          this.http.once('error', onError);
          this.http.listen(this.options.port ?? 8080, this.options.host, () => {
            this.http.off('error', onError);
            resolve();
          });
        });
      }
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
    await this.transport.close();
    this.detachListeners?.();
    if (this.ownsHttpServer && this.http.listening) {
      await new Promise<void>((resolve) => {
        this.http.close(() => resolve());
        this.http.closeAllConnections();
      });
    }
    this.stateValue = 'stopped';
  }

  // ---------------------------------------------------------------- library API

  private assertRunning(): void {
    if (this.stateValue !== 'running') throw new ServerNotRunningError();
  }

  /** Publish to a channel on every node. Resolves with the message id (absent for ephemeral messages). */
  async publish(
    channel: string,
    data: unknown,
    options: PublishOptions = {},
  ): Promise<{ id?: number; duplicate?: boolean }> {
    this.assertRunning();
    const problem = channelNameProblem(channel, this.limits.maxChannelLength);
    if (problem !== null) throw new InvalidArgumentError(ErrorCode.InvalidChannel, problem);
    const key = options.idempotencyKey;
    if (
      key !== undefined &&
      (typeof key !== 'string' || key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY)
    ) {
      throw new InvalidArgumentError(
        ErrorCode.BadRequest,
        `idempotencyKey must be a string of 1 to ${MAX_IDEMPOTENCY_KEY} characters`,
      );
    }
    const publication = await this.hub.publish(
      channel,
      data,
      options.ephemeral ?? false,
      options.exclude,
      key,
    );
    if (publication.id === undefined) return {};
    return publication.duplicate === true ? { id: publication.id, duplicate: true } : { id: publication.id };
  }

  /** Send to every connection of a user, on every node. */
  async sendToUser(userId: string, data: unknown, options: SendOptions = {}): Promise<void> {
    this.assertRunning();
    const json = this.hub.encode(data);
    const time = this.clock.now();
    await this.hub.send(
      options.exclude === undefined
        ? { kind: 'user', userId, json, time }
        : { kind: 'user', userId, json, time, exclude: options.exclude },
    );
  }

  /** Send to one connection, wherever it is. */
  async sendToConnection(connectionId: string, data: unknown): Promise<void> {
    this.assertRunning();
    await this.hub.send({
      kind: 'connection',
      connectionId,
      json: this.hub.encode(data),
      time: this.clock.now(),
    });
  }

  /** Send to every connection on every node. */
  async broadcast(data: unknown, options: SendOptions = {}): Promise<void> {
    this.assertRunning();
    const json = this.hub.encode(data);
    const time = this.clock.now();
    await this.hub.send(
      options.exclude === undefined
        ? { kind: 'broadcast', json, time }
        : { kind: 'broadcast', json, time, exclude: options.exclude },
    );
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
  async history(
    channel: string,
    options: { readonly since?: number; readonly limit?: number } = {},
  ): Promise<HistoryResult> {
    this.assertRunning();
    const problem = channelNameProblem(channel, this.limits.maxChannelLength);
    if (problem !== null) throw new InvalidArgumentError(ErrorCode.InvalidChannel, problem);
    const limit = options.limit ?? DEFAULT_HISTORY_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_HISTORY_LIMIT) {
      throw new InvalidArgumentError(
        ErrorCode.BadRequest,
        `limit must be an integer from 1 to ${MAX_HISTORY_LIMIT}`,
      );
    }
    const page: HistoryPage = await this.hub.history(channel, options.since, limit);
    return {
      channel,
      offset: page.position.offset,
      epoch: page.position.epoch,
      messages: page.messages.map((m) => ({
        id: m.offset,
        data: JSON.parse(m.json) as unknown,
        time: m.time,
      })),
      complete: page.complete,
    };
  }

  /** Who is in a channel with presence enabled (every node). */
  async presence(channel: string): Promise<readonly PresenceEntry[]> {
    this.assertRunning();
    const outcome = await this.hub.presenceOf(channel);
    if (!outcome.ok) throw new InvalidArgumentError(outcome.code, outcome.message);
    return outcome.value;
  }

  /** How many users and connections are in a channel with presence enabled. */
  async presenceStats(channel: string): Promise<{ users: number; connections: number }> {
    this.assertRunning();
    const outcome = await this.hub.presenceStats(channel);
    if (!outcome.ok) throw new InvalidArgumentError(outcome.code, outcome.message);
    return outcome.value;
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
  readiness(): {
    ready: boolean;
    status: string;
    reason?: string;
    details?: Readonly<Record<string, unknown>>;
  } {
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
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (
      this.basePath !== '' &&
      url.pathname !== this.basePath &&
      !url.pathname.startsWith(`${this.basePath}/`)
    )
      return false;
    const path = url.pathname.slice(this.basePath.length) || '/';
    const match = this.router.match(req.method ?? 'GET', path);
    if (match.kind === 'not-found') return false;
    if (match.kind === 'method-not-allowed') {
      req.resume();
      sendJson(
        res,
        405,
        {
          error: {
            code: ErrorCode.BadRequest,
            message: `use ${match.allowed.join(' or ')}`,
            temporary: false,
          },
        },
        { allow: match.allowed.join(', ') },
      );
      return true;
    }
    Promise.resolve(match.handler({ req, res, url, params: match.params })).catch((error: unknown) => {
      this.logger.error({ err: error, path }, 'request failed');
      if (!res.headersSent) sendError(res, ErrorCode.Internal, 'internal error');
      else res.destroy();
    });
    return true;
  }

  /** Handle an upgrade if its path is one of Switchboard's; returns false otherwise. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const wsPath = `${this.basePath}/ws`;
    let format: WireFormat;
    let room: string | undefined;
    if (path === wsPath) {
      format = 'v1';
    } else if (path.startsWith(`${wsPath}/`)) {
      format = 'room';
      let name: string;
      try {
        name = decodeURIComponent(path.slice(wsPath.length + 1));
      } catch {
        name = '';
      }
      const problem = channelNameProblem(name, this.limits.maxChannelLength);
      if (problem !== null) {
        socket.on('error', destroyOnError);
        this.reject(socket, 400, ErrorCode.InvalidChannel, `room ${problem.replace(/^channel /, '')}`);
        return true;
      }
      room = name;
    } else {
      return false;
    }
    socket.on('error', destroyOnError);
    if (this.stateValue !== 'running') {
      this.reject(socket, 503, ErrorCode.ShuttingDown, 'server is not accepting connections');
      return true;
    }
    if (!this.origins.allows(req.headers.origin)) {
      const message = 'this origin may not connect';
      this.refuse(socket, { limit: 'origin', status: 403, code: ErrorCode.PermissionDenied, message });
      return true;
    }
    const accept = this.acceptOptions(url, format, room);
    if (typeof accept === 'string') {
      this.reject(socket, 400, ErrorCode.BadRequest, accept);
      return true;
    }
    const remoteAddress = this.clientAddressOf(req);
    const refusal = this.connectionLimits.admit(remoteAddress, this.clock.now());
    if (refusal !== null) {
      this.refuse(socket, refusal);
      return true;
    }
    // One reaction for either outcome (not finally/then/catch: two promises and three microtasks fewer
    // per handshake). Admitted handshakes count against the caps while they wait here; from now on the
    // hub counts them.
    this.authenticator.authenticate({ url, headers: req.headers, remoteAddress }).then(
      (outcome) => {
        this.connectionLimits.settle(remoteAddress);
        try {
          this.completeUpgrade(req, socket, head, outcome, format, remoteAddress, accept);
        } catch (error) {
          this.upgradeFailed(socket, error);
        }
      },
      (error: unknown) => {
        this.connectionLimits.settle(remoteAddress);
        this.upgradeFailed(socket, error);
      },
    );
    return true;
  }

  /** An authenticated handshake: refuse it, or upgrade and hand the connection to the hub. */
  private completeUpgrade(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    outcome: AuthOutcome,
    format: WireFormat,
    remoteAddress: string,
    accept: AcceptOptions,
  ): void {
    if (!outcome.ok) {
      this.reject(socket, outcome.status, outcome.code, outcome.message);
      return;
    }
    if (this.stateValue !== 'running') {
      this.reject(socket, 503, ErrorCode.ShuttingDown, 'server is not accepting connections');
      return;
    }
    const principal = outcome.ok === 'deferred' ? { userId: null } : outcome.principal;
    if (principal.userId !== null && this.hub.userAtLimit(principal.userId)) {
      const message = 'too many open connections for this user';
      this.refuse(socket, {
        limit: 'user_connections',
        status: 429,
        code: ErrorCode.RateLimited,
        message,
      });
      return;
    }
    const options = outcome.ok === 'deferred' ? { ...accept, pendingAuth: true } : accept;
    this.transport.upgrade(req, socket, head, (transportSocket) =>
      this.hub.accept(transportSocket, principal, format, remoteAddress, options),
    );
  }

  private upgradeFailed(socket: Duplex, error: unknown): void {
    this.logger.error({ err: error }, 'authenticator failed');
    this.reject(socket, 500, ErrorCode.Internal, 'internal error');
  }

  /**
   * Query parameters of an upgrade: `session` and `batch` (v1), `last_message_id` and `epoch` (rooms). A
   * string is the problem.
   */
  private acceptOptions(url: URL, format: WireFormat, room: string | undefined): AcceptOptions | string {
    const params = url.searchParams;
    if (format === 'v1') {
      // `batch=1`: the client reads several frames per WebSocket message (docs/protocol.md, Batching).
      const batch = params.get(BATCH_QUERY_PARAM) === '1';
      const session = params.get('session');
      if (session === null || session === '') return batch ? { batch } : NO_ACCEPT_OPTIONS;
      if (session.length > 64) return 'session must be at most 64 characters';
      return batch ? { sessionId: session, batch } : { sessionId: session };
    }
    const out: { room?: string; lastMessageId?: number; epoch?: string } = {};
    if (room !== undefined) out.room = room;
    const last = params.get('last_message_id');
    if (last !== null) {
      if (!/^\d{1,15}$/.test(last)) return 'last_message_id must be a non-negative integer';
      out.lastMessageId = Number(last);
    }
    const epoch = params.get('epoch');
    if (epoch !== null) {
      if (epoch.length === 0 || epoch.length > 64) return 'epoch must be 1 to 64 characters';
      out.epoch = epoch;
    }
    return out;
  }

  private reject(socket: Duplex, status: number, code: ErrorCode, message: string): void {
    this.metrics.handshakeRejected(status, code);
    rejectUpgrade(socket, status, code, message);
  }

  /** Refuse an upgrade for a limit: counted as a rejected handshake and under the limit's own name. */
  private refuse(socket: Duplex, refusal: LimitRefusal): void {
    const { limit, status, code, message, retryAfterSeconds } = refusal;
    this.metrics.limitRejected(limit);
    this.metrics.handshakeRejected(status, code);
    const headers: Record<string, string> =
      retryAfterSeconds === undefined ? {} : { 'Retry-After': String(retryAfterSeconds) };
    rejectUpgrade(socket, status, code, message, headers);
  }

  /** The client's address: the socket's peer, or X-Forwarded-For when the peer is a trusted proxy. */
  private clientAddressOf(req: IncomingMessage): string {
    const peer = req.socket.remoteAddress ?? '';
    const forwarded = req.headers['x-forwarded-for'];
    if (
      forwarded !== undefined &&
      !this.warnedForwardedFor &&
      !this.trustedProxies.has(normalizeAddress(peer))
    ) {
      // Behind a proxy nobody declared, every client shares the proxy's address and its per-address limits.
      this.warnedForwardedFor = true;
      this.logger.warn(
        { peer },
        'X-Forwarded-For ignored: the peer is not a trusted proxy (set trustedProxies when running behind one)',
      );
    }
    return clientAddress(peer, forwarded, this.trustedProxies);
  }

  private attachListeners(): void {
    const server = this.http;
    // In attach mode the application's listeners keep every path Switchboard does not own.
    const requestListeners = server.listeners('request') as ((
      req: IncomingMessage,
      res: ServerResponse,
    ) => void)[];
    const upgradeListeners = server.listeners('upgrade') as ((
      req: IncomingMessage,
      socket: Duplex,
      head: Buffer,
    ) => void)[];
    server.removeAllListeners('request');
    server.removeAllListeners('upgrade');
    const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
      if (this.handleRequest(req, res)) return;
      if (requestListeners.length === 0) {
        req.resume();
        sendError(res, ErrorCode.NotFound, 'no such route');
        return;
      }
      for (const listener of requestListeners) listener.call(server, req, res);
    };
    const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
      if (this.handleUpgrade(req, socket, head)) return;
      if (upgradeListeners.length === 0) {
        socket.on('error', destroyOnError);
        this.reject(socket, 404, ErrorCode.NotFound, 'no WebSocket endpoint at this path');
        return;
      }
      for (const listener of upgradeListeners) listener.call(server, req, socket, head);
    };
    server.on('request', onRequest);
    server.on('upgrade', onUpgrade);
    this.detachListeners = () => {
      server.off('request', onRequest);
      server.off('upgrade', onUpgrade);
      for (const listener of requestListeners) server.on('request', listener);
      for (const listener of upgradeListeners) server.on('upgrade', listener);
    };
  }

  private addRoutes(): void {
    const guard = new ApiKeyGuard(this.options.apiKey);
    const router = this.router;
    router.add('GET', '/health', ({ res }) => sendJson(res, 200, { status: 'ok' }));
    router.add('GET', '/ready', ({ res }) => {
      const { ready, ...body } = this.readiness();
      sendJson(res, ready ? 200 : 503, body);
    });
    router.add('GET', '/stats', async ({ req, res }) => {
      if (!guard.allows(req)) {
        sendError(res, ErrorCode.Unauthorized, 'missing or wrong API key', 401);
        return;
      }
      const local = this.stats();
      // The cluster figures need the shared backend; when it is away /stats still answers for this node.
      const cluster = await this.clusterCounts().then(
        (counts) => ({ cluster: counts }),
        (error: unknown) => ({
          cluster: null,
          clusterError: error instanceof Error ? error.message : String(error),
        }),
      );
      sendJson(res, 200, { ...local, ...cluster });
    });
    if (this.options.metricsEndpoint ?? true) {
      router.add('GET', '/metrics', async ({ res }) => {
        const rendered = await this.metrics.render();
        if (rendered === null) {
          sendError(res, ErrorCode.NotAvailable, 'metrics are not exported by this server', 404);
          return;
        }
        res.writeHead(200, { 'content-type': rendered.contentType, 'cache-control': 'no-store' });
        res.end(rendered.body);
      });
    }
    if (this.options.demo === true) {
      router.add('GET', '/', ({ res }) => {
        const page = this.demoPage;
        if (page === null) {
          sendError(res, ErrorCode.NotAvailable, 'the demo page is not loaded', 503);
          return;
        }
        res.writeHead(200, {
          'content-type': 'text/html; charset=utf-8',
          'content-length': page.body.length,
          'content-security-policy': page.csp,
          'x-content-type-options': 'nosniff',
          'referrer-policy': 'no-referrer',
        });
        res.end(page.body);
      });
    }
    if (this.tokenAuthenticator !== null) addTicketRoute(router, this.tokenAuthenticator);
    addApiRoutes(router, '/api', {
      server: this,
      guard,
      maxBodyBytes: this.limits.maxMessageBytes,
      maxChannelLength: this.limits.maxChannelLength,
    });
  }
}

function closeArgs(options: DisconnectOptions): { code: number; reason: string } {
  return { code: options.code ?? CloseCode.Kicked, reason: options.reason ?? 'disconnected by the server' };
}

/** Create a Switchboard server; options are validated here and throw {@link InvalidOptionError}. */
export function createServer(options: ServerOptions = {}): SwitchboardServer {
  return new SwitchboardServer(options);
}
