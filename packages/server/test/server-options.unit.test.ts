import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { validateOtherOptions } from '../src/server-options.js';
import type { ServerOptions } from '../src/server-options.js';
import {
  DEFAULT_LIMITS,
  LIMIT_BOUNDS,
  idleStreamTtlMs,
  resolveLimits,
} from '../src/limits/resolved-limits.js';
import type { ResolvedLimits } from '../src/limits/resolved-limits.js';
import type { ChannelRule } from '../src/hub/channel.js';
import { InvalidOptionError } from '../src/errors.js';

type LimitKey = keyof ResolvedLimits;
const LIMIT_KEYS = Object.keys(DEFAULT_LIMITS) as LimitKey[];

/** Options with `key` set to `value`, bypassing the type so tests can pass what a JS caller might. */
function withLimit(key: string, value: unknown, base: ServerOptions = {}): ServerOptions {
  return { ...base, [key]: value } as ServerOptions;
}

/** Options that keep the checked pairs valid while `key` is set, so each bound is tested on its own. */
function isolated(key: LimitKey, value: unknown): ServerOptions {
  if (key === 'heartbeatIntervalMs') return withLimit(key, value, { heartbeatTimeoutMs: 7_200_000 });
  if (key === 'heartbeatTimeoutMs') return withLimit(key, value, { heartbeatIntervalMs: 10 });
  if (key === 'maxMessageBytes') return withLimit(key, value, { byteBurst: LIMIT_BOUNDS.byteBurst.max });
  if (key === 'byteBurst')
    return withLimit(key, value, { maxMessageBytes: LIMIT_BOUNDS.maxMessageBytes.min });
  if (key === 'headersTimeoutMs')
    return withLimit(key, value, { requestTimeoutMs: LIMIT_BOUNDS.requestTimeoutMs.max });
  if (key === 'requestTimeoutMs')
    return withLimit(key, value, { headersTimeoutMs: LIMIT_BOUNDS.headersTimeoutMs.min });
  return withLimit(key, value);
}

