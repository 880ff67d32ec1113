/**
 * The numeric limits every part of the server reads: their defaults, bounds and validation, from one
 * table that also drives the CLI, `--help` and docs/configuration.md.
 */
import { InvalidOptionError } from '../errors.js';

/** The numeric options as given (any may be left out); `ServerOptions` is one. */
export type LimitOptions = { readonly [K in keyof ResolvedLimits]?: number };

/** The numeric limits after defaults and validation. */
export interface ResolvedLimits {
  readonly heartbeatIntervalMs: number;
  readonly heartbeatTimeoutMs: number;
  readonly sseRetryMs: number;
  readonly pollTimeoutMs: number;
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
  readonly drainMs: number;
  readonly admissionLoopDelayMs: number;
  readonly historySize: number;
  readonly historyTtlMs: number;
  readonly streamTtlMs: number;
  readonly maxIdleStreams: number;
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
  readonly connectionBurst: number;
  readonly maxConnectionsPerIp: number;
  readonly connectionRatePerIp: number;
  readonly connectionBurstPerIp: number;
  readonly maxConnectionsPerUser: number;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly silentSocketTimeoutMs: number;
  readonly apiKeyFailureBurst: number;
  readonly apiKeyFailureRefillPerSecond: number;
}

/** Defaults of every numeric option. */
export const DEFAULT_LIMITS: ResolvedLimits = {
  heartbeatIntervalMs: 15_000,
  heartbeatTimeoutMs: 45_000,
  sseRetryMs: 2000,
  pollTimeoutMs: 25_000,
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
  drainMs: 10_000,
  admissionLoopDelayMs: 0,
  historySize: 100,
  historyTtlMs: 300_000,
  streamTtlMs: 0,
  maxIdleStreams: 10_000,
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
  connectionBurst: 200,
  maxConnectionsPerIp: 1000,
  connectionRatePerIp: 20,
  connectionBurstPerIp: 100,
  maxConnectionsPerUser: 100,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5000,
  silentSocketTimeoutMs: 5000,
  apiKeyFailureBurst: 20,
  apiKeyFailureRefillPerSecond: 0.1,
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
  sseRetryMs: { min: 0, max: 3_600_000, integer: true },
  pollTimeoutMs: { min: 100, max: 600_000, integer: true },
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
  drainMs: { min: 0, max: 3_600_000, integer: true },
  admissionLoopDelayMs: { min: 0, max: 60_000, integer: true },
  historySize: { min: 0, max: 100_000, integer: true },
  historyTtlMs: { min: 1000, max: 604_800_000, integer: true },
  streamTtlMs: { min: 0, max: 2_592_000_000, integer: true },
  maxIdleStreams: { min: 0, max: 100_000_000, integer: true },
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
  connectionBurst: { min: 1, max: 1_000_000, integer: true },
  maxConnectionsPerIp: { min: 0, max: 100_000_000, integer: true },
  connectionRatePerIp: { min: 0, max: 1_000_000, integer: false },
  connectionBurstPerIp: { min: 1, max: 1_000_000, integer: true },
  maxConnectionsPerUser: { min: 0, max: 100_000_000, integer: true },
  headersTimeoutMs: { min: 100, max: 3_600_000, integer: true },
  requestTimeoutMs: { min: 100, max: 3_600_000, integer: true },
  keepAliveTimeoutMs: { min: 100, max: 3_600_000, integer: true },
  silentSocketTimeoutMs: { min: 100, max: 3_600_000, integer: true },
  apiKeyFailureBurst: { min: 1, max: 1_000_000, integer: true },
  apiKeyFailureRefillPerSecond: { min: 0.001, max: 1_000_000, integer: false },
};

/**
 * How long a channel stream with no members and no messages left keeps its position after its last use,
 * as the engines take it: `streamTtlMs`, but never less than the history TTL (so the default, 0, is the
 * history TTL).
 */
export function idleStreamTtlMs(limits: ResolvedLimits): number {
  return Math.max(limits.streamTtlMs, limits.historyTtlMs);
}

/** Apply defaults and validate; throws {@link InvalidOptionError} naming the option, value and bounds. */
export function resolveLimits<T extends LimitOptions>(options: T): ResolvedLimits {
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
