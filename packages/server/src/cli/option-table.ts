/**
 * The one description of every `switchboard` option: its createServer name, flag, environment variable,
 * type, default, bounds and help text. The parser, `--help` and docs/configuration.md are all generated
 * from this table, and numeric defaults and bounds are read from DEFAULT_LIMITS / LIMIT_BOUNDS so they
 * are never restated here.
 */
import type { LevelWithSilent } from 'pino';
import { DEFAULT_LIMITS, LIMIT_BOUNDS } from '../server-options.js';
import type { ResolvedLimits } from '../server-options.js';

/** Inclusive numeric bounds, in the shape of LIMIT_BOUNDS. */
export interface Bounds {
  readonly min: number;
  readonly max: number;
  readonly integer: boolean;
}

/** A pino level name, or `silent`. */
export type LogLevel = LevelWithSilent;

/** Every level `--log-level` accepts, most severe first (a test keeps it equal to pino's own list). */
export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Level of the CLI's logger unless `--log-level` says otherwise. */
export const DEFAULT_LOG_LEVEL: LogLevel = 'info';

/** Fields every option has. */
interface OptionBase {
  /** The createServer option of the same name, or a setting only the CLI has (`cliOnly`). */
  readonly name: string;
  /** The long flag (`--port`), or null when the option deliberately has none. */
  readonly flag: string | null;
  /** The environment variable. */
  readonly env: string;
  /** One sentence for `--help` and the docs. */
  readonly description: string;
  /** Default as people should read it, when the value itself does not say it (`every interface`). */
  readonly defaultText?: string;
  /** True when the option is not a createServer option. */
  readonly cliOnly?: boolean;
  /** Never echo the value: error messages say `<redacted>` instead. */
  readonly secret?: boolean;
}

/** A number option: the port or one of the server's numeric limits. */
export interface NumberOption extends OptionBase {
  readonly type: 'number';
  readonly name: keyof ResolvedLimits | 'port';
  readonly bounds: Bounds;
  readonly default: number;
}

/** An on/off option; the flag also has a `--no-` form. */
export interface BooleanOption extends OptionBase {
  readonly type: 'boolean';
  readonly name: 'demo' | 'metricsEndpoint';
  readonly flag: string;
  readonly default: boolean;
}

/** A free-form string option. */
export interface StringOption extends OptionBase {
  readonly type: 'string';
  readonly name: 'host' | 'basePath' | 'apiKey' | 'apiKeyFile';
  readonly default: undefined;
  readonly defaultText: string;
  /** What a value must look like. */
  readonly allowed: string;
}

/** An option whose value is one of a fixed list. */
export interface ChoiceOption extends OptionBase {
  readonly type: 'choice';
  readonly name: 'logLevel';
  readonly flag: string;
  readonly choices: readonly LogLevel[];
  readonly default: LogLevel;
}

/** One row of the option table. */
export type OptionSpec = NumberOption | BooleanOption | StringOption | ChoiceOption;

/** Port bounds: LIMIT_BOUNDS covers only the numeric limits, so validateOtherOptions' range is mirrored here. */
const PORT_BOUNDS: Bounds = { min: 0, max: 65535, integer: true };

