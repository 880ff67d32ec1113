import type { Server as HttpServer } from 'node:http';
import type { Broker } from './broker/broker.js';
import type { HistoryStore } from './history/history-store.js';
import type { PresenceStore } from './presence/presence-store.js';
import type { Metrics } from './metrics/metrics.js';
import type { Logger } from './util/logger.js';
import type { Clock } from './util/clock.js';
import type { ConnectionInfo } from './hub/connection.js';
import type { Authenticator } from './auth/authenticator.js';
import { resolveAuthOptions } from './auth/auth-options.js';
import type { AuthOptions } from './auth/auth-options.js';
import type { TlsOptions } from './http/tls.js';
import { permissionProblem } from './auth/authorizer.js';
import type { AuthorizeHook, ChannelPermissions, Permission } from './auth/authorizer.js';
import { originPatternProblem } from './http/origin.js';
import { trustedProxyProblem } from './http/client-ip.js';
import { InvalidOptionError } from './errors.js';
import type { TicketStore } from './auth/ticket-store.js';
import type { EngineHealth, NodeRegistry } from './engine/node-registry.js';
import type { SessionStore } from './sessions/session-store.js';
import type { HistoryReadStats } from './history/history-read-pacing.js';

/** Settings for the channels whose names match `pattern` (`*` matches any run of characters). */
export interface ChannelRule {
  readonly pattern: string;
  /** Member limit per channel; 0 means unlimited. Default: the server's `maxChannelMembers`. */
  readonly maxMembers?: number;
  /** History kept for recovery. Default: the server's `historySize` and `historyTtlMs`. */
  readonly history?: { readonly size?: number; readonly ttlMs?: number };
  /** Track presence and push user-level `join`/`leave` (with the presence grace period). Default false. */
  readonly presence?: boolean;
  /** Who may subscribe, publish, read history and presence here. Default: the server's `defaultPermission`. */
  readonly permissions?: ChannelPermissions;
  /** Batch delay of these channels (ms), 0 to 1000; see the server's `batchDelayMs`. Default: that option. */
  readonly batchDelayMs?: number;
}

/** What a deployment shares between nodes: the memory engine (one process) or Redis. */
export interface Engine {
  readonly broker: Broker;
  readonly history: HistoryStore;
  readonly presence: PresenceStore;
  /** This node's id, when the engine chose it (it names the node's routes in a shared backend). */
  readonly nodeId?: string;
  /** One-time tickets shared by every node. Default: the `auth` options' store, else one in memory. */
  readonly tickets?: TicketStore;
  /** Sessions shared by every node, so a client resumes on any node. Absent: sessions wait on their node. */
  readonly sessions?: SessionStore;
  /** Cluster-wide counts for /stats. Absent: this node is the whole deployment. */
  readonly nodes?: NodeRegistry;
  /** Whether the backend can serve now; `/ready` answers 503 while it cannot. Absent: always ready. */
  health?(): EngineHealth;
  /**
   * History reads in flight, waiting for their turn and refused, for /stats and metrics, when the engine
   * paces them (Redis). Absent: reads are not paced, every count is 0 and `limits` is null.
   */
  historyReads?(): HistoryReadStats;
  /** Release what the parts share (connections), after the hub has closed each part. */
  close?(): Promise<void>;
}

/** Why a connection closed, as given to the disconnect hook. */
export interface DisconnectInfo {
  readonly code: number;
  readonly reason: string;
}

/** Application hooks. Each runs outside the hot path; a hook that throws is logged and never breaks a connection. */
export interface ServerHooks {
  /** A connection was accepted and registered. */
  onConnect?: (connection: ConnectionInfo) => void | Promise<void>;
  /** A connection closed and was removed everywhere. */
  onDisconnect?: (connection: ConnectionInfo, info: DisconnectInfo) => void | Promise<void>;
  /**
   * A `send` command arrived. The resolved value is the reply's `result` (`null` when undefined);
   * throw {@link ApplicationError} to answer with an `application_error` carrying your message.
   */
  onMessage?: (connection: ConnectionInfo, data: unknown) => unknown;
}

