/**
 * API key guessing: failed attempts (wrong or missing key) are budgeted per client address, trusted-proxy
 * aware like the handshake. Past the budget the address is answered 429 with Retry-After and its key is
 * not compared, so not even the right key gets through (or is confirmed) until the address has an attempt
 * again; the right key from another address keeps working, and a WebSocket canary keeps its service. Every
 * refusal is counted and logged, at a bounded rate, without the key.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Logger } from '../src/index.js';
import { connectV1, startServer } from './helpers.js';
import type { TestServer } from './helpers.js';
import { assertServed, manualClock, metric } from './limits-helpers.js';

const KEY = 'throttle-test-key-0123456789abcdef';
const WRONG = 'not-the-key-0123456789abcdef-guess';
const BEHIND_PROXY = { trustedProxies: ['127.0.0.1'] } as const;

interface Answer {
  readonly status: number;
  readonly retryAfter: string | null;
  readonly code: string | undefined;
  readonly temporary: boolean | undefined;
}

/** One API request from `address` (an X-Forwarded-For the test's trusted proxy passes on), with `key`. */
async function call(
  t: TestServer,
  path: string,
  options: { address?: string; key?: string; body?: unknown } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (options.address !== undefined) headers['x-forwarded-for'] = options.address;
  if (options.key !== undefined) headers['authorization'] = `Bearer ${options.key}`;
  const init: RequestInit =
    options.body === undefined
      ? { headers }
      : {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json' },
          body: JSON.stringify(options.body),
        };
  const res = await fetch(`${t.httpUrl}${path}`, init);
  const text = await res.text();
  const body = (text === '' ? {} : JSON.parse(text)) as { error?: { code?: string; temporary?: boolean } };
  return {
    status: res.status,
    retryAfter: res.headers.get('retry-after'),
    code: body.error?.code,
    temporary: body.error?.temporary,
  };
}

function assertAnswer(answer: Answer, status: number, code?: string, retryAfter: string | null = null): void {
  assert.deepEqual(
    { status: answer.status, code: answer.code, retryAfter: answer.retryAfter },
    { status, code, retryAfter },
  );
}

test('wrong keys from one address: 401 up to the budget, then 429 with Retry-After, even for the right key; the right key from elsewhere works', async () => {
  const clock = manualClock();
  const t = await startServer({
    ...BEHIND_PROXY,
    clock,
    apiKey: KEY,
    apiKeyFailureBurst: 3,
    apiKeyFailureRefillPerSecond: 0.5,
  });
  try {
    const { client: canary } = await connectV1(t);
    await canary.request({ id: 1, type: 'subscribe', channel: 'canary' });
    const publish = (address: string, key: string): Promise<Answer> =>
      call(t, '/api/publish', { address, key, body: { channel: 'canary', data: address } });
    const guesser = '203.0.113.9';
    for (let i = 0; i < 3; i++) assertAnswer(await publish(guesser, WRONG), 401, 'unauthorized');
    const throttled = await publish(guesser, WRONG);
    // One attempt back every 2 s (0.5 per second).
    assertAnswer(throttled, 429, 'rate_limited', '2');
    assert.equal(throttled.temporary, true);
    // The right key from the throttled address is not even compared: a lucky guess cannot be confirmed.
    assertAnswer(await publish(guesser, KEY), 429, 'rate_limited', '2');
    assertAnswer(await call(t, '/stats', { address: guesser, key: KEY }), 429, 'rate_limited', '2');
    // Another address: the right key works, and its own wrong keys start from its own budget.
    assertAnswer(await publish('198.51.100.7', KEY), 200);
    assert.equal((await canary.nextOfType('message'))['data'], '198.51.100.7');
    assertAnswer(await publish('198.51.100.7', WRONG), 401, 'unauthorized');
    await assertServed(canary);
    // Once the window has passed the address has one attempt again.
    clock.advance(2000);
    assertAnswer(await publish(guesser, KEY), 200);
    assert.equal((await canary.nextOfType('message'))['data'], guesser);
    assert.equal(await metric(t, 'switchboard_api_key_rejected_total', { reason: 'wrong' }), 4);
    assert.equal(await metric(t, 'switchboard_api_key_rejected_total', { reason: 'throttled' }), 3);
    assert.equal(await metric(t, 'switchboard_limits_rejected_total', { limit: 'api_key_failures' }), 3);
    canary.close();
  } finally {
    await t.stop();
  }
});

