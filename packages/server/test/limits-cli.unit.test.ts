/** The CLI's side of the limits: the list options, and every numeric limit readable from its variable. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseCommandLine } from '../src/cli/parse-options.js';
import type { CliCommand, CliConfig, Environment } from '../src/cli/parse-options.js';
import { OPTION_TABLE } from '../src/cli/option-table.js';
import { describeAllowed, describeFlag } from '../src/cli/option-describe.js';
import { renderOptionTable } from '../src/cli/config-doc.js';
import { InvalidOptionError } from '../src/errors.js';

function noFiles(path: string): string {
  throw new Error(`ENOENT: no such file or directory, open '${path}'`);
}

function config(argv: string[], env: Environment = {}): CliConfig {
  const command: CliCommand = parseCommandLine(argv, env, noFiles);
  assert.equal(command.kind, 'run');
  return (command as Extract<CliCommand, { kind: 'run' }>).config;
}

function invalid(argv: string[], env: Environment = {}): InvalidOptionError {
  try {
    parseCommandLine(argv, env, noFiles);
  } catch (error) {
    assert.ok(error instanceof InvalidOptionError, String(error));
    return error;
  }
  assert.fail('expected an InvalidOptionError');
}

describe('SWITCHBOARD_ALLOWED_ORIGINS and SWITCHBOARD_TRUSTED_PROXIES', () => {
  it('are unset by default: every origin, no trusted proxy', () => {
    const { server } = config([]);
    assert.equal(server.allowedOrigins, undefined);
    assert.equal(server.trustedProxies, undefined);
  });

  it('read comma-separated lists from variables, spaces and empty entries ignored', () => {
    const { server } = config([], {
      SWITCHBOARD_ALLOWED_ORIGINS: 'https://app.example.com, https://*.example.com,,',
      SWITCHBOARD_TRUSTED_PROXIES: '10.0.0.0/8 , ::1',
    });
    assert.deepEqual(server.allowedOrigins, ['https://app.example.com', 'https://*.example.com']);
    assert.deepEqual(server.trustedProxies, ['10.0.0.0/8', '::1']);
  });

  it('read the same from flags, which win over the variables', () => {
    const { server } = config(['--allowed-origins', '*', '--trusted-proxies=127.0.0.1'], {
      SWITCHBOARD_ALLOWED_ORIGINS: 'https://app.example.com',
    });
    assert.deepEqual(server.allowedOrigins, ['*']);
    assert.deepEqual(server.trustedProxies, ['127.0.0.1']);
  });

  it('name the variable or flag and the bad entry when an entry is invalid', () => {
    const origins = invalid([], { SWITCHBOARD_ALLOWED_ORIGINS: 'https://app.example.com,app.example.com' });
    assert.equal(origins.option, 'SWITCHBOARD_ALLOWED_ORIGINS');
    assert.ok(origins.message.includes('"app.example.com" is not'), origins.message);
    const proxies = invalid(['--trusted-proxies', '10.0.0.0/40']);
    assert.equal(proxies.option, '--trusted-proxies');
    assert.ok(proxies.message.includes('CIDR'), proxies.message);
  });

  it('are described as lists in --help and the docs', () => {
    const spec = OPTION_TABLE.find((s) => s.name === 'allowedOrigins');
    assert.ok(spec);
    assert.equal(describeFlag(spec), '--allowed-origins <list>');
    assert.match(describeAllowed(spec), /^a comma-separated list, each entry /);
    assert.ok(renderOptionTable().includes('`SWITCHBOARD_TRUSTED_PROXIES`'));
  });
});

describe('numeric limits from the environment', () => {
  it('reads every limit of this issue from its variable', () => {
    const { limits } = config([], {
      SWITCHBOARD_MESSAGES_PER_SECOND: '7.5',
      SWITCHBOARD_MESSAGE_BURST: '9',
      SWITCHBOARD_BYTES_PER_SECOND: '0',
      SWITCHBOARD_BYTE_BURST: '70000',
      SWITCHBOARD_RATE_LIMITED_BURST: '3',
      SWITCHBOARD_RATE_LIMITED_REFILL_PER_SECOND: '0.5',
      SWITCHBOARD_MAX_CONNECTIONS: '50000',
      SWITCHBOARD_CONNECTION_RATE: '500',
      SWITCHBOARD_MAX_CONNECTIONS_PER_IP: '10',
      SWITCHBOARD_CONNECTION_RATE_PER_IP: '2',
      SWITCHBOARD_CONNECTION_BURST_PER_IP: '4',
      SWITCHBOARD_MAX_CONNECTIONS_PER_USER: '5',
      SWITCHBOARD_HEADERS_TIMEOUT_MS: '5000',
      SWITCHBOARD_REQUEST_TIMEOUT_MS: '6000',
      SWITCHBOARD_KEEP_ALIVE_TIMEOUT_MS: '7000',
    });
    assert.deepEqual(
      [
        limits.messagesPerSecond,
        limits.messageBurst,
        limits.bytesPerSecond,
        limits.byteBurst,
        limits.rateLimitedBurst,
        limits.rateLimitedRefillPerSecond,
        limits.maxConnections,
        limits.connectionRate,
        limits.maxConnectionsPerIp,
        limits.connectionRatePerIp,
        limits.connectionBurstPerIp,
        limits.maxConnectionsPerUser,
        limits.headersTimeoutMs,
        limits.requestTimeoutMs,
        limits.keepAliveTimeoutMs,
      ],
      [7.5, 9, 0, 70_000, 3, 0.5, 50_000, 500, 10, 2, 4, 5, 5000, 6000, 7000],
    );
  });

  it('names the variable of the default that breaks a pair (byte burst below the largest frame)', () => {
    const error = invalid([], { SWITCHBOARD_MAX_MESSAGE_BYTES: '1048576' });
    assert.equal(error.option, 'SWITCHBOARD_BYTE_BURST (default)');
  });
});

describe('--api-insecure / SWITCHBOARD_API_INSECURE', () => {
  it('is off by default and turned on by the flag or the variable', () => {
    assert.equal(config([]).server.apiInsecure, false);
    assert.equal(config(['--api-insecure']).server.apiInsecure, true);
    assert.equal(config([], { SWITCHBOARD_API_INSECURE: '1' }).server.apiInsecure, true);
  });

  it('is refused together with an API key, naming both settings', () => {
    const error = invalid(['--api-insecure'], { SWITCHBOARD_API_KEY: '0123456789abcdef0123' });
    assert.match(error.message, /--api-insecure.*SWITCHBOARD_API_KEY/);
  });
});
