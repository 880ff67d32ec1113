/**
 * The shape of one row of the CLI's option table: what every option has (name, flag, variable,
 * description) and what each kind adds (bounds, choices, allowed forms).
 */
import type { LevelWithSilent } from 'pino';
import type { ResolvedLimits } from '../limits/resolved-limits.js';
import type { HeartbeatProof } from '../hub/heartbeat-proof.js';
import type { InboxLimits } from '../inbox/inbox-store.js';

/** Inclusive numeric bounds, in the shape of LIMIT_BOUNDS. */
export interface Bounds {
  readonly min: number;
  readonly max: number;
  readonly integer: boolean;
}

/** A pino level name, or `silent`. */
export type LogLevel = LevelWithSilent;

/**
 * The concern an option belongs to: `--help` lists the options group by group, `--help <group>` shows one,
 * and docs/configuration.md has a table per group. Titles and order live in cli/option-groups.ts.
 */
export type OptionGroup =
  | 'server'
  | 'origins'
  | 'auth'
  | 'api'
  | 'tls'
  | 'connections'
  | 'limits'
  | 'heartbeat'
  | 'channels'
  | 'compression'
  | 'history'
  | 'redis'
  | 'delivery'
  | 'admin'
  | 'observability';

/** Fields every option has. */
interface OptionBase {
  /** The help group (required, so a row added without one does not compile). */
  readonly group: OptionGroup;
  /**
   * The createServer option of the same name (a dotted path for a nested one: `tls.certFile`), or a
   * setting only the CLI has (`cliOnly`).
   */
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

/** A number option: the port, one of the server's numeric limits, or a CLI one (workers, Redis read pacing). */
export interface NumberOption extends OptionBase {
  readonly type: 'number';
  readonly name:
    | keyof ResolvedLimits
    | 'port'
    | 'listenBacklog'
    | 'workers'
    | 'undeliveredAfterMs'
    | 'admin.intervalMs'
    | 'admin.sessionTtlMs'
    | 'compression.thresholdBytes'
    | 'health.eventLoopDelayMs'
    | 'health.eventLoopWindowMs'
    | 'health.heapFraction'
    | 'health.maxRssBytes'
    | HistoryReadName
    | DeliveryNumberName;
  readonly bounds: Bounds;
  readonly default: number;
}

/** An on/off option; the flag also has a `--no-` form. */
export interface BooleanOption extends OptionBase {
  readonly type: 'boolean';
  readonly name:
    | 'demo'
    | 'metricsEndpoint'
    | 'requireOrigin'
    | 'apiInsecure'
    | 'http2'
    | 'compression.enabled'
    | AuthBooleanName;
  readonly flag: string;
  readonly default: boolean;
}

/** A free-form string option. */
export interface StringOption extends OptionBase {
  readonly type: 'string';
  readonly name:
    | 'host'
    | 'basePath'
    | 'apiKey'
    | 'apiKeyFile'
    | 'configFile'
    | 'tls.certFile'
    | 'tls.keyFile'
    | 'redisUrl'
    | 'redisPrefix'
    | 'deliveryStore'
    | 'postgres.url'
    | 'webhookUrl'
    | 'webhookSecret'
    | 'webhookEvents'
    | 'admin.password'
    | 'admin.passwordFile'
    | AuthStringName;
  readonly default: undefined;
  readonly defaultText: string;
  /** What a value must look like. */
  readonly allowed: string;
  /** The value is a file path: `<path>` in --help, type `path` in the docs. Default false. */
  readonly path?: boolean;
  /**
   * How `--help` names the value (`host`, `list`); default `path` for a path, else from the name's
   * suffix (`...Ms`: `ms`, `...Url`: `url`), else `string`.
   */
  readonly valueName?: string;
}

/** A list option, written as comma-separated entries (spaces around commas ignored, empty entries dropped). */
export interface ListOption extends OptionBase {
  readonly type: 'list';
  readonly name: 'allowedOrigins' | 'trustedProxies';
  readonly flag: string;
  readonly default: undefined;
  readonly defaultText: string;
  /** What one entry must look like. */
  readonly allowed: string;
}

/** An option whose value is one of a fixed list of `C`. */
interface ChoiceOf<N extends string, C extends string> extends OptionBase {
  readonly type: 'choice';
  readonly name: N;
  readonly flag: string;
  readonly choices: readonly C[];
  readonly default: C;
  /** What a value is called in `--help` (`--log-level <level>`) and the docs' type column. */
  readonly placeholder: string;
}

/** The createServer options that say what proves a connection alive, per endpoint. */
export type HeartbeatProofName = 'v1HeartbeatProof' | 'roomHeartbeatProof';

/** An option whose value is one of a fixed list: the log level, or a heartbeat proof. */
export type ChoiceOption =
  | ChoiceOf<'logLevel', LogLevel>
  | ChoiceOf<HeartbeatProofName, HeartbeatProof>
  | ChoiceOf<'inbox.limits.whenFull', InboxLimits['whenFull']>;

/** One row of the option table. */
export type OptionSpec = NumberOption | BooleanOption | StringOption | ListOption | ChoiceOption;

/** The createRedisEngine options of the history read pacing that the CLI sets. */
export type HistoryReadName = 'historyReadConcurrency' | 'historyReadQueueSize' | 'historyReadQueueTimeoutMs';

/** The on/off rows of `createServer({ auth })`. */
export type AuthBooleanName = 'auth.allowAnonymous' | 'auth.firstMessageAuth' | 'auth.queryToken';

/** The string rows of `createServer({ auth })`; the two numbers among them are parsed by cli/auth-config.ts. */
export type AuthStringName =
  | 'auth.secret'
  | 'auth.secretFile'
  | 'auth.publicKeyFile'
  | 'auth.jwksUrl'
  | 'auth.audience'
  | 'auth.issuer'
  | 'auth.algorithms'
  | 'auth.clockSkewMs'
  | 'auth.ticketTtlMs'
  | 'auth.cookie';

/** The number rows of guaranteed delivery, `createServer({ inbox, queues })` (cli/delivery-config.ts). */
export type DeliveryNumberName =
  | 'inbox.ttlMs'
  | 'inbox.maxAttempts'
  | 'inbox.ackTimeoutMs'
  | 'inbox.limits.maxMessages'
  | 'inbox.limits.maxBytes'
  | 'inbox.retryMinMs'
  | 'inbox.retryMaxMs'
  | 'inbox.sweepMs'
  | 'queues.ackTimeoutMs'
  | 'queues.maxAttempts'
  | 'queues.pollMs';