/** Options of {@link createServer}. Every numeric option is validated at start-up. */
export interface ServerOptions extends ServerHooks {
  /**
   * Permission for operations no channel rule sets. Default `'anyone'` (every client may subscribe and
   * publish anywhere: fine for a demo, not for production — set rules, or `'claims'`).
   */
  readonly defaultPermission?: Permission;
  /** The application's final word on each client operation on a channel (after the rules). */
  readonly authorize?: AuthorizeHook;
  /** Port to listen on when no `server` is given; 0 picks a free port. Default 8080. */
  readonly port?: number;
  /** Interface to listen on. Default: every interface (Node's default). */
  readonly host?: string;
  /** Attach to this existing HTTP(S) server instead of creating one; it keeps its own routes. */
  readonly server?: HttpServer;
  /**
   * Serve https/wss from these PEM files (not with `server`: configure TLS on that server yourself).
   * `reloadTls()` re-reads them. Default: none (plain http/ws, e.g. behind a TLS-terminating proxy).
   */
  readonly tls?: TlsOptions;
  /** Prefix of every Switchboard route (`${basePath}/ws`, `${basePath}/health`, ...). Default ''. */
  readonly basePath?: string;
  /** Ping a connection quiet for this long (ms). Default 15000; minimum 10. */
  readonly heartbeatIntervalMs?: number;
  /** Close a connection silent for this long (ms) with 4000. Default 45000; at least twice the interval. */
  readonly heartbeatTimeoutMs?: number;
  /** Largest inbound frame or API body (bytes); larger frames close with 1009. Default 65536. */
  readonly maxMessageBytes?: number;
  /** Outbound buffer soft limit per connection (bytes). Default 1048576 (1 MiB). */
  readonly maxBufferedBytes?: number;
  /** Close a connection whose outbound buffer stays over the soft limit this long (ms). Default 10000. */
  readonly slowConsumerTimeoutMs?: number;
  /** Longest channel name. Default 128. */
  readonly maxChannelLength?: number;
  /** Subscriptions one connection may hold. Default 1000. */
  readonly maxSubscriptionsPerConnection?: number;
  /** Default member limit per channel; 0 means unlimited. Default 0. */
  readonly maxChannelMembers?: number;
  /**
   * How long a channel's messages may wait (ms) to be written to batching connections (`?batch=1`, as
   * the SDK connects) as one WebSocket message: the first message of a batch waits at most this long.
   * 0 batches only the messages of one event-loop turn. Other connections get each message at once.
   * A batch goes out earlier when full (docs/protocol.md). Channel rules may override it. Default 0;
   * at most 1000.
   */
  readonly batchDelayMs?: number;
  /** Error replies a connection may earn in a burst before it is closed with 4501. Default 20. */
  readonly errorBurst?: number;
  /** Error allowance regained per second. Default 1. */
  readonly errorRefillPerSecond?: number;
  /** How long `stop()` waits for connections to close before dropping them (ms). Default 10000. */
  readonly shutdownTimeoutMs?: number;
  /** Messages kept per channel for recovery (0 keeps none). Default 100. */
  readonly historySize?: number;
  /** Age (ms) past which a kept message is dropped. Default 300000 (5 minutes). */
  readonly historyTtlMs?: number;
  /** How long a session outlives its connection, for resume (ms). Default 60000. */
  readonly sessionGraceMs?: number;
  /** How long a departed user stays present before `leave` is announced (ms). Default 10000. */
  readonly presenceGraceMs?: number;
  /** How long a connection without credentials has to send `{"type":"auth"}` (ms); then 4506. Default 5000. */
  readonly authTimeoutMs?: number;
  /** How long after its credentials expire a connection is closed with 4004, unless refreshed (ms). Default 5000. */
  readonly tokenExpiryGraceMs?: number;
  /** Messages per second one connection may send; over it, `rate_limited` replies. 0 = unlimited. Default 50. */
  readonly messagesPerSecond?: number;
  /** Messages one connection may send at once before `messagesPerSecond` applies. Default 200. */
  readonly messageBurst?: number;
  /** Bytes per second one connection may send; over it, `rate_limited` replies. 0 = unlimited. Default 65536. */
  readonly bytesPerSecond?: number;
  /** Bytes one connection may send at once; at least `maxMessageBytes`. Default 262144 (256 KiB). */
  readonly byteBurst?: number;
  /** `rate_limited` replies a connection may earn in a burst before it is closed with 4003. Default 50. */
  readonly rateLimitedBurst?: number;
  /** `rate_limited` allowance regained per second. Default 1. */
  readonly rateLimitedRefillPerSecond?: number;
  /** Open connections on this node; past it, HTTP 503 before the upgrade. 0 = unlimited. Default 0. */
  readonly maxConnections?: number;
  /** New connections per second this node admits (burst: the same number); past it, HTTP 503. 0 = unlimited. Default 1000. */
  readonly connectionRate?: number;
  /** Open connections per client address (IPv6: per /64); past it, HTTP 429. 0 = unlimited. Default 1000. */
  readonly maxConnectionsPerIp?: number;
  /** New connections per second per client address; past it, HTTP 429 with Retry-After. 0 = unlimited. Default 20. */
  readonly connectionRatePerIp?: number;
  /** New connections one address may open at once before `connectionRatePerIp` applies. Default 100. */
  readonly connectionBurstPerIp?: number;
  /** Open connections per user: HTTP 429 at the handshake, close 4507 after first-message auth. 0 = unlimited. Default 100. */
  readonly maxConnectionsPerUser?: number;
  /** Time to receive a request's head, WebSocket handshakes included (ms); own server only. Default 10000. */
  readonly headersTimeoutMs?: number;
  /** Time to receive a whole HTTP request (ms); at least `headersTimeoutMs`; own server only. Default 30000. */
  readonly requestTimeoutMs?: number;
  /** Time an idle keep-alive HTTP socket is kept (ms); own server only. Default 5000. */
  readonly keepAliveTimeoutMs?: number;
  /**
   * Origins browsers may connect from: `https://app.example.com`, `https://*.example.com` (any subdomain,
   * not the domain itself) or `*`. Refused: HTTP 403. A request without Origin (not a browser) is
   * allowed unless `requireOrigin` is set. Default: every origin (the CLI warns; set it in production).
   */
  readonly allowedOrigins?: readonly string[];
  /**
   * Refuse (HTTP 403) handshakes that carry no Origin header, for deployments that serve browsers only.
   * It stops nothing a non-browser attacker cannot forge; it keeps stray tools off. Default false.
   */
  readonly requireOrigin?: boolean;
  /**
   * Proxies (addresses or CIDR ranges) whose X-Forwarded-For is believed when they are the socket's peer.
   * Default: none (the socket's peer is the client; X-Forwarded-For is ignored).
   */
  readonly trustedProxies?: readonly string[];
  /** Require this key on the HTTP API (`Authorization: Bearer <key>` or `X-API-Key`). Default: none. */
  readonly apiKey?: string;
  /** Serve the demo chat page at `${basePath}/`. Default false (the CLI turns it on). */
  readonly demo?: boolean;
  /** Expose Prometheus metrics at `${basePath}/metrics`. Default true. */
  readonly metricsEndpoint?: boolean;
  /** Per-channel settings; the first matching rule wins. Default []. */
  readonly channels?: readonly ChannelRule[];
  /** Decides who a connection belongs to. Default: everyone is anonymous. */
  readonly authenticator?: Authenticator;
  /**
   * Built-in JWT authentication (header, subprotocol, one-time tickets, first message, query token), and
   * the `POST <base>/auth/ticket` route; see docs/security-auth.md. Not together with `authenticator`.
   * Default: none (everyone is anonymous unless `authenticator` says otherwise).
   */
  readonly auth?: AuthOptions;
  /**
   * The broker, history store and presence store, which must share their storage (the memory engine, or
   * later Redis). Default: the in-memory engine of this process.
   */
  readonly engine?: Engine;
  /** Default: Prometheus metrics in a registry of this server's own. */
  readonly metrics?: Metrics;
  /** Default: silent. The CLI passes a pino logger. */
  readonly logger?: Logger;
  /** Default: the system clock. */
  readonly clock?: Clock;
}

