/**
 * The one description of every `switchboard` option: its createServer name, flag, environment variable,
 * type, default, bounds and help text. The parser, `--help` and docs/configuration.md are all generated
 * from this table, and numeric defaults and bounds are read from DEFAULT_LIMITS / LIMIT_BOUNDS so they
 * are never restated here.
 */
import { DEFAULT_LIMITS, LIMIT_BOUNDS } from '../limits/resolved-limits.js';
import { DEFAULT_LISTEN_BACKLOG } from '../http/attach.js';
import type { ResolvedLimits } from '../limits/resolved-limits.js';
import { AUTH_OPTIONS } from './auth-option-table.js';
import { DELIVERY_OPTIONS } from './delivery-option-table.js';
import { ADMIN_OPTIONS } from './admin-option-table.js';
import { COMPRESSION_OPTIONS } from './compression-option-table.js';
import { HEALTH_OPTIONS } from './health-option-table.js';
import type { Bounds, LogLevel, NumberOption, OptionGroup, OptionSpec } from './option-spec.js';
import { ORIGIN_FORMS } from '../transports/origin.js';
import { TRUSTED_PROXY_FORMS } from '../transports/client-ip.js';
import { REDIS_URL_FORMS } from '../redis/redis-url.js';
import { DEFAULT_HEARTBEAT_PROOFS, HEARTBEAT_PROOFS } from '../hub/heartbeat-proof.js';
import {
  DEFAULT_HISTORY_READ_CONCURRENCY,
  DEFAULT_HISTORY_READ_QUEUE_SIZE,
  DEFAULT_HISTORY_READ_QUEUE_TIMEOUT_MS,
} from '../history/history-read-pacing.js';

/** Every level `--log-level` accepts, most severe first (a test keeps it equal to pino's own list). */
export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Level of the CLI's logger unless `--log-level` says otherwise. */
export const DEFAULT_LOG_LEVEL: LogLevel = 'info';

/** Worker processes: more than the cores is allowed (I/O bound), but not without limit. */
const WORKER_BOUNDS: Bounds = { min: 1, max: 64, integer: true };

/** Port bounds: LIMIT_BOUNDS covers only the numeric limits, so validateOtherOptions' range is mirrored here. */
const PORT_BOUNDS: Bounds = { min: 0, max: 65535, integer: true };

/**
 * The Redis engine's history read pacing (docs/scaling.md, "Subscribe storms"). Like --redis-prefix, they
 * are ignored without --redis-url. createRedisEngine also takes Infinity (no bound); the CLI's bounds are
 * finite, so a typo cannot turn a bound off.
 */
const HISTORY_READ_OPTIONS: readonly NumberOption[] = [
  {
    type: 'number',
    name: 'historyReadConcurrency',
    group: 'redis',
    flag: '--history-read-concurrency',
    env: 'SWITCHBOARD_HISTORY_READ_CONCURRENCY',
    bounds: { min: 1, max: 100_000, integer: true },
    default: DEFAULT_HISTORY_READ_CONCURRENCY,
    cliOnly: true,
    description:
      'With --redis-url: history reads (subscribe positions, recoveries, history pages) this node sends to Redis at once; the others wait their turn.',
  },
  {
    type: 'number',
    name: 'historyReadQueueSize',
    group: 'redis',
    flag: '--history-read-queue-size',
    env: 'SWITCHBOARD_HISTORY_READ_QUEUE_SIZE',
    bounds: { min: 0, max: 1_000_000, integer: true },
    default: DEFAULT_HISTORY_READ_QUEUE_SIZE,
    cliOnly: true,
    description:
      'With --redis-url: history reads that may wait for their turn at once; one more is refused with `unavailable`.',
  },
  {
    type: 'number',
    name: 'historyReadQueueTimeoutMs',
    group: 'redis',
    flag: '--history-read-queue-timeout-ms',
    env: 'SWITCHBOARD_HISTORY_READ_QUEUE_TIMEOUT_MS',
    bounds: { min: 10, max: 600_000, integer: true },
    default: DEFAULT_HISTORY_READ_QUEUE_TIMEOUT_MS,
    cliOnly: true,
    description:
      "With --redis-url: a history read that has waited this long for its turn is refused with `unavailable` (ms); keep it under the SDK's 10 s request timeout.",
  },
];

