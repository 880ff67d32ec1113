/**
 * argv + environment -> createServer options, or a typed error. Pure: the only I/O, reading the API key
 * file, goes through an injected function, so every bad-input class is unit-tested without a process.
 */
import { InvalidOptionError } from '../errors.js';
import { validateOtherOptions } from '../server-options.js';
import type { ServerOptions } from '../server-options.js';
import { resolveLimits } from '../limits/resolved-limits.js';
import type { ResolvedLimits } from '../limits/resolved-limits.js';
import type { TlsOptions } from '../http/tls.js';
import { takeAuthOptions } from './auth-config.js';
import { takeDeliveryOptions } from './delivery-config.js';
import { takeCompressionOptions } from './compression-option-table.js';
import { takeHealthOptions } from './health-option-table.js';
import { takeWebhookTarget } from './webhook-config.js';
import { takeAdminOptions } from './admin-config.js';
import { resolveGuaranteedConfig } from '../hub/guaranteed-config.js';
import type { InboxLimits } from '../inbox/inbox-store.js';
import { parseRedisUrl } from '../redis/redis-url.js';
import type { HeartbeatProof } from '../hub/heartbeat-proof.js';
import type { RedisEngineOptions } from '../engine/redis-engine.js';
import {
  DEFAULT_HISTORY_READ_CONCURRENCY,
  DEFAULT_HISTORY_READ_QUEUE_SIZE,
  DEFAULT_HISTORY_READ_QUEUE_TIMEOUT_MS,
} from '../history/history-read-pacing.js';
import { DEFAULT_LOG_LEVEL, OPTION_TABLE } from './option-table.js';
import { describeAllowed } from './option-describe.js';
import { parseConfigFile } from './config-file.js';
import { findHelpTopic } from './help-topic.js';
import type { HelpTopic } from './help-topic.js';
import type { ConfigFileOptions } from './config-file.js';
import type {
  BooleanOption,
  ChoiceOption,
  HeartbeatProofName,
  HistoryReadName,
  ListOption,
  LogLevel,
  NumberOption,
  OptionSpec,
  StringOption,
} from './option-spec.js';
import {
  MissingValueError,
  UnexpectedArgumentError,
  UnexpectedValueError,
  UnknownOptionError,
} from './usage-errors.js';

/** What the command line asks for. */
export type CliCommand =
  | { readonly kind: 'help'; readonly topic: HelpTopic }
  | { readonly kind: 'version' }
  | { readonly kind: 'run'; readonly config: CliConfig };

/** A validated configuration, ready for createServer. */
export interface CliConfig {
  /** createServer options, every one set (defaults applied), minus the logger. */
  readonly server: ServerOptions;
  /** The numeric limits as the server will resolve them (the CLI needs shutdownTimeoutMs). */
  readonly limits: ResolvedLimits;
  /** Level of the pino logger. */
  readonly logLevel: LogLevel;
  /** The Redis engine's settings; absent: the in-memory engine. */
  readonly redis?: RedisSettings;
  /** Server processes behind the port (node:cluster); 1 runs in this process. */
  readonly workers: number;
}

/** The createRedisEngine options the CLI sets, every one of them (defaults applied). */
export type RedisSettings = Required<Pick<RedisEngineOptions, 'url' | 'prefix' | HistoryReadName>>;

/** The environment as `process.env` gives it. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** Read a file as UTF-8 text, throwing on failure; injected so the parser does no I/O of its own. */
export type ReadTextFile = (path: string) => string;

/** A value and where it came from, spelled as the user wrote it (`--port`, `PORT`). */
interface Found {
  readonly raw: string;
  readonly source: string;
}

const REDACTED = '<redacted>';
const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)$/;
const TRUE = /^(true|1)$/i;
const FALSE = /^(false|0)$/i;

/** Every spelling of every flag; an on/off option answers to `--x` and `--no-x`. */
const FLAGS: ReadonlyMap<string, OptionSpec> = new Map(
  OPTION_TABLE.flatMap((spec): [string, OptionSpec][] => {
    if (spec.flag === null) return [];
    if (spec.type === 'boolean')
      return [
        [spec.flag, spec],
        [`--no-${spec.flag.slice(2)}`, spec],
      ];
    return [[spec.flag, spec]];
  }),
);

