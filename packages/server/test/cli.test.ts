/**
 * The `switchboard` CLI: the pure parser against every class of bad input, then the real built
 * executable in a child process (start, /health, ws clients drained with 1012 on SIGTERM, exit codes).
 *
 * The process tests run packages/server/dist/cli/main.js, so build first: `npm test` does, and by hand
 * `npx tsc -b packages/protocol packages/server` before `node --import tsx --test ...`.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { connect as connectTcp, createServer as createNetServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { DEFAULT_LIMITS, InvalidOptionError } from '../src/index.js';
import type { ResolvedLimits } from '../src/index.js';
import { parseCommandLine } from '../src/cli/parse-options.js';
import type { CliCommand, CliConfig, Environment } from '../src/cli/parse-options.js';
import { LOG_LEVELS, OPTION_TABLE } from '../src/cli/option-table.js';
import type { HistoryReadName, NumberOption, OptionSpec } from '../src/cli/option-spec.js';
import { renderHelp } from '../src/cli/help.js';
import {
  MissingValueError,
  UnexpectedArgumentError,
  UnexpectedValueError,
  UnknownOptionError,
  isUsageError,
} from '../src/cli/usage-errors.js';
import { connect } from './helpers.js';

const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const PACKAGE_JSON = new URL('../package.json', import.meta.url);
const KEY = 'k3y-0f-at-least-16-chars';

/** The names the issue fixes; the test fails if a rename drops one. */
const REQUIRED_ENV = [
  'PORT',
  'HOST',
  'SWITCHBOARD_HEARTBEAT_INTERVAL_MS',
  'SWITCHBOARD_HEARTBEAT_TIMEOUT_MS',
  'SWITCHBOARD_MAX_MESSAGE_BYTES',
  'SWITCHBOARD_MAX_BUFFERED_BYTES',
  'SWITCHBOARD_SLOW_CONSUMER_TIMEOUT_MS',
  'SWITCHBOARD_MAX_CHANNEL_LENGTH',
  'SWITCHBOARD_MAX_SUBSCRIPTIONS_PER_CONNECTION',
  'SWITCHBOARD_MAX_CHANNEL_MEMBERS',
  'SWITCHBOARD_ERROR_BURST',
  'SWITCHBOARD_ERROR_REFILL_PER_SECOND',
  'SWITCHBOARD_SHUTDOWN_TIMEOUT_MS',
  'SWITCHBOARD_API_KEY',
  'SWITCHBOARD_API_KEY_FILE',
  'SWITCHBOARD_BASE_PATH',
  'SWITCHBOARD_LOG_LEVEL',
  'SWITCHBOARD_METRICS',
  'SWITCHBOARD_DEMO',
];

// ------------------------------------------------------------------ the parser (pure)

/** A file system of a few files; anything else fails the way readFileSync does. */
function files(contents: Record<string, string> = {}): (path: string) => string {
  return (path) => {
    const text = contents[path];
    if (text === undefined) throw new Error(`ENOENT: no such file or directory, open '${path}'`);
    return text;
  };
}

function parse(argv: string[], env: Environment = {}, read = files()): CliCommand {
  return parseCommandLine(argv, env, read);
}

function config(argv: string[], env: Environment = {}, read = files()): CliConfig {
  const command = parse(argv, env, read);
  assert.equal(command.kind, 'run');
  return (command as Extract<CliCommand, { kind: 'run' }>).config;
}

/** The error `fn` throws, checked to be a usage error of class `type`. */
function failure<T extends Error>(fn: () => unknown, type: new (...args: never[]) => T): T {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
    assert.ok(isUsageError(error), 'every command-line error must count as a usage error (exit 2)');
    return error;
  }
  assert.fail(`expected ${type.name}, nothing was thrown`);
}

function invalid(argv: string[], env: Environment = {}, read = files()): InvalidOptionError {
  return failure(() => parse(argv, env, read), InvalidOptionError);
}

/** The number options that are createServer options (`workers` and the pacing are the CLI's). */
function isServerNumber(
  spec: OptionSpec,
): spec is NumberOption & { readonly name: keyof ResolvedLimits | 'port' } {
  return spec.type === 'number' && spec.cliOnly !== true && !spec.name.includes('.');
}

/** The value at a dotted createServer path (`inbox.limits.maxMessages`). */
function at(options: object, path: string): unknown {
  return path.split('.').reduce<unknown>((value, key) => (value as Record<string, unknown>)?.[key], options);
}

/** The Redis engine's history read pacing options, which land in `config.redis`, not `config.server`. */
function isHistoryRead(spec: OptionSpec): spec is NumberOption & { readonly name: HistoryReadName } {
  return spec.type === 'number' && spec.name.startsWith('historyRead');
}