/** The help text of each numeric limit; a Record so that a new limit cannot be added without one. */
const LIMIT_DESCRIPTIONS: Readonly<Record<keyof ResolvedLimits, string>> = {
  heartbeatIntervalMs: 'Ping a connection that has been quiet for this long (ms).',
  heartbeatTimeoutMs:
    'Close a connection silent for this long (ms) with 4000; at least twice the heartbeat interval.',
  maxMessageBytes:
    'Largest inbound frame or HTTP API body (bytes); larger frames close the connection with 1009.',
  maxBufferedBytes: 'Soft limit of the outbound buffer of one connection (bytes).',
  slowConsumerTimeoutMs: 'Close a connection whose outbound buffer stays over the soft limit this long (ms).',
  maxChannelLength: 'Longest channel name (characters).',
  maxSubscriptionsPerConnection: 'Subscriptions one connection may hold.',
  maxChannelMembers: 'Default member limit of a channel; 0 means unlimited.',
  errorBurst: 'Error replies a connection may earn in a burst before it is closed with 4501.',
  errorRefillPerSecond: 'Error allowance a connection regains per second (may be fractional).',
  shutdownTimeoutMs: 'How long a graceful stop waits for connections to close before dropping them (ms).',
  historySize: 'Messages kept per channel for reconnect recovery; 0 keeps none (ids still advance).',
  historyTtlMs: 'Age past which a kept message is dropped (ms).',
  sessionGraceMs: 'How long a session outlives its connection so a reconnect can resume it (ms).',
  presenceGraceMs: 'How long a departed user stays present before leave is announced (ms).',
  authTimeoutMs:
    'How long a connection without credentials has to send its first-message auth (ms); then 4506.',
  tokenExpiryGraceMs:
    'How long after its token expires a connection is closed with 4004, unless refreshed (ms).',
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
    flag: '--port',
    // PORT, not SWITCHBOARD_PORT: it is what Heroku, Cloud Run, Render and most PaaS set.
    env: 'PORT',
    bounds: PORT_BOUNDS,
    default: 8080,
    description: 'Port to listen on; 0 picks a free port.',
  },
  {
    type: 'string',
    name: 'host',
    flag: '--host',
    env: 'HOST',
    default: undefined,
    defaultText: 'every interface',
    allowed: 'a host name or IP address',
    description: 'Interface to listen on, e.g. 127.0.0.1.',
  },
  {
    type: 'string',
    name: 'basePath',
    flag: '--base-path',
    env: 'SWITCHBOARD_BASE_PATH',
    default: undefined,
    defaultText: 'none',
    // The same words validateOtherOptions uses when it rejects a base path.
    allowed: "'' or a path starting with / and not ending with /",
    description: 'Prefix of every route (`<base>/ws`, `<base>/health`, ...).',
  },
  {
    type: 'boolean',
    name: 'demo',
    flag: '--demo',
    env: 'SWITCHBOARD_DEMO',
    default: true,
    description: 'Serve the demo chat page at `<base>/` (the library default is off; the CLI turns it on).',
  },
  {
    type: 'boolean',
    name: 'metricsEndpoint',
    flag: '--metrics',
    env: 'SWITCHBOARD_METRICS',
    default: true,
    description: 'Expose Prometheus metrics at `<base>/metrics`.',
  },
  {
    type: 'string',
    name: 'apiKey',
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
    flag: '--api-key-file',
    env: 'SWITCHBOARD_API_KEY_FILE',
    default: undefined,
    defaultText: 'none',
    allowed: 'a readable file',
    cliOnly: true,
    description: 'Read the API key from this file (surrounding whitespace trimmed), e.g. a mounted secret.',
  },
  {
    type: 'choice',
    name: 'logLevel',
    flag: '--log-level',
    env: 'SWITCHBOARD_LOG_LEVEL',
    choices: LOG_LEVELS,
    default: DEFAULT_LOG_LEVEL,
    cliOnly: true,
    description: 'Lowest level of the JSON log lines written to stdout.',
  },
  ...(Object.keys(DEFAULT_LIMITS) as (keyof ResolvedLimits)[]).map(limitOption),
];

/** What a value must look like, in the words error messages, `--help` and the docs share. */
export function describeAllowed(spec: OptionSpec): string {
  switch (spec.type) {
    case 'number': {
      const { min, max, integer } = spec.bounds;
      return `${integer ? 'an integer' : 'a number'} from ${min} to ${max}`;
    }
    case 'boolean':
      return 'true or false (also 1 or 0)';
    case 'choice':
      return `one of ${spec.choices.join(', ')}`;
    case 'string':
      return spec.allowed;
  }
}

/** The default as text (`8080`, `true`, `every interface`). */
export function describeDefault(spec: OptionSpec): string {
  if (spec.defaultText !== undefined) return spec.defaultText;
  return String(spec.default);
}

/** The flag as `--help` shows it: `--[no-]demo`, `--port <integer>`, or `(none)`. */
export function describeFlag(spec: OptionSpec): string {
  if (spec.flag === null) return '(none)';
  switch (spec.type) {
    case 'boolean':
      return `--[no-]${spec.flag.slice(2)}`;
    case 'number':
      return `${spec.flag} <${spec.bounds.integer ? 'integer' : 'number'}>`;
    case 'choice':
      return `${spec.flag} <level>`;
    case 'string':
      return `${spec.flag} <${spec.name === 'apiKeyFile' ? 'path' : 'string'}>`;
  }
}
