import type { TracerProvider } from '@opentelemetry/api';
import { ErrorCode, type AnyChannelMap } from '@switchboard/protocol';
import type { HealthOptions } from './metrics/process-health.js';
import type { Metrics } from './metrics/metrics.js';
import type { Logger } from './util/logger.js';
import type { Clock } from './util/clock.js';
import type { Authenticator } from './auth/authenticator.js';
import { resolveAuthOptions } from './auth/auth-options.js';
import type { AuthOptions } from './auth/auth-options.js';
import type { TlsOptions } from './http/tls.js';
import type { HostServer } from './http/host-server.js';
import { permissionProblem } from './auth/authorizer.js';
import type { AuthorizeHook, Permission } from './auth/authorizer.js';
import { originPatternProblem } from './transports/origin.js';
import { trustedProxyProblem } from './transports/client-ip.js';
import { MAX_COMPRESSION_THRESHOLD } from './transports/permessage-deflate.js';
import type { CompressionOptions } from './transports/permessage-deflate.js';
import { InvalidArgumentError, InvalidOptionError } from './errors.js';
import type { Engine } from './engine/engine.js';
import type { InboxOptions, QueueOptions } from './hub/guaranteed-config.js';
import type { PostgresOptions } from './server-stores.js';
import type { ChannelRule } from './hub/channel.js';
import type { ServerHooks } from './hub/hooks.js';
import type { WebhookOptions } from './webhooks/webhooks.js';
import { DEFAULT_HEARTBEAT_PROOFS, HEARTBEAT_PROOFS, isHeartbeatProof } from './hub/heartbeat-proof.js';
import type { HeartbeatProof, HeartbeatProofs } from './hub/heartbeat-proof.js';
import { LIMIT_BOUNDS } from './limits/resolved-limits.js';
import { resolveAdminOptions } from './admin/admin-options.js';
import type { AdminOptions } from './admin/admin-options.js';

/**
 * Options of {@link createServer}. Every numeric option is validated at start-up. `M` is the application's
 * channel map (docs/typescript.md); it types the `onMessage` hook.
 */