describe('parseCommandLine', () => {
  test('defaults: port 8080, demo and metrics on, log level info, the library limits', () => {
    const { server, limits, logLevel } = config([]);
    assert.equal(server.port, 8080);
    assert.equal(server.demo, true);
    assert.equal(server.metricsEndpoint, true);
    assert.equal(logLevel, 'info');
    assert.deepEqual(limits, DEFAULT_LIMITS);
    assert.equal(server.host, undefined);
    assert.equal(server.basePath, undefined);
    assert.equal(server.apiKey, undefined);
  });

  test('--help, -h and --version win, even over a broken environment', () => {
    const broken = { SWITCHBOARD_HEARTBEAT_INTERVAL_MS: 'abc' };
    assert.deepEqual(parse(['--help'], broken), { kind: 'help', topic: 'overview' });
    assert.deepEqual(parse(['--port', '1', '-h'], broken), { kind: 'help', topic: 'overview' });
    assert.deepEqual(parse(['--version'], broken), { kind: 'version' });
  });

  test('the issue’s variable names exist and every numeric limit has a derived flag and variable', () => {
    const envs = OPTION_TABLE.map((spec) => spec.env);
    for (const name of REQUIRED_ENV) assert.ok(envs.includes(name), `missing ${name}`);
    assert.equal(new Set(envs).size, envs.length, 'a variable is used twice');
    for (const key of Object.keys(DEFAULT_LIMITS) as (keyof ResolvedLimits)[]) {
      const spec = OPTION_TABLE.find((s) => s.name === key);
      assert.ok(spec, `no option for ${key}`);
      assert.equal(spec.default, DEFAULT_LIMITS[key]);
    }
    assert.equal(OPTION_TABLE.find((s) => s.name === 'heartbeatIntervalMs')?.flag, '--heartbeat-interval-ms');
  });

  test('every numeric server option is read from its variable and from its flag', () => {
    for (const spec of OPTION_TABLE.filter(isServerNumber)) {
      // default + 1 is in bounds for every option and keeps timeout >= 2 x interval.
      const value = spec.default + 1;
      assert.equal(config([], { [spec.env]: String(value) }).server[spec.name], value, spec.env);
      assert.ok(spec.flag !== null);
      assert.equal(config([spec.flag, String(value)]).server[spec.name], value, spec.flag);
      assert.equal(config([`${spec.flag}=${value}`]).server[spec.name], value, `${spec.flag}=`);
    }
    assert.equal(config(['--error-refill-per-second', '0.5']).server.errorRefillPerSecond, 0.5);
  });

  test('--compression and --compression-threshold-bytes make the compression option', () => {
    assert.equal(config([]).server.compression, undefined);
    assert.deepEqual(config(['--compression']).server.compression, { enabled: true, thresholdBytes: 512 });
    assert.deepEqual(
      config([], { SWITCHBOARD_COMPRESSION: '1', SWITCHBOARD_COMPRESSION_THRESHOLD_BYTES: '0' }).server
        .compression,
      { enabled: true, thresholdBytes: 0 },
    );
    assert.throws(() => config(['--compression-threshold-bytes', '-1']), /--compression-threshold-bytes/);
  });

  test('the /health thresholds have flags and variables (health.*), given ones only, bounds checked', () => {
    assert.equal(config([]).server.health, undefined);
    assert.deepEqual(
      config(['--health-loop-delay-ms', '50', '--health-max-rss-bytes', '1000000']).server.health,
      {
        eventLoopDelayMs: 50,
        maxRssBytes: 1_000_000,
      },
    );
    assert.deepEqual(
      config([], { SWITCHBOARD_HEALTH_HEAP_FRACTION: '0.75', SWITCHBOARD_HEALTH_LOOP_WINDOW_MS: '5000' })
        .server.health,
      { heapFraction: 0.75, eventLoopWindowMs: 5000 },
    );
    assert.throws(() => config(['--health-heap-fraction', '1.5']), /--health-heap-fraction/);
    assert.throws(() => config(['--health-loop-delay-ms', '0']), /--health-loop-delay-ms/);
  });

  test('every numeric delivery option lands at its createServer path (inbox.*, queues.*)', () => {
    const rows = OPTION_TABLE.filter((spec) => spec.type === 'number' && /^(inbox|queues)\./.test(spec.name));
    assert.ok(rows.length >= 7);
    for (const spec of rows) {
      assert.ok(spec.type === 'number' && spec.flag !== null);
      const value = spec.default + 1;
      assert.equal(at(config([], { [spec.env]: String(value) }).server, spec.name), value, spec.env);
      assert.equal(at(config([spec.flag, String(value)]).server, spec.name), value, spec.flag);
    }
    const server = config(['--inbox-when-full', 'dead-letter-oldest', '--delivery-store', 'memory']).server;
    assert.equal(server.inbox?.limits?.whenFull, 'dead-letter-oldest');
    assert.equal(server.inbox?.store, 'memory');
    assert.equal(server.queues?.store, 'memory');
    assert.throws(() => config(['--delivery-store', 'mysql']), /--delivery-store/);
    assert.throws(() => config(['--delivery-store', 'redis']), /redis only with --redis-url/);
    assert.throws(() => config(['--delivery-store', 'postgres']), /--postgres-url/);
    assert.throws(() => config([], { SWITCHBOARD_POSTGRES_URL: 'mysql://x' }), /SWITCHBOARD_POSTGRES_URL/);
    const pg = config(['--postgres-url', 'postgres://u@127.0.0.1:5432/db', '--delivery-store', 'postgres']);
    assert.deepEqual(pg.server.postgres, { url: 'postgres://u@127.0.0.1:5432/db' });
  });

  test('the admin dashboard: on with a password (variable or file), its numbers only with one; the password never shown', () => {
    const PASSWORD = 'an admin password';
    assert.equal(config([]).server.admin, undefined);
    assert.deepEqual(config([], { SWITCHBOARD_ADMIN_PASSWORD: PASSWORD }).server.admin, {
      password: PASSWORD,
      intervalMs: 2000,
      sessionTtlMs: 28_800_000,
    });
    const tuned = config(['--admin-interval-ms', '500', '--admin-session-ttl-ms', '60000'], {
      SWITCHBOARD_ADMIN_PASSWORD: PASSWORD,
    }).server.admin;
    assert.deepEqual([tuned?.intervalMs, tuned?.sessionTtlMs], [500, 60_000]);
    const read = files({ '/run/secrets/admin': `  ${PASSWORD}\n` });
    assert.equal(
      config(['--admin-password-file', '/run/secrets/admin'], {}, read).server.admin?.password,
      PASSWORD,
    );
    const both = invalid(['--admin-password-file', '/x'], { SWITCHBOARD_ADMIN_PASSWORD_FILE: '/y' }, read);
    assert.match(both.message, /readable file/);
    const alone = invalid(['--admin-interval-ms', '500']);
    assert.equal(alone.option, '--admin-interval-ms');
    assert.match(alone.message, /SWITCHBOARD_ADMIN_PASSWORD/);
    const short = invalid([], { SWITCHBOARD_ADMIN_PASSWORD: 'short pw' });
    assert.equal(short.option, 'SWITCHBOARD_ADMIN_PASSWORD');
    assert.doesNotMatch(short.message, /short pw/);
    assert.match(
      invalid(['--admin-interval-ms', '5'], { SWITCHBOARD_ADMIN_PASSWORD: PASSWORD }).message,
      /100 to 60000/,
    );
  });

  test('the delivery timers and undeliveredAfterMs land where createServer reads them', () => {
    const server = config([
      '--inbox-retry-min-ms',
      '120000',
      '--inbox-sweep-ms',
      '250',
      '--queue-poll-ms',
      '50',
      '--undelivered-after-ms',
      '60000',
    ]).server;
    // A given min above the default max: the max follows it (not a default that breaks the bound).
    assert.equal(server.inbox?.retryMinMs, 120000);
    assert.equal(server.inbox?.retryMaxMs, undefined);
    assert.equal(server.inbox?.sweepMs, 250);
    assert.equal(server.queues?.pollMs, 50);
    assert.equal(server.undeliveredAfterMs, 60000);
    assert.equal(config([]).server.undeliveredAfterMs, 300000);
    assert.match(
      invalid(['--inbox-retry-min-ms', '500', '--inbox-retry-max-ms', '100']).message,
      /--inbox-retry-max-ms/,
    );
    assert.match(invalid(['--queue-poll-ms', '0']).message, /--queue-poll-ms/);
    assert.match(
      invalid([], { SWITCHBOARD_UNDELIVERED_AFTER_MS: '0' }).message,
      /SWITCHBOARD_UNDELIVERED_AFTER_MS/,
    );
  });

  test('--webhook-url, --webhook-secret (never shown) and --webhook-events make one webhooks target', () => {
    const SECRET_VALUE = 'whsec-do-not-print-0123';
    const env = { SWITCHBOARD_WEBHOOK_SECRET: SECRET_VALUE };
    assert.equal(config([]).server.webhooks, undefined);
    assert.deepEqual(config(['--webhook-url', 'https://backend.example/hook'], env).server.webhooks, [
      { url: 'https://backend.example/hook', secret: SECRET_VALUE },
    ]);
    assert.deepEqual(
      config(['--webhook-url=http://127.0.0.1:9/h', '--webhook-events', 'user.offline, dead_letter'], env)
        .server.webhooks,
      [{ url: 'http://127.0.0.1:9/h', secret: SECRET_VALUE, events: ['user.offline', 'dead_letter'] }],
    );
    const errors = [
      invalid(['--webhook-url', 'ftp://x'], env),
      invalid(['--webhook-url', 'https://x.example']),
      invalid(['--webhook-secret', SECRET_VALUE]),
      invalid([], env),
      invalid(['--webhook-url', 'https://x.example', '--webhook-events', 'user.offline,typo'], env),
      invalid(['--webhook-url', 'https://x.example', '--webhook-events', ','], env),
    ];
    assert.match(errors[0]?.message ?? '', /--webhook-url: expected an http: or https: URL/);
    assert.match(errors[1]?.message ?? '', /SWITCHBOARD_WEBHOOK_SECRET or --webhook-secret is not set/);
    assert.match(
      errors[2]?.message ?? '',
      /"<redacted>" for --webhook-secret: expected only with --webhook-url/,
    );
    assert.match(errors[3]?.message ?? '', /SWITCHBOARD_WEBHOOK_SECRET/);
    assert.match(errors[4]?.message ?? '', /--webhook-events: expected a comma-separated list/);
    assert.match(errors[5]?.message ?? '', /--webhook-events/);
    for (const error of errors) assert.ok(!error.message.includes(SECRET_VALUE), error.message);
  });

  test('Redis and workers: REDIS_URL or --redis-url selects the Redis engine; workers need it', () => {
    assert.equal(config([]).redis, undefined);
    assert.equal(config([]).workers, 1);
    assert.deepEqual(config([], { REDIS_URL: 'redis://127.0.0.1:6380/2' }).redis, {
      url: 'redis://127.0.0.1:6380/2',
      prefix: 'sb',
      historyReadConcurrency: 128,
      historyReadQueueSize: 10_000,
      historyReadQueueTimeoutMs: 5000,
    });
    const both = config([
      '--redis-url',
      'redis-cluster://a:7000,b:7001',
      '--redis-prefix',
      'app1',
      '--workers',
      '4',
    ]);
    assert.deepEqual(both.redis, {
      url: 'redis-cluster://a:7000,b:7001',
      prefix: 'app1',
      historyReadConcurrency: 128,
      historyReadQueueSize: 10_000,
      historyReadQueueTimeoutMs: 5000,
    });
    assert.equal(both.workers, 4);
    assert.equal('workers' in both.server, false, 'workers is not a createServer option');
    assert.throws(() => config(['--workers', '2']), /--workers: expected 1 without --redis-url/);
    assert.throws(() => config([], { REDIS_URL: 'http://x' }), /REDIS_URL: expected redis:\/\//);
    assert.throws(
      () => config(['--redis-url', 'redis://:hunter2@h:1/x']),
      (error: Error) => !error.message.includes('hunter2'),
      'the password is never echoed',
    );
    assert.throws(() => config(['--redis-prefix', 'a b']), /--redis-prefix/);
  });

  test('history read pacing: flags and variables reach the Redis engine, within bounds; ignored without Redis', () => {
    const pacing = OPTION_TABLE.filter(isHistoryRead);
    assert.deepEqual(
      pacing.map((spec) => [spec.flag, spec.env]),
      [
        ['--history-read-concurrency', 'SWITCHBOARD_HISTORY_READ_CONCURRENCY'],
        ['--history-read-queue-size', 'SWITCHBOARD_HISTORY_READ_QUEUE_SIZE'],
        ['--history-read-queue-timeout-ms', 'SWITCHBOARD_HISTORY_READ_QUEUE_TIMEOUT_MS'],
      ],
    );
    const url = 'redis://127.0.0.1:6380';
    for (const spec of pacing) {
      const flag = spec.flag ?? assert.fail(`${spec.name} has no flag`);
      const value = spec.default + 1;
      assert.equal(config([], { REDIS_URL: url, [spec.env]: String(value) }).redis?.[spec.name], value);
      assert.equal(config(['--redis-url', url, `${flag}=${value}`]).redis?.[spec.name], value, flag);
      // The flag wins over the variable.
      const both = config(['--redis-url', url, flag, String(value)], { [spec.env]: String(spec.default) });
      assert.equal(both.redis?.[spec.name], value, `${flag} over ${spec.env}`);

      const { min, max } = spec.bounds;
      assert.equal(invalid(['--redis-url', url, flag, String(min - 1)]).option, flag);
      assert.equal(invalid([], { REDIS_URL: url, [spec.env]: String(max + 1) }).option, spec.env);
      assert.equal(invalid([flag, '1.5']).option, flag, 'a bad value is refused even without Redis');
      assert.equal(invalid([flag, 'many']).option, flag);
      assert.equal(config(['--redis-url', url, flag, String(min)]).redis?.[spec.name], min);
      assert.equal(config(['--redis-url', url, flag, String(max)]).redis?.[spec.name], max);

      // Like --redis-prefix: a valid value changes nothing on the in-memory engine, and is not a server option.
      const memory = config([flag, String(value)]);
      assert.equal(memory.redis, undefined);
      assert.equal(spec.name in memory.server, false, `${spec.name} is not a createServer option`);
    }
  });

  test('string, boolean and level options from flags and variables', () => {
    const env = {
      HOST: '127.0.0.1',
      SWITCHBOARD_BASE_PATH: '/rt',
      SWITCHBOARD_DEMO: 'false',
      SWITCHBOARD_METRICS: '0',
      SWITCHBOARD_LOG_LEVEL: 'DEBUG',
      SWITCHBOARD_API_KEY: KEY,
    };
    const fromEnv = config([], env);
    assert.equal(fromEnv.server.host, '127.0.0.1');
    assert.equal(fromEnv.server.basePath, '/rt');
    assert.equal(fromEnv.server.demo, false);
    assert.equal(fromEnv.server.metricsEndpoint, false);
    assert.equal(fromEnv.server.apiKey, KEY);
    assert.equal(fromEnv.logLevel, 'debug');
    const fromFlags = config([
      '--host',
      '::1',
      '--base-path=/x',
      '--no-demo',
      '--no-metrics',
      '--log-level',
      'warn',
    ]);
    assert.equal(fromFlags.server.host, '::1');
    assert.equal(fromFlags.server.basePath, '/x');
    assert.equal(fromFlags.server.demo, false);
    assert.equal(fromFlags.server.metricsEndpoint, false);
    assert.equal(fromFlags.logLevel, 'warn');
  });

  test('a flag wins over its variable, which wins over the default; the last repeated flag wins', () => {
    assert.equal(config(['--port', '9000'], { PORT: '9001' }).server.port, 9000);
    assert.equal(config([], { PORT: '9001' }).server.port, 9001);
    assert.equal(config(['--demo'], { SWITCHBOARD_DEMO: 'false' }).server.demo, true);
    assert.equal(config(['--no-metrics'], { SWITCHBOARD_METRICS: 'true' }).server.metricsEndpoint, false);
    assert.equal(config(['--log-level', 'error'], { SWITCHBOARD_LOG_LEVEL: 'trace' }).logLevel, 'error');
    assert.equal(config(['--port', '1', '--port', '2']).server.port, 2);
  });

  test('an empty variable counts as unset', () => {
    assert.equal(
      config([], { PORT: '', SWITCHBOARD_METRICS: '', SWITCHBOARD_API_KEY: '' }).server.port,
      8080,
    );
  });

  test('not a number: the message names the variable, the value and the range', () => {
    const error = invalid([], { SWITCHBOARD_HEARTBEAT_INTERVAL_MS: 'abc' });
    assert.equal(
      error.message,
      'invalid value "abc" for SWITCHBOARD_HEARTBEAT_INTERVAL_MS: expected an integer from 10 to 3600000',
    );
    assert.equal(error.option, 'SWITCHBOARD_HEARTBEAT_INTERVAL_MS');
  });

  test('numbers Number() would accept but an operator did not mean are refused', () => {
    for (const raw of ['', ' 80', '0x10', '1e3', '1.5', '12abc', 'Infinity', 'NaN']) {
      const error = invalid(['--port', raw]);
      assert.equal(error.option, '--port', raw);
    }
    for (const raw of ['1e3', '.', '1/2']) invalid([], { SWITCHBOARD_ERROR_REFILL_PER_SECOND: raw });
  });

  test('out of bounds, as a flag and as a variable', () => {
    assert.equal(
      invalid(['--max-message-bytes', '63']).message,
      'invalid value "63" for --max-message-bytes: expected an integer from 64 to 104857600',
    );
    assert.equal(
      invalid(['--port', '-1']).message,
      'invalid value "-1" for --port: expected an integer from 0 to 65535',
    );
    assert.equal(invalid([], { PORT: '65536' }).option, 'PORT');
    assert.equal(
      invalid(['--batch-delay-ms', '1001']).message,
      'invalid value "1001" for --batch-delay-ms: expected an integer from 0 to 1000',
    );
    assert.equal(invalid([], { SWITCHBOARD_BATCH_DELAY_MS: '2.5' }).option, 'SWITCHBOARD_BATCH_DELAY_MS');
    assert.equal(
      invalid([], { SWITCHBOARD_ERROR_REFILL_PER_SECOND: '-0.5' }).option,
      'SWITCHBOARD_ERROR_REFILL_PER_SECOND',
    );
  });

  test('unknown flags, positional arguments, missing values and values on on/off flags', () => {
    assert.equal(failure(() => parse(['--prot', '1']), UnknownOptionError).flag, '--prot');
    assert.equal(failure(() => parse(['-p', '1']), UnknownOptionError).flag, '-p');
    // There is no --api-key flag (command lines are public); a typo must not echo the secret.
    const secret = failure(() => parse([`--api-key=${KEY}`]), UnknownOptionError);
    assert.ok(!secret.message.includes(KEY), secret.message);
    assert.equal(failure(() => parse(['serve']), UnexpectedArgumentError).argument, 'serve');
    assert.equal(failure(() => parse(['--port']), MissingValueError).flag, '--port');
    assert.equal(failure(() => parse(['--port', '--host', 'x']), MissingValueError).flag, '--port');
    assert.equal(failure(() => parse(['--no-demo=1']), UnexpectedValueError).flag, '--no-demo');
  });

  test('bad booleans and bad log levels', () => {
    assert.equal(
      invalid([], { SWITCHBOARD_METRICS: 'maybe' }).message,
      'invalid value "maybe" for SWITCHBOARD_METRICS: expected true or false (also 1 or 0)',
    );
    assert.equal(invalid([], { SWITCHBOARD_DEMO: 'yes' }).option, 'SWITCHBOARD_DEMO');
    assert.match(
      invalid(['--log-level', 'loud']).message,
      /^invalid value "loud" for --log-level: expected one of fatal, .*silent$/,
    );
  });

  test('the log levels are pino’s, plus silent', () => {
    assert.deepEqual([...LOG_LEVELS].sort(), [...Object.keys(pino.levels.values), 'silent'].sort());
  });

  test('a heartbeat timeout under twice the interval names what the user wrote (resolveLimits checks it)', () => {
    assert.equal(
      invalid(['--heartbeat-interval-ms', '30000', '--heartbeat-timeout-ms', '50000']).message,
      'invalid value "50000" for --heartbeat-timeout-ms: expected at least twice --heartbeat-interval-ms (60000)',
    );
    // Only the interval was set: the default timeout is the problem, and the message says which variable fixes it.
    assert.equal(
      invalid([], { SWITCHBOARD_HEARTBEAT_INTERVAL_MS: '30000' }).message,
      'invalid value 45000 for SWITCHBOARD_HEARTBEAT_TIMEOUT_MS (default): expected at least twice SWITCHBOARD_HEARTBEAT_INTERVAL_MS (60000)',
    );
  });

  test('a bad base path is rejected with the server’s rule, named as written', () => {
    const error = invalid([], { SWITCHBOARD_BASE_PATH: 'rt/' });
    assert.equal(error.option, 'SWITCHBOARD_BASE_PATH');
    assert.equal(error.value, 'rt/');
  });

  test('the API key is never echoed', () => {
    const error = invalid([], { SWITCHBOARD_API_KEY: 'hunter2' });
    assert.equal(
      error.message,
      'invalid value "<redacted>" for SWITCHBOARD_API_KEY: expected a key of at least 16 characters',
    );
  });

  test('the API key file: read and trimmed; the flag wins over the key variable', () => {
    const read = files({ '/run/key': `  ${KEY}\n` });
    assert.equal(config([], { SWITCHBOARD_API_KEY_FILE: '/run/key' }, read).server.apiKey, KEY);
    assert.equal(
      config(['--api-key-file', '/run/key'], { SWITCHBOARD_API_KEY: 'x'.repeat(20) }, read).server.apiKey,
      KEY,
    );
  });

  test('the API key file: unreadable, empty, too short, or set alongside the key variable', () => {
    assert.equal(
      invalid([], { SWITCHBOARD_API_KEY_FILE: '/nope' }).message,
      'invalid value "/nope" for SWITCHBOARD_API_KEY_FILE: expected a readable file (ENOENT: no such file or directory)',
    );
    assert.equal(
      invalid(['--api-key-file', '/empty'], {}, files({ '/empty': ' \n' })).option,
      '--api-key-file',
    );
    const short = invalid([], { SWITCHBOARD_API_KEY_FILE: '/short' }, files({ '/short': 'hunter2\n' }));
    assert.equal(
      short.message,
      'invalid value "<redacted>" for SWITCHBOARD_API_KEY_FILE: expected a key of at least 16 characters',
    );
    const both = invalid(
      [],
      { SWITCHBOARD_API_KEY: KEY, SWITCHBOARD_API_KEY_FILE: '/run/key' },
      files({ '/run/key': KEY }),
    );
    assert.equal(both.option, 'SWITCHBOARD_API_KEY_FILE');
    assert.ok(!both.message.includes(KEY), both.message);
  });
});

describe('renderHelp', () => {
  test('lists every option’s flag, variable and default', () => {
    const help = renderHelp('all');
    for (const spec of OPTION_TABLE) {
      assert.ok(help.includes(spec.env), spec.env);
      if (spec.flag !== null) assert.ok(help.includes(spec.flag.slice(2)), spec.flag);
      if (spec.type === 'number')
        assert.ok(help.includes(`Default: ${spec.default}.`), `${spec.env} default`);
    }
    assert.ok(help.includes('--no-demo') || help.includes('--[no-]demo'));
  });
});

// ------------------------------------------------------------------ the built executable

/** The environment of a child: ours without any Switchboard setting, plus `extra`. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (name !== 'PORT' && name !== 'HOST' && !name.startsWith('SWITCHBOARD_')) env[name] = value;
  }
  return { ...env, ...extra };
}

/** Reject with `what` if `promise` takes longer than `ms`. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A spawned CLI whose stdout lines can be awaited and whose exit is a promise. */
class CliProcess {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly waiters: { match: (line: string) => boolean; resolve: (line: string) => void }[] = [];

  constructor(args: string[], env: Record<string, string>) {
    this.child = spawn(process.execPath, [CLI, ...args], {
      env: childEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.exited = new Promise((resolve) =>
      this.child.once('close', (code, signal) => resolve({ code, signal })),
    );
    this.child.stderr?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    if (this.child.stdout !== null) {
      createInterface({ input: this.child.stdout }).on('line', (line) => {
        this.lines.push(line);
        for (const waiter of [...this.waiters]) {
          if (!waiter.match(line)) continue;
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      });
    }
    running.add(this);
    void this.exited.then(() => running.delete(this));
  }

  /** The first stdout line (past or future) matching `match`. */
  line(match: (line: string) => boolean, ms: number, what: string): Promise<string> {
    const seen = this.lines.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    const found = new Promise<string>((resolve) => this.waiters.push({ match, resolve }));
    const ended = this.exited.then(({ code }) => {
      throw new Error(`CLI exited (${code}) before ${what}; stderr: ${this.stderr}`);
    });
    return within(Promise.race([found, ended]), ms, what);
  }

  /** The exit, bounded. */
  exit(ms = 10_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return within(this.exited, ms, 'the CLI to exit');
  }
}

/** Children still running when a test fails; killed so the run never hangs on them. */
const running = new Set<CliProcess>();
after(() => {
  for (const cli of running) cli.child.kill('SIGKILL');
});

/** Parse a pino JSON line. */
function record(line: string): Record<string, unknown> {
  return JSON.parse(line) as Record<string, unknown>;
}

function isListening(line: string): boolean {
  try {
    return record(line)['msg'] === 'switchboard listening';
  } catch {
    return false;
  }
}

describe('the switchboard executable', { concurrency: true }, () => {
  test('the CLI is built', () => {
    assert.ok(
      existsSync(CLI),
      `${CLI} is missing: run npx tsc -b packages/protocol packages/server (npm test builds first)`,
    );
  });

  test('a bad variable exits 2 with one line on stderr naming it', async () => {
    const cli = new CliProcess([], {
      PORT: '0',
      HOST: '127.0.0.1',
      SWITCHBOARD_HEARTBEAT_INTERVAL_MS: 'abc',
    });
    const { code } = await cli.exit();
    assert.equal(code, 2);
    assert.equal(
      cli.stderr,
      'switchboard: invalid value "abc" for SWITCHBOARD_HEARTBEAT_INTERVAL_MS: expected an integer from 10 to 3600000\n',
    );
    assert.deepEqual(cli.lines, []);
  });

  test('an unknown flag exits 2', async () => {
    const cli = new CliProcess(['--prot', '1'], { PORT: '0', HOST: '127.0.0.1' });
    assert.equal((await cli.exit()).code, 2);
    assert.match(cli.stderr, /^switchboard: unknown option --prot/);
  });

  test('--help all exits 0 and lists every variable', async () => {
    const cli = new CliProcess(['--help', 'all'], { PORT: '0', HOST: '127.0.0.1' });
    assert.equal((await cli.exit()).code, 0);
    const help = cli.lines.join('\n');
    for (const name of [...REQUIRED_ENV, ...OPTION_TABLE.map((s) => s.env)])
      assert.ok(help.includes(name), name);
    assert.ok(help.includes('--no-') || help.includes('--[no-]'));
  });

  test('--version prints the server package version', async () => {
    const cli = new CliProcess(['--version'], {});
    assert.equal((await cli.exit()).code, 0);
    const manifest = JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as { version: string };
    assert.deepEqual(cli.lines, [manifest.version]);
  });

  test('starts, logs its URL once, serves /health, and on SIGTERM drains its clients (1012) and exits 0', async () => {
    const drainMs = 400;
    const cli = new CliProcess(['--drain-ms', String(drainMs)], { PORT: '0', HOST: '127.0.0.1' });
    const listening = record(await cli.line(isListening, 10_000, 'the listening line'));
    assert.equal(listening['level'], 30);
    const url = String(listening['url']);
    const port = Number(/^http:\/\/127\.0\.0\.1:(\d+)$/.exec(url)?.[1]);
    assert.ok(port > 0, `no port in ${url}`);

    const health = await within(fetch(`http://127.0.0.1:${port}/health`), 5000, 'GET /health');
    assert.equal(health.status, 200);

    const clients = await Promise.all(
      Array.from({ length: 5 }, () => within(connect(`ws://127.0.0.1:${port}/ws`), 5000, 'a ws connection')),
    );
    for (const client of clients) await client.nextOfType('connected', 5000);
    const signalled = Date.now();
    assert.ok(cli.child.kill('SIGTERM'));
    for (const client of clients) {
      const closed = await within(client.closed, 10_000, 'the ws close');
      assert.equal(closed.code, 1012);
      assert.match(closed.reason, /retry after \d+ ms$/);
    }
    const { code, signal } = await cli.exit();
    assert.deepEqual({ code, signal }, { code: 0, signal: null });
    // The deadline the orchestrator is told about (docs/operations.md): drain window, stop wait, margin.
    assert.ok(
      Date.now() - signalled < drainMs + DEFAULT_LIMITS.shutdownTimeoutMs,
      'exited within the deadline',
    );
    assert.equal(cli.lines.filter(isListening).length, 1, 'exactly one listening line');
    assert.equal(cli.lines.filter((line) => line.includes(url)).length, 1, 'the URL is logged once');
    assert.equal(cli.stderr, '');
  });

  test('SIGINT also stops gracefully with exit 0', async () => {
    const cli = new CliProcess(['--no-demo', '--no-metrics'], { PORT: '0', HOST: '127.0.0.1' });
    await cli.line(isListening, 10_000, 'the listening line');
    cli.child.kill('SIGINT');
    assert.equal((await cli.exit()).code, 0);
  });

  test('a second signal exits 1 at once while the first is still draining', async () => {
    // A long drain, held open by a raw socket that completes the upgrade and then never answers the close.
    const cli = new CliProcess([], {
      PORT: '0',
      HOST: '127.0.0.1',
      SWITCHBOARD_SHUTDOWN_TIMEOUT_MS: '600000',
    });
    const url = String(record(await cli.line(isListening, 10_000, 'the listening line'))['url']);
    const socket = connectTcp({ port: Number(new URL(url).port), host: '127.0.0.1' });
    try {
      socket.write(
        'GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
      );
      const response = await within(
        new Promise<string>((resolve) => socket.once('data', (chunk: Buffer) => resolve(chunk.toString()))),
        5000,
        'the upgrade response',
      );
      assert.match(response, /^HTTP\/1\.1 101 /);
      cli.child.kill('SIGTERM');
      await cli.line((line) => line.includes('"switchboard stopping"'), 5000, 'the stopping line');
      cli.child.kill('SIGTERM');
      assert.equal((await cli.exit(5000)).code, 1);
      assert.ok(
        cli.lines.some((line) => line.includes('second signal')),
        'the forced exit is logged',
      );
    } finally {
      socket.destroy();
    }
  });

  test('a port in use exits 1 with a clear message', async () => {
    const blocker = createNetServer();
    await within(
      new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve)),
      5000,
      'the blocker',
    );
    try {
      const port = (blocker.address() as AddressInfo).port;
      const cli = new CliProcess([], { PORT: String(port), HOST: '127.0.0.1' });
      assert.equal((await cli.exit()).code, 1);
      assert.equal(cli.stderr.split('\n').filter(Boolean).length, 1, cli.stderr);
      assert.match(
        cli.stderr,
        new RegExp(`^switchboard: cannot listen on 127\\.0\\.0\\.1, port ${port}: .*EADDRINUSE`),
      );
    } finally {
      blocker.close();
    }
  });
});