/** The numeric limits after defaults and validation. */
export interface ResolvedLimits {
  readonly heartbeatIntervalMs: number;
  readonly heartbeatTimeoutMs: number;
  readonly maxMessageBytes: number;
  readonly maxBufferedBytes: number;
  readonly slowConsumerTimeoutMs: number;
  readonly maxChannelLength: number;
  readonly maxSubscriptionsPerConnection: number;
  readonly maxChannelMembers: number;
  readonly batchDelayMs: number;
  readonly errorBurst: number;
  readonly errorRefillPerSecond: number;
  readonly shutdownTimeoutMs: number;
  readonly historySize: number;
  readonly historyTtlMs: number;
  readonly sessionGraceMs: number;
  readonly presenceGraceMs: number;
  readonly authTimeoutMs: number;
  readonly tokenExpiryGraceMs: number;
  readonly messagesPerSecond: number;
  readonly messageBurst: number;
  readonly bytesPerSecond: number;
  readonly byteBurst: number;
  readonly rateLimitedBurst: number;
  readonly rateLimitedRefillPerSecond: number;
  readonly maxConnections: number;
  readonly connectionRate: number;
  readonly maxConnectionsPerIp: number;
  readonly connectionRatePerIp: number;
  readonly connectionBurstPerIp: number;
  readonly maxConnectionsPerUser: number;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
}