/**
 * Parse the arguments (without `node` and the script) and the environment. A flag wins over its
 * variable, which wins over the default. Throws a UsageError subclass or an InvalidOptionError whose
 * `option` is the flag or variable as the user wrote it; secrets show as `<redacted>`.
 */
export function parseCommandLine(
  argv: readonly string[],
  env: Environment,
  readTextFile: ReadTextFile,
): CliCommand {
  // Help and version win over everything else, so a broken environment cannot hide the help.
  const topic = findHelpTopic(argv);
  if (topic !== undefined) return { kind: 'help', topic };
  if (argv.includes('--version')) return { kind: 'version' };

  const fromFlags = scanFlags(argv);
  const found = new Map<OptionSpec['name'], Found>();
  const numbers: Partial<Record<NumberOption['name'], number>> = {};
  const booleans: Partial<Record<BooleanOption['name'], boolean>> = {};
  const strings: Partial<Record<StringOption['name'], string>> = {};
  const lists: Partial<Record<ListOption['name'], string[]>> = {};
  let logLevel: LogLevel | undefined;
  const proofs: Partial<Record<HeartbeatProofName, HeartbeatProof>> = {};
  let whenFull: InboxLimits['whenFull'] | undefined;

  for (const spec of OPTION_TABLE) {
    const value = fromFlags.get(spec) ?? fromEnv(spec, env);
    if (value !== undefined) found.set(spec.name, value);
    switch (spec.type) {
      case 'number':
        numbers[spec.name] = value === undefined ? spec.default : parseNumber(spec, value);
        break;
      case 'boolean':
        booleans[spec.name] = value === undefined ? spec.default : parseBoolean(spec, value);
        break;
      case 'string':
        if (value !== undefined) strings[spec.name] = value.raw;
        break;
      case 'list':
        if (value !== undefined) lists[spec.name] = parseList(value);
        break;
      case 'choice':
        if (spec.name === 'logLevel') logLevel = parseChoice(spec, value);
        else if (spec.name === 'inbox.limits.whenFull') whenFull = parseChoice(spec, value);
        else proofs[spec.name] = parseChoice(spec, value);
        break;
    }
  }

  const auth = takeAuthOptions(booleans, strings, found, readTextFile);
  const delivery = takeDeliveryOptions(numbers, strings, whenFull, found, strings.redisUrl !== undefined);
  const webhook = takeWebhookTarget(strings, found);
  const admin = takeAdminOptions(numbers, strings, found, readTextFile);
  const compression = takeCompressionOptions(numbers, booleans, found);
  const health = takeHealthOptions(numbers, found);
  const {
    apiKey: keyFromEnv,
    apiKeyFile,
    configFile,
    'tls.certFile': certFile,
    'tls.keyFile': keyFile,
    redisUrl,
    redisPrefix,
    ...listen
  } = strings;
  // The defaults here only satisfy the types: the loop above gave every number option a value.
  const {
    workers = 1,
    historyReadConcurrency = DEFAULT_HISTORY_READ_CONCURRENCY,
    historyReadQueueSize = DEFAULT_HISTORY_READ_QUEUE_SIZE,
    historyReadQueueTimeoutMs = DEFAULT_HISTORY_READ_QUEUE_TIMEOUT_MS,
    ...serverNumbers
  } = numbers;
  const historyReads = { historyReadConcurrency, historyReadQueueSize, historyReadQueueTimeoutMs };
  const redis = resolveRedis(redisUrl, redisPrefix, historyReads, workers, found);
  const apiKey = resolveApiKey(keyFromEnv, apiKeyFile, found, readTextFile);
  const tls = resolveTls(certFile, keyFile, found);
  const fromFile = configFile === undefined ? {} : readConfigFile(configFile, found, readTextFile);
  // The file's targets, then the one of the flags.
  const webhooks = [...(fromFile.webhooks ?? []), ...(webhook === undefined ? [] : [webhook])];
  const server: ServerOptions = {
    ...fromFile,
    ...serverNumbers,
    ...booleans,
    ...listen,
    ...lists,
    ...proofs,
    ...(apiKey === undefined ? {} : { apiKey }),
    ...(tls === undefined ? {} : { tls }),
    ...(auth === undefined ? {} : { auth }),
    ...(compression === undefined ? {} : { compression }),
    ...(health === undefined ? {} : { health }),
    ...delivery,
    ...(webhooks.length === 0 ? {} : { webhooks }),
    ...admin,
  };
  let limits: ResolvedLimits;
  try {
    limits = resolveLimits(server);
    validateOtherOptions(server);
    // The delivery options' cross-checks (retryMaxMs >= retryMinMs), named by their flags.
    resolveGuaranteedConfig(server.inbox, server.queues, server.undeliveredAfterMs);
  } catch (error) {
    throw error instanceof InvalidOptionError ? renameOption(error, found) : error;
  }
  return {
    kind: 'run',
    config: {
      server,
      limits,
      logLevel: logLevel ?? DEFAULT_LOG_LEVEL,
      workers,
      ...(redis === undefined ? {} : { redis }),
    },
  };
}

