/**
 * The `switchboard` options of guaranteed delivery, `createServer({ inbox, queues, postgres })`: rows of
 * the option table (option-table.ts), kept apart like the auth rows. Defaults and bounds come from
 * hub/guaranteed-config.ts, so they are never restated here.
 */
import {
  DEFAULT_INBOX_CONFIG,
  DEFAULT_QUEUE_CONFIG,
  MAX_DELIVERY_ATTEMPTS,
  MAX_DELIVERY_TTL_MS,
} from '../hub/guaranteed-config.js';
import { DEFAULT_UNDELIVERED_AFTER_MS } from '../hub/undelivered-sweep.js';
import { WEBHOOK_EVENTS } from '../webhooks/webhooks.js';
import type { OptionSpec } from './option-spec.js';

const TIMEOUT_BOUNDS = { min: 10, max: 3_600_000, integer: true };
const ATTEMPT_BOUNDS = { min: 1, max: MAX_DELIVERY_ATTEMPTS, integer: true };

/** Inboxes, work queues and their store (docs/delivery.md). */
export const DELIVERY_OPTIONS: readonly OptionSpec[] = [
  {
    type: 'string',
    name: 'deliveryStore',
    group: 'delivery',
    flag: '--delivery-store',
    env: 'SWITCHBOARD_DELIVERY_STORE',
    default: undefined,
    defaultText: "the engine's: redis with --redis-url, else memory",
    allowed: 'memory, redis or postgres',
    valueName: 'store',
    cliOnly: true,
    description:
      'Where inboxes and work queues are kept (`inbox.store` and `queues.store`): memory (one process), redis (needs --redis-url) or postgres (needs --postgres-url).',
  },
  {
    type: 'string',
    name: 'postgres.url',
    group: 'delivery',
    flag: '--postgres-url',
    env: 'SWITCHBOARD_POSTGRES_URL',
    default: undefined,
    defaultText: 'none',
    allowed: 'a postgres:// or postgresql:// URL',
    valueName: 'url',
    secret: true,
    description:
      'The PostgreSQL database of --delivery-store postgres (`postgres://user:password@host:5432/db`); schema applied at start-up.',
  },
  {
    type: 'number',
    name: 'inbox.ttlMs',
    group: 'delivery',
    flag: '--inbox-ttl-ms',
    env: 'SWITCHBOARD_INBOX_TTL_MS',
    bounds: { min: 1, max: MAX_DELIVERY_TTL_MS, integer: true },
    default: DEFAULT_INBOX_CONFIG.ttlMs,
    description:
      "How long an inbox message waits for its devices' acks (ms) unless deliver says otherwise; then it leaves, as a dead letter if no device acked it.",
  },
  {
    type: 'number',
    name: 'inbox.maxAttempts',
    group: 'delivery',
    flag: '--inbox-max-attempts',
    env: 'SWITCHBOARD_INBOX_MAX_ATTEMPTS',
    bounds: ATTEMPT_BOUNDS,
    default: DEFAULT_INBOX_CONFIG.maxAttempts,
    description:
      'Pushes of an inbox message to one device (nacks, ack timeouts, disconnects) before it becomes a dead letter, unless deliver says otherwise.',
  },
  {
    type: 'number',
    name: 'inbox.ackTimeoutMs',
    group: 'delivery',
    flag: '--inbox-ack-timeout-ms',
    env: 'SWITCHBOARD_INBOX_ACK_TIMEOUT_MS',
    bounds: TIMEOUT_BOUNDS,
    default: DEFAULT_INBOX_CONFIG.ackTimeoutMs,
    description:
      "A device's oldest unacked inbox message is redelivered (after the backoff) once unacked this long (ms).",
  },
  {
    type: 'number',
    name: 'inbox.limits.maxMessages',
    group: 'delivery',
    flag: '--inbox-max-messages',
    env: 'SWITCHBOARD_INBOX_MAX_MESSAGES',
    bounds: { min: 1, max: 10_000_000, integer: true },
    default: DEFAULT_INBOX_CONFIG.limits.maxMessages,
    description: "Most messages one user's inbox holds; then --inbox-when-full decides.",
  },
  {
    type: 'number',
    name: 'inbox.limits.maxBytes',
    group: 'delivery',
    flag: '--inbox-max-bytes',
    env: 'SWITCHBOARD_INBOX_MAX_BYTES',
    bounds: { min: 1, max: 2 ** 40, integer: true },
    default: DEFAULT_INBOX_CONFIG.limits.maxBytes,
    description: "Most payload bytes (JSON) one user's inbox holds; then --inbox-when-full decides.",
  },
  {
    type: 'choice',
    name: 'inbox.limits.whenFull',
    group: 'delivery',
    flag: '--inbox-when-full',
    env: 'SWITCHBOARD_INBOX_WHEN_FULL',
    choices: ['reject', 'dead-letter-oldest'],
    default: DEFAULT_INBOX_CONFIG.limits.whenFull,
    placeholder: 'policy',
    description:
      'A deliver to a full inbox: reject it (507 inbox_full), or move the oldest messages to dead letters (reason evicted) until it fits.',
  },
  {
    type: 'number',
    name: 'queues.ackTimeoutMs',
    group: 'delivery',
    flag: '--queue-ack-timeout-ms',
    env: 'SWITCHBOARD_QUEUE_ACK_TIMEOUT_MS',
    bounds: TIMEOUT_BOUNDS,
    default: DEFAULT_QUEUE_CONFIG.ackTimeoutMs,
    description: "A job's lock (ms): unacked this long, it goes to another consumer.",
  },
  {
    type: 'number',
    name: 'queues.maxAttempts',
    group: 'delivery',
    flag: '--queue-max-attempts',
    env: 'SWITCHBOARD_QUEUE_MAX_ATTEMPTS',
    bounds: ATTEMPT_BOUNDS,
    default: DEFAULT_QUEUE_CONFIG.maxAttempts,
    description: 'Claims of a job before it becomes a dead letter, unless enqueue says otherwise.',
  },
  {
    type: 'number',
    name: 'inbox.retryMinMs',
    group: 'delivery',
    flag: '--inbox-retry-min-ms',
    env: 'SWITCHBOARD_INBOX_RETRY_MIN_MS',
    bounds: { min: 1, max: 3_600_000, integer: true },
    default: DEFAULT_INBOX_CONFIG.retryMinMs,
    description:
      'Redelivery backoff after a nack or an ack timeout: a random delay up to this (ms), doubling per attempt up to --inbox-retry-max-ms.',
  },
  {
    type: 'number',
    name: 'inbox.retryMaxMs',
    group: 'delivery',
    flag: '--inbox-retry-max-ms',
    env: 'SWITCHBOARD_INBOX_RETRY_MAX_MS',
    bounds: { min: 1, max: 3_600_000, integer: true },
    default: DEFAULT_INBOX_CONFIG.retryMaxMs,
    defaultText: `${DEFAULT_INBOX_CONFIG.retryMaxMs}, or --inbox-retry-min-ms when larger`,
    description: 'The largest redelivery backoff of an inbox message (ms); at least --inbox-retry-min-ms.',
  },
  {
    type: 'number',
    name: 'inbox.sweepMs',
    group: 'delivery',
    flag: '--inbox-sweep-ms',
    env: 'SWITCHBOARD_INBOX_SWEEP_MS',
    bounds: TIMEOUT_BOUNDS,
    default: DEFAULT_INBOX_CONFIG.sweepMs,
    description: 'How often each node moves expired inbox messages to dead letters (ms).',
  },
  {
    type: 'number',
    name: 'queues.pollMs',
    group: 'delivery',
    flag: '--queue-poll-ms',
    env: 'SWITCHBOARD_QUEUE_POLL_MS',
    bounds: TIMEOUT_BOUNDS,
    default: DEFAULT_QUEUE_CONFIG.pollMs,
    description:
      'How often a node with consumers of a queue looks for expired locks and delayed jobs (ms); an enqueue or an ack wakes it at once.',
  },
  {
    type: 'number',
    name: 'undeliveredAfterMs',
    group: 'delivery',
    flag: '--undelivered-after-ms',
    env: 'SWITCHBOARD_UNDELIVERED_AFTER_MS',
    bounds: { min: 1, max: MAX_DELIVERY_TTL_MS, integer: true },
    default: DEFAULT_UNDELIVERED_AFTER_MS,
    description:
      'An inbox message no device acked this long after its delivery is reported to the inbox.undelivered webhook (ms); only with --webhook-url.',
  },
  {
    type: 'string',
    name: 'webhookUrl',
    group: 'delivery',
    flag: '--webhook-url',
    env: 'SWITCHBOARD_WEBHOOK_URL',
    default: undefined,
    defaultText: 'none',
    allowed: 'an http: or https: URL',
    valueName: 'url',
    cliOnly: true,
    description:
      'POST signed events (user.offline, inbox.undelivered, dead_letter) to this URL (`webhooks` option; more targets: the config file); needs --webhook-secret.',
  },
  {
    type: 'string',
    name: 'webhookSecret',
    group: 'delivery',
    flag: '--webhook-secret',
    env: 'SWITCHBOARD_WEBHOOK_SECRET',
    default: undefined,
    defaultText: 'none',
    allowed: 'a non-empty string',
    valueName: 'secret',
    cliOnly: true,
    secret: true,
    description:
      "The HMAC-SHA256 key of --webhook-url's Switchboard-Signature header; prefer the variable (command lines are public).",
  },
  {
    type: 'string',
    name: 'webhookEvents',
    group: 'delivery',
    flag: '--webhook-events',
    env: 'SWITCHBOARD_WEBHOOK_EVENTS',
    default: undefined,
    defaultText: 'every event',
    allowed: `a comma-separated list of ${WEBHOOK_EVENTS.join(', ')}`,
    valueName: 'list',
    cliOnly: true,
    description: 'The events sent to --webhook-url.',
  },
];