/** Defaults of every numeric option. */
export const DEFAULT_LIMITS: ResolvedLimits = {
  heartbeatIntervalMs: 15_000,
  heartbeatTimeoutMs: 45_000,
  maxMessageBytes: 65_536,
  maxBufferedBytes: 1_048_576,
  slowConsumerTimeoutMs: 10_000,
  maxChannelLength: 128,
  maxSubscriptionsPerConnection: 1000,
  maxChannelMembers: 0,
  batchDelayMs: 0,
  errorBurst: 20,
  errorRefillPerSecond: 1,
  shutdownTimeoutMs: 10_000,
  historySize: 100,
  historyTtlMs: 300_000,
  sessionGraceMs: 60_000,
  presenceGraceMs: 10_000,
  authTimeoutMs: 5000,
  tokenExpiryGraceMs: 5000,
  messagesPerSecond: 50,
  messageBurst: 200,
  bytesPerSecond: 65_536,
  byteBurst: 262_144,
  rateLimitedBurst: 50,
  rateLimitedRefillPerSecond: 1,
  maxConnections: 0,
  connectionRate: 1000,
  maxConnectionsPerIp: 1000,
  connectionRatePerIp: 20,
  connectionBurstPerIp: 100,
  maxConnectionsPerUser: 100,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5000,
};

/**
 * Every per-address, per-user and per-connection admission and rate limit off (0 = unlimited). For a
 * server whose clients all come through a gateway that does its own admission, and for load tests, where
 * every generated connection shares a handful of loopback addresses and a publisher sends far more than a
 * browser would. Spread it into the options: `createServer({ ...ADMISSION_LIMITS_OFF, ... })`.
 */
export const ADMISSION_LIMITS_OFF = {
  connectionRate: 0,
  connectionRatePerIp: 0,
  maxConnectionsPerIp: 0,
  maxConnectionsPerUser: 0,
  messagesPerSecond: 0,
  bytesPerSecond: 0,
} as const satisfies Partial<ResolvedLimits>;

/** Inclusive bounds of each numeric option; `integer` unless stated. */
export const LIMIT_BOUNDS: Readonly<
  Record<keyof ResolvedLimits, { min: number; max: number; integer: boolean }>