/** The help text of each numeric limit; a Record so that a new limit cannot be added without one. */
const LIMIT_DESCRIPTIONS: Readonly<Record<keyof ResolvedLimits, string>> = {
  heartbeatIntervalMs:
    'Ping a connection that has been quiet for this long (ms); an SSE stream gets a `: keep-alive` comment line at this interval.',
  sseRetryMs:
    'The `retry:` hint every SSE stream starts with: how long a browser EventSource waits before it reconnects (ms).',
  pollTimeoutMs:
    'Long polling (`/v1/poll`): how long a poll is held when nothing is queued, and how long a connection may go without a poll before it is closed (ms).',
  heartbeatTimeoutMs:
    'Close a connection silent for this long (ms) with 4000; at least twice the heartbeat interval.',
  maxMessageBytes:
    'Largest inbound message or HTTP API body (bytes); a larger message, in one frame or in fragments, closes the connection with 1009.',
  maxBufferedBytes: 'Soft limit of the outbound buffer of one connection (bytes).',
  slowConsumerTimeoutMs:
    'Close a connection whose outbound buffer stays over the soft limit this long, or that does not prove it read what it was sent within it (ms).',
  maxChannelLength: 'Longest channel name (characters).',
  maxSubscriptionsPerConnection: 'Subscriptions one connection may hold.',
  maxChannelMembers: 'Default member limit of a channel; 0 means unlimited.',
  batchDelayMs:
    'How long a channel message may wait (ms) for later ones to share its WebSocket message, for clients that read batched frames (`?batch=1`, as the SDK does); 0: only the messages of one event-loop turn. A channel rule (`--config`) may override it.',
  errorBurst: 'Error replies a connection may earn in a burst before it is closed with 4501.',
  errorRefillPerSecond: 'Error allowance a connection regains per second (may be fractional).',
  shutdownTimeoutMs: 'How long a graceful stop waits for connections to close before dropping them (ms).',
  drainMs:
    'A drain (SIGTERM, `server.drain()`) closes the connections in jittered batches spread over this window, each with 1012 and a reconnect hint, then stops (ms); 0 closes them all at once.',
  admissionLoopDelayMs:
    "Refuse new connections with HTTP 503 and Retry-After while this node's event-loop delay (p99 over the last half second) is over this (ms); open connections keep their service. 0 turns the check off.",
  historySize: 'Messages kept per channel for reconnect recovery; 0 keeps none (ids still advance).',
  historyTtlMs: 'Age past which a kept message is dropped (ms).',
  streamTtlMs:
    'How long a channel stream with no members and no messages left keeps its position (epoch and last id) after its last use (created, published to, left by its last member) (ms); never less than the history TTL, so 0 means the history TTL. Then it is forgotten: its next message starts a new epoch and an old position gets `recovered: false`. Applies to the in-memory and the Redis engine (keys expire).',
  maxIdleStreams:
    'Channel streams with no members and no messages left kept in memory at most (in-memory engine); past it the least recently used is forgotten first. 0 keeps none. Redis keys expire by the stream TTL instead.',
  sessionGraceMs: 'How long a session outlives its connection so a reconnect can resume it (ms).',
  presenceGraceMs: 'How long a departed user stays present before leave is announced (ms).',
  authTimeoutMs:
    'How long a connection without credentials has to send its first-message auth (ms); then 4506.',
  tokenExpiryGraceMs:
    'How long after its token expires a connection is closed with 4004, unless refreshed (ms).',
  messagesPerSecond:
    'Messages per second one connection may send; over it a frame gets rate_limited and is not processed. 0 means unlimited.',
  messageBurst: 'Messages one connection may send at once before the per-second message limit applies.',
  bytesPerSecond:
    'Bytes per second one connection may send; over it a frame gets rate_limited and is not processed. 0 means unlimited.',
  byteBurst: 'Bytes one connection may send at once; at least the largest frame (max message bytes).',
  rateLimitedBurst:
    'rate_limited replies a connection may earn in a burst before it is closed with 4003 (reconnect with backoff).',
  rateLimitedRefillPerSecond: 'rate_limited allowance a connection regains per second (may be fractional).',
  maxConnections:
    'Open connections on this node; past it, HTTP 503 before the upgrade. 0 means unlimited: size it from a load test.',
  connectionRate:
    'New connections per second this node admits, across all clients; past it, HTTP 503. 0 means unlimited.',
  connectionBurst:
    'New connections this node admits at once before the per-second rate applies: small enough that a reconnect storm is spread out.',
  maxConnectionsPerIp:
    'Open connections per client address (IPv6: per /64); past it, HTTP 429. 0 means unlimited.',
  connectionRatePerIp:
    'New connections per second per client address; past it, HTTP 429 with Retry-After. 0 means unlimited.',
  connectionBurstPerIp:
    'New connections one client address may open at once before the per-second rate applies.',
  maxConnectionsPerUser:
    'Open connections per user: HTTP 429 at the handshake, close 4507 after first-message auth. 0 means unlimited.',
  headersTimeoutMs:
    "Time to receive a request's head, WebSocket handshakes included (ms); then 408. Own HTTP server only.",
  requestTimeoutMs:
    'Time to receive a whole HTTP request (ms); at least the headers timeout. Own HTTP server only.',
  keepAliveTimeoutMs: 'Time an idle keep-alive HTTP connection is kept open (ms). Own HTTP server only.',
  silentSocketTimeoutMs:
    'Time a new TCP connection has, from its accept, to deliver a complete request head, TLS handshake included (ms); then 408 and closed. Until then it counts against the per-address connection cap. Own HTTP server only.',
  apiKeyFailureBurst:
    'Failed HTTP API key attempts (wrong or missing key) one client address may make at once; past them, HTTP 429 with Retry-After.',
  apiKeyFailureRefillPerSecond:
    'Failed API key attempts an address regains per second (may be fractional: 0.1 is one every 10 s).',
};