const REDIS_PREFIX = /^[A-Za-z0-9_.:-]{1,64}$/;

/**
 * The Redis engine settings. Several workers need Redis: without a shared broker each would be a separate
 * server behind one port, and a client would see only the channels of the worker it landed on. The other
 * Redis settings (prefix, history read pacing) are ignored without Redis: they change nothing there.
 */
function resolveRedis(
  url: string | undefined,
  prefix: string | undefined,
  historyReads: Pick<RedisSettings, HistoryReadName>,
  workers: number,
  found: ReadonlyMap<string, Found>,
): RedisSettings | undefined {
  if (prefix !== undefined && !REDIS_PREFIX.test(prefix)) {
    throw new InvalidOptionError(
      found.get('redisPrefix')?.source ?? '--redis-prefix',
      prefix,
      'letters, digits, `_`, `-`, `.` and `:` (at most 64)',
    );
  }
  if (url === undefined) {
    if (workers > 1) {
      throw new InvalidOptionError(
        found.get('workers')?.source ?? '--workers',
        workers,
        '1 without --redis-url / REDIS_URL (workers share channels, history and presence through Redis)',
      );
    }
    return undefined;
  }
  try {
    parseRedisUrl(url);
  } catch (error) {
    if (error instanceof InvalidOptionError)
      throw new InvalidOptionError(
        found.get('redisUrl')?.source ?? '--redis-url',
        error.value,
        error.allowed,
      );
    throw error;
  }
  return { url, prefix: prefix ?? 'sb', ...historyReads };
}

/** Read and shape-check the JSON configuration file, naming it as the user did. */
function readConfigFile(
  path: string,
  found: ReadonlyMap<string, Found>,
  readTextFile: ReadTextFile,
): ConfigFileOptions {
  const source = `${found.get('configFile')?.source ?? '--config'} ${path}`;
  let text: string;
  try {
    text = readTextFile(path);
  } catch (error) {
    throw new InvalidOptionError(
      found.get('configFile')?.source ?? '--config',
      path,
      `a readable file (${(error as Error).message})`,
    );
  }
  return parseConfigFile(text, source);
}

function scanFlags(argv: readonly string[]): Map<OptionSpec, Found> {
  const out = new Map<OptionSpec, Found>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (!arg.startsWith('-')) throw new UnexpectedArgumentError(arg);
    const eq = arg.indexOf('=');
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    const spec = FLAGS.get(flag);
    if (spec === undefined) throw new UnknownOptionError(flag);
    if (spec.type === 'boolean') {
      if (eq !== -1) throw new UnexpectedValueError(flag);
      out.set(spec, { raw: flag.startsWith('--no-') ? 'false' : 'true', source: flag });
      continue;
    }
    let raw: string;
    if (eq !== -1) {
      raw = arg.slice(eq + 1);
    } else {
      // `--port --host x` is a forgotten value, not a port named "--host"; `-1` stays a value.
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) throw new MissingValueError(flag);
      raw = next;
      i++;
    }
    out.set(spec, { raw, source: flag });
  }
  return out;
}

function fromEnv(spec: OptionSpec, env: Environment): Found | undefined {
  const raw = env[spec.env];
  // Empty means unset: `FOO=` in a compose file or `FOO=${FOO:-}` in a script should not be an error.
  return raw === undefined || raw === '' ? undefined : { raw, source: spec.env };
}

function invalid(spec: OptionSpec, value: Found | undefined): InvalidOptionError {
  const shown = spec.secret === true ? REDACTED : (value?.raw ?? '');
  return new InvalidOptionError(value?.source ?? spec.env, shown, describeAllowed(spec));
}