test('a missing key counts as a failure, and X-Forwarded-For from an untrusted peer does not escape the budget', async () => {
  const clock = manualClock();
  const t = await startServer({ clock, apiKey: KEY, apiKeyFailureBurst: 2 });
  try {
    assertAnswer(await call(t, '/api/stats', { address: '203.0.113.1' }), 401, 'unauthorized');
    assertAnswer(await call(t, '/api/stats', { address: '203.0.113.2', key: WRONG }), 401, 'unauthorized');
    // Every request came from 127.0.0.1, whatever the header said: Retry-After is 10 s at the default rate.
    assertAnswer(
      await call(t, '/api/stats', { address: '203.0.113.3', key: KEY }),
      429,
      'rate_limited',
      '10',
    );
    assert.equal(await metric(t, 'switchboard_api_key_rejected_total', { reason: 'missing' }), 1);
  } finally {
    await t.stop();
  }
});

test('IPv6 addresses share the budget of their /64', async () => {
  const clock = manualClock();
  const t = await startServer({ ...BEHIND_PROXY, clock, apiKey: KEY, apiKeyFailureBurst: 1 });
  try {
    assertAnswer(
      await call(t, '/api/stats', { address: '2001:db8:1:2::1', key: WRONG }),
      401,
      'unauthorized',
    );
    assertAnswer(
      await call(t, '/api/stats', { address: '2001:db8:1:2::beef', key: KEY }),
      429,
      'rate_limited',
      '10',
    );
    assertAnswer(await call(t, '/api/stats', { address: '2001:db8:1:3::1', key: KEY }), 200);
  } finally {
    await t.stop();
  }
});

test('every refused attempt is logged, at a bounded rate, the rest counted in the next line; the key never is', async () => {
  const lines: { fields: Record<string, unknown>; message: string | undefined }[] = [];
  const record = (fields: object, message?: string): void => {
    lines.push({ fields: fields as Record<string, unknown>, message });
  };
  const logger: Logger = { debug: () => {}, info: record, warn: record, error: record };
  const clock = manualClock();
  const t = await startServer({
    ...BEHIND_PROXY,
    clock,
    logger,
    apiKey: KEY,
    apiKeyFailureBurst: 1000,
  });
  try {
    const attempts = 50;
    for (let i = 0; i < attempts; i++)
      assertAnswer(
        await call(t, `/api/stats?token=${WRONG}`, { address: '203.0.113.9', key: `${WRONG}-${i}` }),
        401,
        'unauthorized',
      );
    // The clock stands still: the burst of lines is all there is until it moves.
    const refused = (): typeof lines => lines.filter((l) => l.message?.includes('API key') === true);
    assert.equal(refused().length, 20);
    clock.advance(1000);
    assertAnswer(await call(t, '/api/stats', { address: '203.0.113.9' }), 401, 'unauthorized');
    const all = refused();
    assert.equal(all.length, 21);
    const last = all[20]?.fields;
    assert.deepEqual(last, {
      address: '203.0.113.9',
      method: 'GET',
      path: '/api/stats',
      reason: 'missing',
      suppressed: attempts - 20,
    });
    // Every attempt is accounted for: logged, or counted in a later line.
    const suppressed = all.reduce((n, l) => n + Number(l.fields['suppressed'] ?? 0), 0);
    assert.equal(all.length + suppressed, attempts + 1);
    const text = JSON.stringify(lines);
    assert.ok(!text.includes(WRONG), 'a presented key (or the query string) was logged');
    assert.ok(!text.includes(KEY), 'the key was logged');
  } finally {
    await t.stop();
  }
});