> = {
  heartbeatIntervalMs: { min: 10, max: 3_600_000, integer: true },
  heartbeatTimeoutMs: { min: 20, max: 7_200_000, integer: true },
  maxMessageBytes: { min: 64, max: 104_857_600, integer: true },
  maxBufferedBytes: { min: 1024, max: 1_073_741_824, integer: true },
  slowConsumerTimeoutMs: { min: 10, max: 3_600_000, integer: true },
  maxChannelLength: { min: 1, max: 1024, integer: true },
  maxSubscriptionsPerConnection: { min: 1, max: 1_000_000, integer: true },
  maxChannelMembers: { min: 0, max: 100_000_000, integer: true },
  batchDelayMs: { min: 0, max: 1000, integer: true },
  errorBurst: { min: 1, max: 1_000_000, integer: true },
  errorRefillPerSecond: { min: 0, max: 1_000_000, integer: false },
  shutdownTimeoutMs: { min: 0, max: 3_600_000, integer: true },
  historySize: { min: 0, max: 100_000, integer: true },
  historyTtlMs: { min: 1000, max: 604_800_000, integer: true },
  sessionGraceMs: { min: 0, max: 86_400_000, integer: true },
  presenceGraceMs: { min: 0, max: 3_600_000, integer: true },
  authTimeoutMs: { min: 10, max: 600_000, integer: true },
  tokenExpiryGraceMs: { min: 0, max: 3_600_000, integer: true },
  messagesPerSecond: { min: 0, max: 1_000_000, integer: false },
  messageBurst: { min: 1, max: 1_000_000, integer: true },
  bytesPerSecond: { min: 0, max: 1_073_741_824, integer: true },
  byteBurst: { min: 64, max: 1_073_741_824, integer: true },
  rateLimitedBurst: { min: 1, max: 1_000_000, integer: true },
  rateLimitedRefillPerSecond: { min: 0, max: 1_000_000, integer: false },
  maxConnections: { min: 0, max: 100_000_000, integer: true },
  connectionRate: { min: 0, max: 1_000_000, integer: true },
  maxConnectionsPerIp: { min: 0, max: 100_000_000, integer: true },
  connectionRatePerIp: { min: 0, max: 1_000_000, integer: false },
  connectionBurstPerIp: { min: 1, max: 1_000_000, integer: true },
  maxConnectionsPerUser: { min: 0, max: 100_000_000, integer: true },
  headersTimeoutMs: { min: 100, max: 3_600_000, integer: true },
  requestTimeoutMs: { min: 100, max: 3_600_000, integer: true },
  keepAliveTimeoutMs: { min: 100, max: 3_600_000, integer: true },
};

/** Apply defaults and validate; throws {@link InvalidOptionError} naming the option, value and bounds. */
export function resolveLimits(options: ServerOptions): ResolvedLimits {
  const out: Record<string, number> = {};
  for (const key of Object.keys(DEFAULT_LIMITS) as (keyof ResolvedLimits)[]) {
    const value = options[key] ?? DEFAULT_LIMITS[key];
    const { min, max, integer } = LIMIT_BOUNDS[key];
    const kind = integer ? 'an integer' : 'a number';
    if (typeof value !== 'number' || !Number.isFinite(value) || (integer && !Number.isInteger(value))) {
      throw new InvalidOptionError(key, value, `${kind} from ${min} to ${max}`);
    }
    if (value < min || value > max) throw new InvalidOptionError(key, value, `${kind} from ${min} to ${max}`);
    out[key] = value;
  }
  const limits = out as unknown as ResolvedLimits;
  if (limits.heartbeatTimeoutMs < 2 * limits.heartbeatIntervalMs) {
    throw new InvalidOptionError(
      'heartbeatTimeoutMs',
      limits.heartbeatTimeoutMs,
      `at least twice heartbeatIntervalMs (${2 * limits.heartbeatIntervalMs})`,
    );
  }
  // A frame larger than the byte bucket could never pass, however long the client waited.
  if (limits.bytesPerSecond > 0 && limits.byteBurst < limits.maxMessageBytes) {
    throw new InvalidOptionError(
      'byteBurst',
      limits.byteBurst,
      `at least maxMessageBytes (${limits.maxMessageBytes}) while bytesPerSecond is not 0`,
    );
  }
  // Node refuses to create a server whose head deadline outlasts its request deadline.
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) {
    throw new InvalidOptionError(
      'headersTimeoutMs',
      limits.headersTimeoutMs,
      `at most requestTimeoutMs (${limits.requestTimeoutMs})`,
    );
  }
  return limits;
}