/** The help group of each numeric limit; a Record so that a new limit cannot be added without one. */
const LIMIT_GROUPS: Readonly<Record<keyof ResolvedLimits, OptionGroup>> = {
  heartbeatIntervalMs: 'heartbeat',
  sseRetryMs: 'heartbeat',
  pollTimeoutMs: 'heartbeat',
  heartbeatTimeoutMs: 'heartbeat',
  maxMessageBytes: 'limits',
  maxBufferedBytes: 'limits',
  slowConsumerTimeoutMs: 'limits',
  maxChannelLength: 'channels',
  maxSubscriptionsPerConnection: 'channels',
  maxChannelMembers: 'channels',
  batchDelayMs: 'channels',
  errorBurst: 'limits',
  errorRefillPerSecond: 'limits',
  shutdownTimeoutMs: 'server',
  drainMs: 'server',
  admissionLoopDelayMs: 'connections',
  historySize: 'history',
  historyTtlMs: 'history',
  streamTtlMs: 'history',
  maxIdleStreams: 'history',
  sessionGraceMs: 'history',
  presenceGraceMs: 'history',
  authTimeoutMs: 'auth',
  tokenExpiryGraceMs: 'auth',
  messagesPerSecond: 'limits',
  messageBurst: 'limits',
  bytesPerSecond: 'limits',
  byteBurst: 'limits',
  rateLimitedBurst: 'limits',
  rateLimitedRefillPerSecond: 'limits',
  maxConnections: 'connections',
  connectionRate: 'connections',
  connectionBurst: 'connections',
  maxConnectionsPerIp: 'connections',
  connectionRatePerIp: 'connections',
  connectionBurstPerIp: 'connections',
  maxConnectionsPerUser: 'connections',
  headersTimeoutMs: 'server',
  requestTimeoutMs: 'server',
  keepAliveTimeoutMs: 'server',
  silentSocketTimeoutMs: 'server',
  apiKeyFailureBurst: 'api',
  apiKeyFailureRefillPerSecond: 'api',
};

