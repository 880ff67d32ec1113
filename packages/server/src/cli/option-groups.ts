/**
 * The groups of `switchboard --help` and docs/configuration.md: each group's title and one-line summary,
 * in the order they are listed. A Record, so a new group cannot be added to OptionGroup without them.
 */
import type { OptionGroup } from './option-spec.js';

/** What `--help` and the docs say about one group. */
export interface GroupInfo {
  /** Heading, e.g. `Server and listening`. */
  readonly title: string;
  /** One line: what the group's options decide. */
  readonly summary: string;
}

/** Every group, in the order `--help` and the docs list them (a Record keeps insertion order). */
export const OPTION_GROUPS: Readonly<Record<OptionGroup, GroupInfo>> = {
  server: {
    title: 'Server and listening',
    summary: 'where it listens, the routes prefix, the demo page, HTTP timeouts, graceful stop',
  },
  origins: {
    title: 'Origins and proxies',
    summary: 'which browser origins may connect, which proxies name the client address',
  },
  auth: {
    title: 'JWT authentication',
    summary: 'token verification (secret, public key or JWKS), anonymous and first-message auth, tickets',
  },
  api: {
    title: 'HTTP API',
    summary: 'the API key of the publish/admin API and the throttling of wrong keys',
  },
  tls: {
    title: 'TLS',
    summary: 'serve https and wss directly (or terminate TLS at a proxy)',
  },
  connections: {
    title: 'Connection admission',
    summary: 'how many connections, how fast, per node, per address and per user',
  },
  limits: {
    title: 'Per-connection limits',
    summary: 'message size, outbound buffer, slow consumers, message and byte rates, error budgets',
  },
  heartbeat: {
    title: 'Heartbeats',
    summary: 'how often quiet connections are pinged and when a silent one is closed',
  },
  channels: {
    title: 'Channels',
    summary: 'channel rules and permissions, name length, subscriptions, members, batching',
  },
  compression: {
    title: 'Compression',
    summary:
      'permessage-deflate for WebSocket clients that offer it, and the size under which frames stay plain',
  },
  history: {
    title: 'History, recovery and presence',
    summary: 'messages kept for recovery, stream retention, session and presence grace periods',
  },
  redis: {
    title: 'Redis and scale-out',
    summary: 'share everything with other nodes through Redis, worker processes, history read pacing',
  },
  delivery: {
    title: 'Guaranteed delivery',
    summary:
      'inboxes and work queues: their store (memory, Redis, PostgreSQL), TTL, attempts, ack timeouts, bounds',
  },
  admin: {
    title: 'Admin dashboard',
    summary: 'the live dashboard at /admin: its password, session length and snapshot interval',
  },
  observability: {
    title: 'Metrics and logging',
    summary: 'the Prometheus endpoint, the log level, and when /health says degraded',
  },
};

/** The group ids in listing order. */
export const GROUP_ORDER = Object.keys(OPTION_GROUPS) as OptionGroup[];

/** True when `name` is a group id (`--help <group>`). */
export function isOptionGroup(name: string): name is OptionGroup {
  return Object.hasOwn(OPTION_GROUPS, name);
}