/** Validate the options that are not numeric limits. */
export function validateOtherOptions(options: ServerOptions): void {
  const port = options.port;
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
    throw new InvalidOptionError('port', port, 'an integer from 0 to 65535');
  }
  const basePath = options.basePath;
  if (basePath !== undefined && basePath !== '' && (!basePath.startsWith('/') || basePath.endsWith('/'))) {
    throw new InvalidOptionError('basePath', basePath, "'' or a path starting with / and not ending with /");
  }
  validateTls(options);
  validateAuth(options);
  validateList('allowedOrigins', options.allowedOrigins, originPatternProblem);
  validateList('trustedProxies', options.trustedProxies, trustedProxyProblem);
  if (options.apiKey !== undefined && options.apiKey.length < 16) {
    throw new InvalidOptionError('apiKey', '<redacted>', 'a key of at least 16 characters');
  }
  const defaultProblem = permissionProblem(options.defaultPermission);
  if (defaultProblem !== null)
    throw new InvalidOptionError('defaultPermission', String(options.defaultPermission), defaultProblem);
  for (const rule of options.channels ?? []) {
    for (const [operation, permission] of Object.entries(rule.permissions ?? {})) {
      const problem = permissionProblem(permission);
      if (problem !== null) {
        throw new InvalidOptionError(
          `channels[${rule.pattern}].permissions.${operation}`,
          JSON.stringify(permission),
          problem,
        );
      }
      if (permission === 'owner' && rule.pattern.split('*').length !== 2) {
        throw new InvalidOptionError(
          `channels[${rule.pattern}].permissions.${operation}`,
          'owner',
          "a pattern with exactly one '*' (for example user:*)",
        );
      }
    }
    const h = rule.history;
    if (
      h?.size !== undefined &&
      (!Number.isInteger(h.size) || h.size < 0 || h.size > LIMIT_BOUNDS.historySize.max)
    ) {
      throw new InvalidOptionError(
        `channels[${rule.pattern}].history.size`,
        h.size,
        `an integer from 0 to ${LIMIT_BOUNDS.historySize.max}`,
      );
    }
    if (h?.ttlMs !== undefined && (!Number.isInteger(h.ttlMs) || h.ttlMs < LIMIT_BOUNDS.historyTtlMs.min)) {
      throw new InvalidOptionError(
        `channels[${rule.pattern}].history.ttlMs`,
        h.ttlMs,
        `an integer >= ${LIMIT_BOUNDS.historyTtlMs.min}`,
      );
    }
    if (rule.maxMembers !== undefined && (!Number.isInteger(rule.maxMembers) || rule.maxMembers < 0)) {
      throw new InvalidOptionError(
        `channels[${rule.pattern}].maxMembers`,
        rule.maxMembers,
        'an integer >= 0',
      );
    }
    const delay = rule.batchDelayMs;
    const { min, max } = LIMIT_BOUNDS.batchDelayMs;
    if (delay !== undefined && (!Number.isInteger(delay) || delay < min || delay > max)) {
      throw new InvalidOptionError(
        `channels[${rule.pattern}].batchDelayMs`,
        delay,
        `an integer from ${min} to ${max}`,
      );
    }
  }
}

function validateList(
  name: string,
  list: readonly string[] | undefined,
  problemOf: (entry: string) => string | null,
): void {
  if (list === undefined) return;
  if (!Array.isArray(list)) throw new InvalidOptionError(name, String(list), 'an array of strings');
  for (const entry of list as readonly unknown[]) {
    const problem = typeof entry === 'string' ? problemOf(entry) : 'expected a string';
    if (problem !== null) {
      const expected = problem.replace(/^expected /, '');
      throw new InvalidOptionError(
        name,
        String(entry),
        `every entry to be ${expected} ("${String(entry)}" is not)`,
      );
    }
  }
}

function validateTls(options: ServerOptions): void {
  const tls = options.tls;
  if (tls === undefined) return;
  if (options.server !== undefined) {
    throw new InvalidOptionError(
      'tls',
      tls.certFile,
      'no tls option alongside server (configure TLS on that server instead)',
    );
  }
  // Only the shape here: the files are read by start(), which rejects with TlsLoadError.
  for (const key of ['certFile', 'keyFile', 'caFile'] as const) {
    const path: unknown = tls[key];
    if (key === 'caFile' && path === undefined) continue;
    if (typeof path !== 'string' || path === '')
      throw new InvalidOptionError(`tls.${key}`, path, 'a path to a PEM file');
  }
}

function validateAuth(options: ServerOptions): void {
  if (options.auth === undefined) return;
  if (options.authenticator !== undefined) {
    throw new InvalidOptionError(
      'auth',
      '<options>',
      'no auth option alongside authenticator (auth builds the authenticator)',
    );
  }
  resolveAuthOptions(options.auth);
}