/** `heartbeatIntervalMs` -> `heartbeat-interval-ms` (flags) or `HEARTBEAT_INTERVAL_MS` (variables). */
function words(name: string): string[] {
  return name.split(/(?=[A-Z])/).map((word) => word.toLowerCase());
}

function limitOption(name: keyof ResolvedLimits): NumberOption {
  const parts = words(name);
  return {
    type: 'number',
    name,
    group: LIMIT_GROUPS[name],
    flag: `--${parts.join('-')}`,
    env: `SWITCHBOARD_${parts.join('_').toUpperCase()}`,
    bounds: LIMIT_BOUNDS[name],
    default: DEFAULT_LIMITS[name],
    description: LIMIT_DESCRIPTIONS[name],
  };
}

/** Every option, in the order `--help` and the docs list them. */
export const OPTION_TABLE: readonly OptionSpec[] = [
  {
    type: 'number',
    name: 'port',
    group: 'server',
    flag: '--port',
    // PORT, not SWITCHBOARD_PORT: it is what Heroku, Cloud Run, Render and most PaaS set.
    env: 'PORT',
    bounds: PORT_BOUNDS,
    default: 8080,
    description: 'Port to listen on; 0 picks a free port.',
  },
  {
    type: 'number',
    name: 'listenBacklog',
    group: 'server',
    flag: '--listen-backlog',
    env: 'SWITCHBOARD_LISTEN_BACKLOG',
    bounds: { min: 1, max: 65535, integer: true },
    default: DEFAULT_LISTEN_BACKLOG,
    description:
      "The listening socket's accept queue (listen(2) backlog; the kernel caps it at net.core.somaxconn). A reconnect storm past it is dropped by the kernel before admission control can answer 503.",
  },
  {
    type: 'string',
    name: 'host',
    group: 'server',
    flag: '--host',
    env: 'HOST',
    default: undefined,
    defaultText: 'every interface',
    allowed: 'a host name or IP address',
    valueName: 'host',
    description: 'Interface to listen on, e.g. 127.0.0.1.',
  },
  {
    type: 'string',
    name: 'basePath',
    group: 'server',
    flag: '--base-path',
    env: 'SWITCHBOARD_BASE_PATH',
    default: undefined,
    defaultText: 'none',
    // The same words validateOtherOptions uses when it rejects a base path.
    allowed: "'' or a path starting with / and not ending with /",
    valueName: 'prefix',
    description: 'Prefix of every route (`<base>/ws`, `<base>/health`, ...).',
  },
  {
    type: 'boolean',
    name: 'demo',
    group: 'server',
    flag: '--demo',
    env: 'SWITCHBOARD_DEMO',
    default: true,
    description:
      'Serve the demo chat page at `<base>/` and the browser SDK at `<base>/sdk/switchboard.js` (the library default is off; the CLI turns it on).',
  },
  {
    type: 'boolean',
    name: 'metricsEndpoint',
    group: 'observability',
    flag: '--metrics',
    env: 'SWITCHBOARD_METRICS',
    default: true,
    description: 'Expose Prometheus metrics at `<base>/metrics`.',
  },
  {
    type: 'string',
    name: 'apiKey',
    group: 'api',
    // No flag on purpose: a command line is readable by every local user (ps, /proc/<pid>/cmdline).
    flag: null,
    env: 'SWITCHBOARD_API_KEY',
    default: undefined,
    defaultText: 'none',
    // validateOtherOptions enforces the length; it is stated here only so --help can say it.
    allowed: 'a key of at least 16 characters',
    secret: true,
    description: 'Require this key on the HTTP API (`Authorization: Bearer <key>` or `X-API-Key`); no flag.',
  },
  {
    type: 'string',
    name: 'apiKeyFile',
    group: 'api',
    flag: '--api-key-file',
    env: 'SWITCHBOARD_API_KEY_FILE',
    default: undefined,
    defaultText: 'none',
    allowed: 'a readable file',
    cliOnly: true,
    path: true,
    description: 'Read the API key from this file (surrounding whitespace trimmed), e.g. a mounted secret.',
  },
  {
    type: 'boolean',
    name: 'apiInsecure',
    group: 'api',
    flag: '--api-insecure',
    env: 'SWITCHBOARD_API_INSECURE',
    default: false,
    description:
      'Without an API key, answer the HTTP API (/api, /stats) from the network too, not only from loopback (logged as a warning); not with a key.',
  },
  {
    type: 'string',
    name: 'configFile',
    group: 'channels',
    flag: '--config',
    env: 'SWITCHBOARD_CONFIG_FILE',
    default: undefined,
    defaultText: 'none',
    allowed: 'a readable JSON file with "channels", "defaultPermission" and/or "webhooks"',
    cliOnly: true,
    path: true,
    description:
      'Channel rules (history, presence, member limits, batch delay, permissions), the default permission (docs/security.md) and webhook targets (`webhooks`: [{ url, secret, events? }], docs/delivery.md), as JSON.',
  },
  {
    type: 'string',
    name: 'tls.certFile',
    group: 'tls',
    flag: '--tls-cert-file',
    env: 'SWITCHBOARD_TLS_CERT_FILE',
    default: undefined,
    defaultText: 'none (plain http and ws)',
    // The parser checks that both files are given; the server reads and checks them at start-up.
    allowed: 'a PEM certificate file, set together with the key file',
    path: true,
    description:
      'Serve https and wss with this certificate (PEM, leaf first, then intermediates); re-read on SIGHUP.',
  },
  {
    type: 'string',
    name: 'tls.keyFile',
    group: 'tls',
    flag: '--tls-key-file',
    env: 'SWITCHBOARD_TLS_KEY_FILE',
    default: undefined,
    defaultText: 'none (plain http and ws)',
    allowed: 'an unencrypted PEM private key file, set together with the certificate file',
    path: true,
    description: 'The private key of that certificate (PEM, not encrypted); re-read on SIGHUP.',
  },
  {
    type: 'boolean',
    name: 'http2',
    group: 'tls',
    flag: '--http2',
    env: 'SWITCHBOARD_HTTP2',
    default: false,
    description:
      'Serve HTTP/2 beside HTTP/1.1 on the TLS port (ALPN): a browser holds all its SSE streams on one connection, past the six per origin of HTTP/1.1. WebSocket stays on HTTP/1.1. Needs the TLS files.',
  },
  {
    type: 'list',
    name: 'allowedOrigins',
    group: 'origins',
    flag: '--allowed-origins',
    env: 'SWITCHBOARD_ALLOWED_ORIGINS',
    default: undefined,
    defaultText: 'every origin (logged as a warning at start-up)',
    allowed: ORIGIN_FORMS,
    description:
      'Origins browsers may connect from (comma-separated); others get HTTP 403. Requests without Origin are not from browsers and pass.',
  },
  {
    type: 'boolean',
    name: 'requireOrigin',
    group: 'origins',
    flag: '--require-origin',
    env: 'SWITCHBOARD_REQUIRE_ORIGIN',
    default: false,
    description:
      'Refuse handshakes without an Origin header with HTTP 403 (deployments that serve browsers only).',
  },
  {
    type: 'list',
    name: 'trustedProxies',
    group: 'origins',
    flag: '--trusted-proxies',
    env: 'SWITCHBOARD_TRUSTED_PROXIES',
    default: undefined,
    defaultText: 'none (X-Forwarded-For is ignored)',
    allowed: TRUSTED_PROXY_FORMS,
    description:
      'Proxies (comma-separated) whose X-Forwarded-For names the client; the rightmost address that is not one of them is the client.',
  },
  {
    type: 'string',
    name: 'redisUrl',
    group: 'redis',
    flag: '--redis-url',
    // REDIS_URL, not SWITCHBOARD_REDIS_URL: it is what Heroku, Render and most Redis add-ons set.
    env: 'REDIS_URL',
    default: undefined,
    defaultText: 'none (the in-memory engine: one process)',
    allowed: REDIS_URL_FORMS,
    cliOnly: true,
    secret: true,
    description:
      'Share channels, history, presence, tickets and counts with every node through this Redis (docs/scaling.md).',
  },
  {
    type: 'string',
    name: 'redisPrefix',
    group: 'redis',
    flag: '--redis-prefix',
    env: 'SWITCHBOARD_REDIS_PREFIX',
    default: undefined,
    defaultText: 'sb',
    allowed: 'letters, digits, `_`, `-`, `.` and `:` (at most 64)',
    cliOnly: true,
    valueName: 'prefix',
    description: 'Namespace of every Redis key and pub/sub channel, so deployments can share one Redis.',
  },
  ...HISTORY_READ_OPTIONS,
  {
    type: 'number',
    name: 'workers',
    group: 'redis',
    flag: '--workers',
    env: 'SWITCHBOARD_WORKERS',
    bounds: WORKER_BOUNDS,
    default: 1,
    cliOnly: true,
    description:
      'Server processes on this machine behind one port (node:cluster); more than 1 requires --redis-url.',
  },
  {
    type: 'choice',
    name: 'logLevel',
    group: 'observability',
    flag: '--log-level',
    env: 'SWITCHBOARD_LOG_LEVEL',
    choices: LOG_LEVELS,
    default: DEFAULT_LOG_LEVEL,
    placeholder: 'level',
    cliOnly: true,
    description: 'Lowest level of the JSON log lines written to stdout.',
  },
  {
    type: 'choice',
    name: 'v1HeartbeatProof',
    group: 'heartbeat',
    flag: '--v1-heartbeat-proof',
    env: 'SWITCHBOARD_V1_HEARTBEAT_PROOF',
    choices: HEARTBEAT_PROOFS,
    default: DEFAULT_HEARTBEAT_PROOFS.v1,
    placeholder: 'proof',
    description:
      'What proves a `/ws` connection alive to the heartbeat: `application`, only frames the client sends (a `pong`, any command; the SDK answers every ping); `any`, WebSocket protocol pings and pongs too, which browsers and libraries answer without the application (wscat-style clients).',
  },
  {
    type: 'choice',
    name: 'roomHeartbeatProof',
    group: 'heartbeat',
    flag: '--room-heartbeat-proof',
    env: 'SWITCHBOARD_ROOM_HEARTBEAT_PROOF',
    choices: HEARTBEAT_PROOFS,
    default: DEFAULT_HEARTBEAT_PROOFS.room,
    placeholder: 'proof',
    description:
      'What proves a `/ws/:room` connection alive: `application` (the seeds\' rule: a client must answer `{"type":"ping"}` or send something within the heartbeat timeout) or `any` (protocol pongs count too).',
  },
  ...AUTH_OPTIONS,
  ...COMPRESSION_OPTIONS,
  ...DELIVERY_OPTIONS,
  ...ADMIN_OPTIONS,
  ...HEALTH_OPTIONS,
  ...(Object.keys(DEFAULT_LIMITS) as (keyof ResolvedLimits)[]).map(limitOption),
];