/** The InvalidOptionError `fn` throws, failing the test when it throws nothing or something else. */
function invalidOption(fn: () => unknown): InvalidOptionError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof InvalidOptionError, `expected InvalidOptionError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected an InvalidOptionError');
}

describe('resolveLimits: defaults', () => {
  it('returns the documented defaults for empty options', () => {
    assert.deepEqual(resolveLimits({}), DEFAULT_LIMITS);
    assert.deepEqual(DEFAULT_LIMITS, {
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
      drainMs: 10_000,
      admissionLoopDelayMs: 0,
    });
  });

  it('has defaults inside their own bounds', () => {
    for (const key of LIMIT_KEYS) {
      const { min, max } = LIMIT_BOUNDS[key];
      assert.ok(DEFAULT_LIMITS[key] >= min && DEFAULT_LIMITS[key] <= max, key);
    }
  });

  it('treats an explicit undefined as the default', () => {
    assert.deepEqual(
      resolveLimits({ maxMessageBytes: undefined } as unknown as ServerOptions),
      DEFAULT_LIMITS,
    );
  });

  it('returns only the limit keys, ignoring other options', () => {
    const limits = resolveLimits({ port: 1, basePath: '/x', maxChannelLength: 64 });
    assert.deepEqual(Object.keys(limits).sort(), [...LIMIT_KEYS].sort());
    assert.equal(limits.maxChannelLength, 64);
  });
});

describe('resolveLimits: bounds', () => {
  for (const key of LIMIT_KEYS) {
    const { min, max, integer } = LIMIT_BOUNDS[key];
    const range = `${integer ? 'an integer' : 'a number'} from ${min} to ${max}`;

    it(`${key}: accepts ${min} and ${max}`, () => {
      assert.equal(resolveLimits(isolated(key, min))[key], min);
      assert.equal(resolveLimits(isolated(key, max))[key], max);
    });

    it(`${key}: rejects ${min} - 1 and ${max} + 1, naming the option, value and range`, () => {
      for (const value of [min - 1, max + 1]) {
        const error = invalidOption(() => resolveLimits(isolated(key, value)));
        assert.equal(error.option, key);
        assert.equal(error.value, value);
        assert.equal(error.allowed, range);
        assert.equal(error.code, 'invalid_option');
        assert.equal(error.name, 'InvalidOptionError');
        assert.ok(error.message.includes(key), error.message);
        assert.ok(error.message.includes(String(value)), error.message);
        assert.ok(error.message.includes(range), error.message);
      }
    });

    it(`${key}: rejects NaN, Infinity, -Infinity and non-numbers`, () => {
      for (const value of [Number.NaN, Infinity, -Infinity, '100', `${min}`, true, null, [], {}, 10n]) {
        // null reads as "not given" (??) and takes the default, which is fine.
        if (value === null) continue;
        const error = invalidOption(() => resolveLimits(isolated(key, value)));
        assert.equal(error.option, key);
        assert.equal(error.allowed, range);
      }
    });

    if (integer) {
      it(`${key}: rejects a non-integer inside the range`, () => {
        const error = invalidOption(() => resolveLimits(isolated(key, min + 0.5)));
        assert.equal(error.option, key);
        assert.equal(error.value, min + 0.5);
      });
    }
  }

  it('accepts a fractional errorRefillPerSecond', () => {
    assert.equal(resolveLimits({ errorRefillPerSecond: 0.25 }).errorRefillPerSecond, 0.25);
  });

  it('formats a string value in quotes, so "100" and 100 are told apart', () => {
    const error = invalidOption(() => resolveLimits(withLimit('maxMessageBytes', '100')));
    assert.ok(error.message.includes('"100"'), error.message);
  });
});

describe('idleStreamTtlMs: what the engines are given', () => {
  it('is the history TTL by default, streamTtlMs when longer, never less than the history TTL', () => {
    assert.equal(idleStreamTtlMs(resolveLimits({})), 300_000);
    assert.equal(idleStreamTtlMs(resolveLimits({ historyTtlMs: 1000 })), 1000);
    assert.equal(idleStreamTtlMs(resolveLimits({ streamTtlMs: 86_400_000 })), 86_400_000);
    assert.equal(idleStreamTtlMs(resolveLimits({ streamTtlMs: 1000, historyTtlMs: 60_000 })), 60_000);
  });
});

describe('resolveLimits: heartbeat timeout against the interval', () => {
  it('accepts a timeout of exactly twice the interval', () => {
    const limits = resolveLimits({ heartbeatIntervalMs: 1000, heartbeatTimeoutMs: 2000 });
    assert.equal(limits.heartbeatTimeoutMs, 2000);
  });

  it('rejects a timeout shorter than twice the interval, naming heartbeatTimeoutMs, its value and the minimum', () => {
    const error = invalidOption(() => resolveLimits({ heartbeatIntervalMs: 1000, heartbeatTimeoutMs: 1999 }));
    assert.equal(error.option, 'heartbeatTimeoutMs');
    assert.equal(error.value, 1999);
    assert.match(error.allowed, /twice heartbeatIntervalMs \(2000\)/);
    assert.ok(error.message.includes('1999') && error.message.includes('2000'), error.message);
  });

  it('checks the default timeout against a configured interval', () => {
    // 45 s default timeout < 2 x 30 s: the error names the option to change.
    const error = invalidOption(() => resolveLimits({ heartbeatIntervalMs: 30_000 }));
    assert.equal(error.option, 'heartbeatTimeoutMs');
    assert.equal(error.value, 45_000);
  });

  it('reports a bound violation before the pair check', () => {
    const error = invalidOption(() => resolveLimits({ heartbeatIntervalMs: 5, heartbeatTimeoutMs: 5 }));
    assert.equal(error.option, 'heartbeatIntervalMs');
  });
});

describe('resolveLimits: byte burst and HTTP deadlines against their partners', () => {
  it('rejects a byte burst smaller than the largest frame, which could then never pass', () => {
    const error = invalidOption(() => resolveLimits({ maxMessageBytes: 1_048_576 }));
    assert.equal(error.option, 'byteBurst');
    assert.equal(error.value, 262_144);
    assert.match(error.allowed, /at least maxMessageBytes \(1048576\)/);
  });

  it('accepts a byte burst equal to the largest frame, and any burst once bytesPerSecond is 0', () => {
    assert.equal(resolveLimits({ maxMessageBytes: 4096, byteBurst: 4096 }).byteBurst, 4096);
    assert.equal(resolveLimits({ maxMessageBytes: 1_048_576, bytesPerSecond: 0 }).bytesPerSecond, 0);
  });

  it('rejects a headers timeout longer than the request timeout (Node would refuse the server)', () => {
    const error = invalidOption(() => resolveLimits({ headersTimeoutMs: 40_000 }));
    assert.equal(error.option, 'headersTimeoutMs');
    assert.match(error.allowed, /at most requestTimeoutMs \(30000\)/);
    assert.equal(resolveLimits({ headersTimeoutMs: 500, requestTimeoutMs: 500 }).headersTimeoutMs, 500);
  });
});

describe('validateOtherOptions: allowedOrigins and trustedProxies', () => {
  it('accepts origins, wildcard origins, *, addresses and CIDR ranges', () => {
    validateOtherOptions({
      allowedOrigins: ['https://app.example.com', 'http://localhost:3000', 'https://*.example.com', '*'],
      trustedProxies: ['10.0.0.0/8', '127.0.0.1', '::1', 'fd00::/8'],
    });
    validateOtherOptions({ allowedOrigins: [], trustedProxies: [] });
  });

  it('rejects a bad entry, naming the option and the entry', () => {
    for (const entry of ['app.example.com', 'https://app.example.com/path', 'ftp://x.example', '']) {
      const error = invalidOption(() =>
        validateOtherOptions({ allowedOrigins: ['https://ok.example', entry] }),
      );
      assert.equal(error.option, 'allowedOrigins');
      assert.equal(error.value, entry);
      assert.ok(error.allowed.includes(`"${entry}" is not`), error.allowed);
    }
    for (const entry of ['10.0.0.0/33', 'proxy.internal', '10.0.0.1/x', '::1/129']) {
      const error = invalidOption(() => validateOtherOptions({ trustedProxies: [entry] }));
      assert.equal(error.option, 'trustedProxies');
      assert.equal(error.value, entry);
    }
  });

  it('rejects a list that is not an array of strings', () => {
    const notArray = { allowedOrigins: 'https://app.example.com' } as unknown as ServerOptions;
    assert.equal(invalidOption(() => validateOtherOptions(notArray)).option, 'allowedOrigins');
    const notStrings = { trustedProxies: [1] } as unknown as ServerOptions;
    assert.equal(invalidOption(() => validateOtherOptions(notStrings)).option, 'trustedProxies');
  });
});

describe('validateOtherOptions: port', () => {
  it('accepts 0 to 65535 and no port', () => {
    for (const port of [0, 1, 8080, 65_535]) validateOtherOptions({ port });
    validateOtherOptions({});
  });

  it('rejects out-of-range, fractional, non-finite and non-number ports', () => {
    for (const port of [-1, 65_536, 80.5, Number.NaN, Infinity, '8080', null]) {
      const error = invalidOption(() => validateOtherOptions(withLimit('port', port)));
      assert.equal(error.option, 'port');
      assert.equal(error.allowed, 'an integer from 0 to 65535');
      assert.equal(error.value, port);
    }
  });
});

describe('validateOtherOptions: basePath', () => {
  it("accepts '' and paths that start with / and do not end with /", () => {
    for (const basePath of ['', '/sb', '/a/b', '/switchboard-v1']) validateOtherOptions({ basePath });
  });

  it('rejects a path without a leading slash, with a trailing slash, or "/" alone', () => {
    for (const basePath of ['sb', 'sb/', '/sb/', '/', '//', ' /sb']) {
      const error = invalidOption(() => validateOtherOptions({ basePath }));
      assert.equal(error.option, 'basePath');
      assert.equal(error.value, basePath);
    }
  });
});

describe('validateOtherOptions: apiKey', () => {
  it('accepts a key of 16 characters or more', () => {
    validateOtherOptions({ apiKey: 'k'.repeat(16) });
    validateOtherOptions({ apiKey: 'k'.repeat(200) });
  });

  it('rejects a short key without revealing it in the message, the value or the stack', () => {
    const secret = 'hunter2-secret';
    const error = invalidOption(() => validateOtherOptions({ apiKey: secret }));
    assert.equal(error.option, 'apiKey');
    assert.equal(error.value, '<redacted>');
    assert.match(error.message, /<redacted>/);
    assert.match(error.message, /16 characters/);
    for (const text of [error.message, String(error.stack), JSON.stringify(error), String(error.value)]) {
      assert.ok(!text.includes(secret), text);
      assert.ok(!text.includes('hunter2'), text);
    }
  });

  it('rejects an empty key', () => {
    assert.equal(invalidOption(() => validateOtherOptions({ apiKey: '' })).option, 'apiKey');
  });
});

describe('validateOtherOptions: channel rules', () => {
  it('accepts rules with no limit, 0 (unlimited) or a positive integer', () => {
    validateOtherOptions({
      channels: [{ pattern: 'a:*' }, { pattern: 'b:*', maxMembers: 0 }, { pattern: 'c', maxMembers: 10 }],
    });
  });

  it('rejects a negative or fractional maxMembers, naming the rule', () => {
    for (const maxMembers of [-1, 1.5, Number.NaN]) {
      const error = invalidOption(() =>
        validateOtherOptions({ channels: [{ pattern: 'chat:*', maxMembers }] }),
      );
      assert.equal(error.option, 'channels[chat:*].maxMembers');
      assert.equal(error.value, maxMembers);
    }
  });

  it('accepts a batchDelayMs from 0 to 1000 and rejects anything else, naming the rule and the range', () => {
    validateOtherOptions({
      channels: [
        { pattern: 'a:*', batchDelayMs: 0 },
        { pattern: 'b:*', batchDelayMs: 1000 },
      ],
    });
    for (const batchDelayMs of [-1, 1001, 2.5, Number.NaN, '50']) {
      const error = invalidOption(() =>
        validateOtherOptions({ channels: [{ pattern: 'feed:*', batchDelayMs } as ChannelRule] }),
      );
      assert.equal(error.option, 'channels[feed:*].batchDelayMs');
      assert.equal(error.value, batchDelayMs);
      assert.equal(error.allowed, 'an integer from 0 to 1000');
    }
  });
});