function parseNumber(spec: NumberOption, value: Found): number {
  const { min, max, integer } = spec.bounds;
  const n = Number(value.raw);
  // Number() alone would take '', ' 8', '0x10' and '1e3'; an operator who wrote those meant something else.
  if (!(integer ? INTEGER : DECIMAL).test(value.raw) || n < min || n > max) throw invalid(spec, value);
  return n;
}

/** `a, b,,c` -> ['a', 'b', 'c']: entries are validated by the server's own option checks. */
function parseList(value: Found): string[] {
  return value.raw
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}

/** One of `spec`'s choices (case-insensitive), or its default when the option was not given. */
function parseChoice<C extends string>(
  spec: ChoiceOption & { readonly choices: readonly C[]; readonly default: C },
  value: Found | undefined,
): C {
  if (value === undefined) return spec.default;
  const raw = value.raw.toLowerCase();
  const choice = spec.choices.find((c) => c === raw);
  if (choice === undefined) throw invalid(spec, value);
  return choice;
}

function parseBoolean(spec: BooleanOption, value: Found): boolean {
  if (TRUE.test(value.raw)) return true;
  if (FALSE.test(value.raw)) return false;
  throw invalid(spec, value);
}

function resolveApiKey(
  keyFromEnv: string | undefined,
  path: string | undefined,
  found: Map<OptionSpec['name'], Found>,
  readTextFile: ReadTextFile,
): string | undefined {
  const file = found.get('apiKeyFile');
  if (path === undefined || file === undefined) return keyFromEnv;
  const key = found.get('apiKey');
  // Both variables set is ambiguous; `--api-key-file` on the command line simply wins (flag over env).
  if (key !== undefined && file.source !== '--api-key-file') {
    throw new InvalidOptionError(
      file.source,
      path,
      `no file while ${key.source} is set (set only one of them)`,
    );
  }
  let text: string;
  try {
    text = readTextFile(path);
  } catch (error) {
    // "ENOENT: no such file or directory, open '/x'" -> "ENOENT: no such file or directory".
    const reason = error instanceof Error ? (error.message.split(',')[0] ?? error.message) : String(error);
    throw new InvalidOptionError(file.source, path, `a readable file (${reason})`);
  }
  const trimmed = text.trim();
  if (trimmed === '')
    throw new InvalidOptionError(file.source, path, 'a file holding the API key (it is empty)');
  // A later complaint about the key (too short) must name the file the key came from.
  found.set('apiKey', { raw: REDACTED, source: file.source });
  return trimmed;
}

/** Both TLS files or neither: a certificate without its key (or the reverse) cannot serve anything. */
function resolveTls(
  certFile: string | undefined,
  keyFile: string | undefined,
  found: Map<OptionSpec['name'], Found>,
): TlsOptions | undefined {
  if (certFile !== undefined && keyFile !== undefined) return { certFile, keyFile };
  if (certFile === undefined && keyFile === undefined) return undefined;
  const [given, missing, what] =
    certFile === undefined
      ? (['tls.keyFile', 'tls.certFile', 'a key file together with its certificate'] as const)
      : (['tls.certFile', 'tls.keyFile', 'a certificate file together with its key'] as const);
  const other = OPTION_TABLE.find((s) => s.name === missing);
  const value = found.get(given);
  throw new InvalidOptionError(
    value?.source ?? given,
    value?.raw ?? '',
    `${what} (${other?.env ?? missing} or ${other?.flag ?? missing} is not set)`,
  );
}

/**
 * The server names options in camelCase (`heartbeatTimeoutMs`); say instead what the user wrote, or the
 * variable that would set it when the offending value is a default.
 */
function renameOption(error: InvalidOptionError, found: Map<OptionSpec['name'], Found>): InvalidOptionError {
  const spec = OPTION_TABLE.find((s) => s.name === error.option);
  if (spec === undefined) return error;
  const label = (s: OptionSpec): string => found.get(s.name)?.source ?? s.env;
  const value = found.get(spec.name);
  const option = value === undefined ? `${spec.env} (default)` : value.source;
  const shown = spec.secret === true ? REDACTED : (value?.raw ?? error.value);
  let allowed = error.allowed;
  for (const s of OPTION_TABLE) allowed = allowed.replace(new RegExp(`\\b${s.name}\\b`, 'g'), label(s));
  return new InvalidOptionError(option, shown, allowed);
}