export interface ServerOptions<M extends AnyChannelMap = AnyChannelMap>
  extends ServerHooks<M>, WebhookOptions {
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
  /** The listen(2) backlog without `server` (kernel-capped at somaxconn). Default 4096 (Node's: 511). */
  readonly listenBacklog?: number;
  /**
   * Attach to this existing server instead of creating one: an http(s).Server (what Express's
   * `app.listen()` returns), or a Fastify instance not started yet (its `server`; `fastify.close()`
   * then stops Switchboard first, from a `preClose` hook). The application keeps listening and every
   * route it serves: with basePath '' Switchboard takes only the WebSocket upgrades at `/ws` and
   * `/ws/:room`, with a basePath everything under it (docs/operations.md, "Attaching").
   */
  readonly server?: HostServer;
  /**
   * Serve https/wss from these PEM files (not with `server`: configure TLS on that server yourself).
   * `reloadTls()` re-reads them. Default: none (plain http/ws, e.g. behind a TLS-terminating proxy).
   */
  readonly tls?: TlsOptions;
  /**
   * With `tls`: serve HTTP/2 as well as HTTP/1.1 on the port (chosen per connection by ALPN), so a browser
   * holds every SSE stream of an origin on one connection instead of six at most. WebSocket stays on
   * HTTP/1.1. Default false (docs/operations.md, "HTTP/2").
   */
  readonly http2?: boolean;
  /**
   * Prefix of every Switchboard route (`${basePath}/ws`, `${basePath}/health`, ...). Default ''; attached
   * to an application's server, '' serves the WebSocket endpoints only (see `server`).
   */
  readonly basePath?: string;
  /** Ping a connection quiet for this long (ms). Default 15000; minimum 10. */
  readonly heartbeatIntervalMs?: number;
  /** Close a connection silent for this long (ms) with 4000. Default 45000; at least twice the interval. */
  readonly heartbeatTimeoutMs?: number;
  /**
   * The `retry:` hint of SSE streams (`/sse/:channel`, `/sse?channel=`): how long a browser EventSource
   * waits before it reconnects (ms). Default 2000.
   */
  readonly sseRetryMs?: number;
  /**
   * Long polling (`/v1/poll`): how long a poll is held when nothing is queued, and how long a connection
   * may go without a poll before it is abandoned (ms). Default 25000, under the 30 s idle timeout of
   * common proxies.
   */
  readonly pollTimeoutMs?: number;
  /**
   * What proves a `/ws` (protocol v1) connection alive: `'application'`, only frames the client's code
   * sends (a `pong`, any command); `'any'`, WebSocket protocol pings and pongs too, which browsers and
   * libraries answer by themselves (docs/protocol.md#heartbeats). Default `'application'`: the SDK answers
   * every `ping` push.
   */
  readonly v1HeartbeatProof?: HeartbeatProof;
  /**
   * What proves a `/ws/:room` connection alive (see {@link v1HeartbeatProof}). Default `'application'`, the
   * seeds' rule: a client that never answers `{"type":"ping"}` is closed with 4000 after the timeout.
   */
  readonly roomHeartbeatProof?: HeartbeatProof;
  /**
   * Largest inbound message or API body (bytes); a larger message closes with 1009, in one frame or in
   * fragments. Default 65536.
   */
  readonly maxMessageBytes?: number;
  /** Outbound buffer soft limit per connection (bytes). Default 1048576 (1 MiB). */
  readonly maxBufferedBytes?: number;
  /**
   * Close a connection whose outbound buffer stays over the soft limit this long, or that does not prove it
   * read what it was sent (a read check) within it (ms). Default 10000.
   */
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
  /**
   * The window `drain()` spreads its closes over (ms): jittered batches, each connection closed with 1012
   * and a `retry after <n> ms` hint. 0 closes them all at once. Default 10000.
   */
  readonly drainMs?: number;
  /**
   * Refuse new connections (HTTP 503, Retry-After) while the event-loop delay's p99 over the last half
   * second is over this (ms); open connections are not touched. Default 0: off.
   */
  readonly admissionLoopDelayMs?: number;
  /** Messages kept per channel for recovery (0 keeps none). Default 100. */
  readonly historySize?: number;
  /** Age (ms) past which a kept message is dropped. Default 300000 (5 minutes). */
  readonly historyTtlMs?: number;
  /**
   * How long a channel stream with no members and no messages left keeps its position (epoch and last
   * id) after its last use: created by a read or a subscribe, published to, or left by its last member
   * (ms); never less than `historyTtlMs`. Then it is forgotten, and its next message starts a new epoch
   * (an old position gets `recovered: false`). Default 0: the history TTL. For the in-memory engine the
   * server creates; an engine passed as `engine` takes its own (`createRedisEngine({ streamTtlMs })`).
   */
  readonly streamTtlMs?: number;
  /**
   * Channel streams with no members and no messages left that the in-memory engine keeps at most; past
   * it, the least recently used is forgotten first. Default 10000. For the engine the server creates
   * (`createMemoryEngine(clock, { maxIdleStreams })` otherwise); Redis keys expire by `streamTtlMs`.
   */
  readonly maxIdleStreams?: number;
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
  /** New connections per second this node admits (burst: `connectionBurst`); past it, HTTP 503. 0 = unlimited. Default 1000. */
  readonly connectionRate?: number;
  /** New connections this node admits at once before `connectionRate` applies. Default 200. */
  readonly connectionBurst?: number;
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
   * Time a new TCP connection has, from its accept, to deliver a complete request head (an HTTP request or a
   * WebSocket handshake), TLS handshake included (ms); then it gets 408 and is closed. Until it speaks it
   * counts against `maxConnectionsPerIp` of its peer address. Own server only. Default 5000.
   */
  readonly silentSocketTimeoutMs?: number;
  /**
   * Failed HTTP API key attempts (wrong or missing key) one client address may make at once; past them
   * every request from the address is answered 429 with `Retry-After`, its key unchecked. Default 20.
   */
  readonly apiKeyFailureBurst?: number;
  /** Failed API key attempts an address regains per second (may be fractional). Default 0.1. */
  readonly apiKeyFailureRefillPerSecond?: number;
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
  /**
   * Require this key on the HTTP API (`/api/...`, `/stats`) as `Authorization: Bearer <key>` or
   * `X-API-Key`. Default: none, and then the API answers only clients on this machine (loopback) unless
   * `apiInsecure` is set; others get 403 `permission_denied`.
   */
  readonly apiKey?: string;
  /**
   * Without `apiKey`, answer the HTTP API from the network too: anyone who reaches the port can publish,
   * send and disconnect users (logged as a warning at start-up). For a network you control end to end.
   * Not together with `apiKey`. Default false.
   */
  readonly apiInsecure?: boolean;
  /** Serve the demo chat page at `${basePath}/` and the browser SDK at `${basePath}/sdk/switchboard.js`. Default false (the CLI turns it on). */
  readonly demo?: boolean;
  /** Expose Prometheus metrics at `${basePath}/metrics`. Default true. */
  readonly metricsEndpoint?: boolean;
  /** When `/health` says `degraded` (event-loop delay, memory); see docs/operations.md. */
  readonly health?: HealthOptions;
  /**
   * permessage-deflate (RFC 7692) for the WebSocket clients that offer it: every frame of at least
   * `thresholdBytes` is compressed, a broadcast once for all its recipients, with no zlib state kept per
   * connection; a channel rule's `compress: false` keeps a channel's messages plain. Default: off
   * (docs/operations.md, "Compression").
   */
  readonly compression?: CompressionOptions;
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
  /** Users' acknowledged inboxes: `deliver`, devices, retries, dead letters (docs/delivery.md). */
  readonly inbox?: InboxOptions;
  /** Work queues with competing consumers: `enqueue`, `consume` (docs/delivery.md). */
  readonly queues?: QueueOptions;
  /** The PostgreSQL database of `inbox.store` / `queues.store` `'postgres'`. Default: none. */
  readonly postgres?: PostgresOptions;
  /**
   * The admin dashboard at `<base>/admin` (docs/admin.md): its own password (at least 12 characters; not
   * the API key), how long a sign-in lasts (`sessionTtlMs`, default 8 h) and how often each node publishes
   * its snapshot (`intervalMs`, default 2000). Default: off (every `/admin` path answers 404).
   */
  readonly admin?: AdminOptions;
  /** Default: Prometheus metrics in a registry of this server's own. */
  readonly metrics?: Metrics;
  /**
   * Where the publish and fan-out spans go (OpenTelemetry). Default: the global tracer provider, which
   * records nothing until an SDK registers itself (docs/operations.md, "Tracing").
   */
  readonly tracerProvider?: TracerProvider;
  /**
   * Where the server logs. Default: warnings and errors as JSON lines on stderr (a pino logger, credentials
   * redacted), so that a failing hook is never silent; pass `silentLogger` for none, or your own (pino
   * fits as it is) for more. The CLI passes a pino logger on stdout at `--log-level`.
   */
  readonly logger?: Logger;
  /** Default: the system clock. */
  readonly clock?: Clock;
}

/** Validate the options that are not numeric limits. */
export function validateOtherOptions(options: ServerOptions): void {
  const port = options.port;
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
    throw new InvalidOptionError('port', port, 'an integer from 0 to 65535');
  }
  const backlog = options.listenBacklog;
  if (backlog !== undefined && (!Number.isInteger(backlog) || backlog < 1 || backlog > 65535)) {
    throw new InvalidOptionError('listenBacklog', backlog, 'an integer from 1 to 65535');
  }
  const basePath = options.basePath;
  if (basePath !== undefined && basePath !== '' && (!basePath.startsWith('/') || basePath.endsWith('/'))) {
    throw new InvalidOptionError('basePath', basePath, "'' or a path starting with / and not ending with /");
  }
  for (const name of ['v1HeartbeatProof', 'roomHeartbeatProof'] as const) {
    const value = options[name];
    if (value !== undefined && !isHeartbeatProof(value))
      throw new InvalidOptionError(name, String(value), `one of ${HEARTBEAT_PROOFS.join(', ')}`);
  }
  validateTls(options);
  validateAuth(options);
  resolveAdminOptions(options.admin);
  validateCompression(options.compression);
  validateList('allowedOrigins', options.allowedOrigins, originPatternProblem);
  const origins = options.allowedOrigins;
  if (options.auth?.cookie !== undefined && (origins === undefined || origins.includes('*'))) {
    // Browsers send cookies with cross-site requests: without a list, any site could open a stream as
    // the user (cross-site WebSocket hijacking, and CORS would let it read an SSE stream).
    throw new InvalidOptionError(
      'auth.cookie',
      options.auth.cookie,
      'a cookie name only together with an allowedOrigins list without *',
    );
  }
  validateList('trustedProxies', options.trustedProxies, trustedProxyProblem);
  if (options.apiKey !== undefined && options.apiKey.length < 16) {
    throw new InvalidOptionError('apiKey', '<redacted>', 'a key of at least 16 characters');
  }
  if (options.apiInsecure === true && options.apiKey !== undefined) {
    throw new InvalidOptionError(
      'apiInsecure',
      true,
      'false when apiKey is set (a keyed API is not insecure)',
    );
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
    if (rule.compress !== undefined && typeof rule.compress !== 'boolean')
      throw new InvalidOptionError(
        `channels[${rule.pattern}].compress`,
        String(rule.compress),
        'true or false',
      );
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
  if (options.http2 !== undefined && typeof options.http2 !== 'boolean')
    throw new InvalidOptionError('http2', options.http2, 'true or false');
  // Browsers speak HTTP/2 over TLS only (no h2c), and an attached server's protocols are its own.
  if (options.http2 === true && tls === undefined)
    throw new InvalidOptionError(
      'http2',
      true,
      'a TLS certificate and key as well (tls): browsers speak HTTP/2 over TLS only',
    );
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

function validateCompression(compression: CompressionOptions | undefined): void {
  if (compression === undefined) return;
  if (compression.enabled !== undefined && typeof compression.enabled !== 'boolean')
    throw new InvalidOptionError('compression.enabled', String(compression.enabled), 'true or false');
  const threshold = compression.thresholdBytes;
  if (
    threshold !== undefined &&
    (!Number.isInteger(threshold) || threshold < 0 || threshold > MAX_COMPRESSION_THRESHOLD)
  ) {
    throw new InvalidOptionError(
      'compression.thresholdBytes',
      threshold,
      `an integer from 0 to ${MAX_COMPRESSION_THRESHOLD}`,
    );
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

/** What proves a connection alive on each endpoint, after defaults. */
export function resolveHeartbeatProofs(options: ServerOptions): HeartbeatProofs {
  return {
    v1: options.v1HeartbeatProof ?? DEFAULT_HEARTBEAT_PROOFS.v1,
    room: options.roomHeartbeatProof ?? DEFAULT_HEARTBEAT_PROOFS.room,
  };
}

/** The `drainMs` of a `drain()` call (`fallback`, the option, when absent); throws InvalidArgumentError. */
export function resolveDrainMs(value: number | undefined, fallback: number): number {
  const drainMs = value ?? fallback;
  const { min, max } = LIMIT_BOUNDS.drainMs;
  if (!Number.isInteger(drainMs) || drainMs < min || drainMs > max)
    throw new InvalidArgumentError(ErrorCode.BadRequest, `drainMs must be an integer from ${min} to ${max}`);
  return drainMs;
}
