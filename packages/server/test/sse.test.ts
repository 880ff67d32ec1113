// Server-Sent Events for a bare EventSource (issue 14): `/sse/:channel` and `/sse?channel=a&channel=b`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectV1, metricSample, until, waitMembers, withServer } from './helpers.js';
import { createServer } from '../src/index.js';
import type { TestServer } from './helpers.js';
import { openSse, refusal } from './sse-client.js';
import type { SseStream } from './sse-client.js';
import { SECRET, sign } from './auth-fixtures.js';
import { metric } from './limits-helpers.js';

/** Open a stream and wait until the hub holds it in every channel (the `id:` mark follows its joins). */
async function stream(t: TestServer, path: string, headers: Record<string, string> = {}): Promise<SseStream> {
  const s = await openSse(`${t.httpUrl}${path}`, headers);
  assert.equal(s.status, 200, s.raw);
  // Everything before the first bare id (or gap) is the stream's preamble: retry, then its position.
  for (;;) {
    const item = await s.next(3000, true);
    if (item.kind === 'id') return s;
    if (item.kind === 'event') throw new Error(`unexpected ${item.event} before the position mark`);
  }
}

test('GET /sse/:channel: headers, retry hint, then each publication as one event with its id', async () => {
  await withServer({ sseRetryMs: 1234 }, async (t) => {
    const s = await openSse(`${t.httpUrl}/sse/news`);
    assert.equal(s.status, 200);
    assert.match(s.headers['content-type'] ?? '', /^text\/event-stream/);
    assert.match(s.headers['cache-control'] ?? '', /no-cache/);
    assert.equal(s.headers['x-accel-buffering'], 'no');
    assert.deepEqual(await s.next(3000, true), { kind: 'retry', ms: 1234 });
    assert.equal((await s.next(3000, true)).kind, 'id', 'the position comes before any message');
    await waitMembers(t, 'news', 1);
    await t.server.publish('news', { headline: 'one' });
    await t.server.publish('news', { headline: 'two\nlines' });
    const first = await s.expect('message');
    const second = await s.expect('message');
    assert.deepEqual(first.data, { headline: 'one' });
    assert.deepEqual(second.data, { headline: 'two\nlines' });
    assert.notEqual(first.id, '');
    assert.notEqual(first.id, second.id);
    assert.match(s.raw, /\nevent: message\ndata: \{"headline":"one"\}\n\n/, 'the JSON on one data line');
    s.close();
  });
});

test('a reconnect with Last-Event-ID gets the missed messages in order, then live; other clients untouched', async () => {
  await withServer({}, async (t) => {
    const { client: ws } = await connectV1(t);
    ws.send({ type: 'subscribe', id: 1, channel: 'jobs' });
    await ws.next();
    const s = await stream(t, '/sse/jobs');
    await t.server.publish('jobs', { progress: 10 });
    const seen = await s.expect('message');
    s.close();
    await until(() => t.server.stats().connections === 1, 3000, 'the stream to close');
    for (const progress of [25, 50]) await t.server.publish('jobs', { progress });
    const again = await openSse(`${t.httpUrl}/sse/jobs`, { 'last-event-id': seen.id });
    assert.deepEqual((await again.expect('message')).data, { progress: 25 });
    assert.deepEqual((await again.expect('message')).data, { progress: 50 });
    await t.server.publish('jobs', { progress: 100 });
    assert.deepEqual((await again.expect('message')).data, { progress: 100 });
    // The WebSocket subscriber saw every message once, in order.
    for (const progress of [10, 25, 50, 100]) {
      const frame = await ws.next();
      assert.deepEqual(frame['data'], { progress });
    }
    again.close();
    ws.close();
  });
});

test('?last_event_id= resumes a first connect (EventSource cannot set headers)', async () => {
  await withServer({}, async (t) => {
    const s = await stream(t, '/sse/feed');
    const position = s.lastEventId;
    s.close();
    await t.server.publish('feed', { n: 1 });
    const again = await openSse(`${t.httpUrl}/sse/feed?last_event_id=${encodeURIComponent(position)}`);
    assert.deepEqual((await again.expect('message')).data, { n: 1 });
    again.close();
  });
});

test('garbage, oversized and foreign-epoch Last-Event-IDs: a gap event, then live; never a 500', async () => {
  await withServer({}, async (t) => {
    await t.server.publish('prices', { p: 1 });
    const cases: [string, string][] = [
      ['garbage', 'not an id at all \u00e9'],
      ['oversized', `AAAAAAAA:1${'.AAAAAAAA:1'.repeat(200)}`],
      ['foreign epoch', 'Zz9Zz9Zz:1'],
    ];
    for (const [what, id] of cases) {
      const s = await openSse(`${t.httpUrl}/sse/prices`, { 'last-event-id': id });
      assert.equal(s.status, 200, what);
      const gap = await s.expect('gap');
      assert.deepEqual(gap.data, {
        channels: ['prices'],
        reason: what === 'foreign epoch' ? 'epoch_changed' : 'invalid_id',
      });
      assert.notEqual(gap.id, id, `${what}: the gap carries the stream's real position`);
      await waitMembers(t, 'prices', 1);
      await t.server.publish('prices', { p: what });
      assert.deepEqual((await s.expect('message')).data, { p: what }, what);
      s.close();
      await until(() => t.server.stats().connections === 0, 3000, 'the stream to close');
    }
  });
});

test('a position older than history gets a gap naming the reason', async () => {
  await withServer({ historySize: 2 }, async (t) => {
    const s = await stream(t, '/sse/short');
    const position = s.lastEventId;
    s.close();
    for (let n = 1; n <= 5; n++) await t.server.publish('short', { n });
    const again = await openSse(`${t.httpUrl}/sse/short`, { 'last-event-id': position });
    assert.deepEqual((await again.expect('gap')).data, { channels: ['short'], reason: 'not_recoverable' });
    await t.server.publish('short', { n: 6 });
    assert.deepEqual((await again.expect('message')).data, { n: 6 });
    again.close();
  });
});

test('/sse?channel=a&channel=b: one id resumes every channel', async () => {
  await withServer({}, async (t) => {
    const s = await stream(t, '/sse?channel=b&channel=a');
    await t.server.publish('a', { a: 1 });
    await t.server.publish('b', { b: 1 });
    await s.expect('message');
    const last = await s.expect('message');
    s.close();
    await until(() => t.server.stats().connections === 0, 3000, 'the stream to close');
    await t.server.publish('b', { b: 2 });
    await t.server.publish('a', { a: 2 });
    await t.server.publish('a', { a: 3 });
    const again = await openSse(`${t.httpUrl}/sse?channel=a&channel=b`, { 'last-event-id': last.id });
    const got = [];
    for (let i = 0; i < 3; i++) got.push((await again.expect('message')).data);
    // Each channel's messages in order (a's, then b's: replay goes channel by channel).
    assert.deepEqual(got, [{ a: 2 }, { a: 3 }, { b: 2 }]);
    await t.server.publish('b', { b: 3 });
    const live = await again.expect('message');
    assert.deepEqual(live.data, { b: 3 });
    again.close();
    // The final id resumes both channels with nothing missed.
    const third = await openSse(`${t.httpUrl}/sse?channel=a&channel=b`, { 'last-event-id': live.id });
    await t.server.publish('a', { a: 4 });
    assert.deepEqual((await third.expect('message')).data, { a: 4 });
    third.close();
  });
});

test('refusals: invalid channel 400, no channel 400, 429 past the per-address cap', async () => {
  await withServer({ trustedProxies: ['127.0.0.1'], maxConnectionsPerIp: 2 }, async (t) => {
    const bad = await openSse(`${t.httpUrl}/sse/${encodeURIComponent('bad channel!')}`);
    assert.equal((await refusal(bad)).code, 'invalid_channel');
    assert.equal(bad.status, 400);
    const none = await openSse(`${t.httpUrl}/sse`);
    assert.deepEqual([none.status, (await refusal(none)).code], [400, 'invalid_channel']);
    const from = { 'x-forwarded-for': '203.0.113.9' };
    const first = await stream(t, '/sse/capped', from);
    const second = await stream(t, '/sse/capped', from);
    const third = await openSse(`${t.httpUrl}/sse/capped`, from);
    assert.deepEqual([third.status, (await refusal(third)).code], [429, 'rate_limited']);
    const bystander = await stream(t, '/sse/capped', { 'x-forwarded-for': '198.51.100.7' });
    await t.server.publish('capped', { ok: true });
    for (const s of [first, second, bystander])
      assert.deepEqual((await s.expect('message')).data, { ok: true });
    const metrics = await (await fetch(`${t.httpUrl}/metrics`)).text();
    assert.equal(metricSample(metrics, 'switchboard_limits_rejected_total{limit="ip_connections"}'), 1);
    assert.equal(metricSample(metrics, 'switchboard_connections_opened_total{transport="sse"}'), 3);
    for (const s of [first, second, bystander]) s.close();
  });
});

test('auth: 401 without credentials, a token in the query or Authorization opens it, sendToUser reaches it', async () => {
  await withServer({ auth: { secret: SECRET } }, async (t) => {
    const anonymous = await openSse(`${t.httpUrl}/sse/inbox`);
    assert.deepEqual([anonymous.status, (await refusal(anonymous)).code], [401, 'unauthorized']);
    const token = await sign(new TextEncoder().encode(SECRET), { sub: 'alice', aud: null, iss: null });
    const byQuery = await stream(t, `/sse/inbox?token=${token}`);
    const byHeader = await stream(t, '/sse/inbox', { authorization: `Bearer ${token}` });
    await t.server.sendToUser('alice', { note: 'hi' });
    for (const s of [byQuery, byHeader]) assert.deepEqual((await s.expect('direct')).data, { note: 'hi' });
    byQuery.close();
    byHeader.close();
  });
});

test('keep-alive comments on the heartbeat interval; a silent client is not timed out', async () => {
  await withServer({ heartbeatIntervalMs: 50, heartbeatTimeoutMs: 100 }, async (t) => {
    const s = await stream(t, '/sse/quiet');
    let comments = 0;
    while (comments < 4) {
      const item = await s.next(2000, true);
      if (item.kind === 'comment') {
        assert.equal(item.text, 'keep-alive');
        comments++;
      }
    }
    await t.server.publish('quiet', { still: 'here' });
    assert.deepEqual((await s.expect('message')).data, { still: 'here' });
    s.close();
  });
});

test('CORS: an allowed origin is echoed with credentials; another origin is refused 403', async () => {
  await withServer({ allowedOrigins: ['https://app.example'] }, async (t) => {
    const s = await stream(t, '/sse/x', { origin: 'https://app.example' });
    assert.equal(s.headers['access-control-allow-origin'], 'https://app.example');
    assert.equal(s.headers['access-control-allow-credentials'], 'true');
    s.close();
    const other = await openSse(`${t.httpUrl}/sse/x`, { origin: 'https://evil.example' });
    assert.deepEqual([other.status, (await refusal(other)).code], [403, 'permission_denied']);
    assert.equal(other.headers['access-control-allow-origin'], undefined);
  });
});

test('finished streams: done after the last message, the stream ends, a reconnect from the end gets 204', async () => {
  await withServer({}, async (t) => {
    const s = await stream(t, '/sse/job:7');
    const early = s.lastEventId;
    for (const progress of [10, 50, 100]) await t.server.publish('job:7', { progress });
    assert.deepEqual(await t.server.completeChannel('job:7'), { offset: 3 });
    for (const progress of [10, 50, 100]) assert.deepEqual((await s.expect('message')).data, { progress });
    const done = await s.expect('done');
    assert.deepEqual(done.data, { channel: 'job:7' });
    await s.ended;
    // From the end: 204, which stops EventSource.
    const after = await openSse(`${t.httpUrl}/sse/job:7`, { 'last-event-id': done.id });
    assert.equal(after.status, 204);
    await after.ended;
    // From before the end: the rest, then done, then the end.
    const late = await openSse(`${t.httpUrl}/sse/job:7`, { 'last-event-id': early });
    for (const progress of [10, 50, 100]) assert.deepEqual((await late.expect('message')).data, { progress });
    assert.equal((await late.expect('done')).id, done.id);
    await late.ended;
    // Without a position: done at once.
    const fresh = await openSse(`${t.httpUrl}/sse/job:7`);
    await fresh.expect('done');
    await fresh.ended;
  });
});

test('finished streams: POST /api/channels/:channel/complete; a multi-channel stream ends when all are done', async () => {
  await withServer({}, async (t) => {
    const s = await stream(t, '/sse?channel=a&channel=b');
    const complete = async (channel: string): Promise<unknown> => {
      const res = await fetch(`${t.httpUrl}/api/channels/${channel}/complete`, { method: 'POST' });
      assert.equal(res.status, 200);
      return res.json();
    };
    await t.server.publish('a', { a: 1 });
    assert.deepEqual(await complete('a'), { channel: 'a', offset: 1 });
    await s.expect('message');
    assert.deepEqual((await s.expect('done')).data, { channel: 'a' });
    await t.server.publish('b', { b: 1 });
    assert.deepEqual((await s.expect('message')).data, { b: 1 });
    assert.deepEqual(await complete('b'), { channel: 'b', offset: 1 });
    const done = await s.expect('done');
    assert.deepEqual(done.data, { channel: 'b' });
    await s.ended;
    const after = await openSse(`${t.httpUrl}/sse?channel=b&channel=a`, { 'last-event-id': done.id });
    assert.equal(after.status, 204);
  });
});

test('a stream that stops reading is closed as a slow consumer (4001)', async () => {
  await withServer(
    {
      maxBufferedBytes: 64 * 1024,
      slowConsumerTimeoutMs: 200,
      heartbeatIntervalMs: 50,
      heartbeatTimeoutMs: 100,
    },
    async (t) => {
      const { connect: netConnect } = await import('node:net');
      const stalled = netConnect({ host: '127.0.0.1', port: t.server.port });
      await new Promise<void>((resolve) => stalled.once('connect', resolve));
      stalled.write(`GET /sse/firehose HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`);
      stalled.pause();
      await waitMembers(t, 'firehose', 1);
      // Nothing proves an SSE client read (it cannot answer): what shows it stopped is the write side,
      // once the kernel's socket buffers (a few MB on loopback) are full and the server's own queue grows.
      const payload = 'y'.repeat(4096);
      for (let i = 0; i < 10_000 && t.server.stats().connections > 0; i++) {
        await t.server.publish('firehose', { payload });
        if (i % 20 === 0) await new Promise((r) => setImmediate(r));
      }
      await until(() => t.server.stats().connections === 0, 5000, 'the slow stream to close');
      const closed = { transport: 'sse', code: '4001', by: 'server' };
      // Counted once the transport reports the end: after the slow consumer's linger (1 s).
      const deadline = Date.now() + 5000;
      while ((await metric(t, 'switchboard_connections_closed_total', closed)) !== 1) {
        assert.ok(Date.now() < deadline, 'the close was never counted under 4001');
        await new Promise((r) => setTimeout(r, 20));
      }
      // The server is fine: a new stream gets what is published next.
      const next = await stream(t, '/sse/firehose');
      await t.server.publish('firehose', { after: true });
      assert.deepEqual((await next.expect('message')).data, { after: true });
      next.close();
      stalled.destroy();
    },
  );
});

test('auth: a JWT in the configured cookie opens a stream; the cookie needs an allowed-origins list', async () => {
  assert.throws(
    () => createServer({ auth: { secret: SECRET, cookie: 'sb_token' } }),
    /auth\.cookie.*allowedOrigins/,
  );
  const options = { auth: { secret: SECRET, cookie: 'sb_token' }, allowedOrigins: ['https://app.example'] };
  await withServer(options, async (t) => {
    const token = await sign(new TextEncoder().encode(SECRET), { sub: 'bob', aud: null, iss: null });
    const cookie = `theme=dark; sb_token=${token}`;
    const s = await stream(t, '/sse/inbox', { cookie, origin: 'https://app.example' });
    await t.server.sendToUser('bob', { note: 'for bob' });
    assert.deepEqual((await s.expect('direct')).data, { note: 'for bob' });
    s.close();
    const elsewhere = await openSse(`${t.httpUrl}/sse/inbox`, { cookie, origin: 'https://evil.example' });
    assert.deepEqual([elsewhere.status, (await refusal(elsewhere)).code], [403, 'permission_denied']);
    const noCookie = await openSse(`${t.httpUrl}/sse/inbox`, { cookie: 'theme=dark' });
    assert.deepEqual([noCookie.status, (await refusal(noCookie)).code], [401, 'unauthorized']);
  });
});

test('a stream outlives the HTTP request deadlines (it is a response, not a request in progress)', async () => {
  const deadlines = { headersTimeoutMs: 200, requestTimeoutMs: 200, silentSocketTimeoutMs: 200 };
  await withServer({ ...deadlines, keepAliveTimeoutMs: 100 }, async (t) => {
    const s = await stream(t, '/sse/long');
    // Three times the longest deadline: nothing to await, the point is that nothing happens.
    await new Promise((r) => setTimeout(r, 600));
    await t.server.publish('long', { still: 'open' });
    assert.deepEqual((await s.expect('message')).data, { still: 'open' });
    s.close();
  });
});

test('under basePath: /rt/sse/:channel', async () => {
  await withServer({ basePath: '/rt' }, async (t) => {
    const s = await stream(t, '/sse/under');
    await t.server.publish('under', { base: '/rt' });
    assert.deepEqual((await s.expect('message')).data, { base: '/rt' });
    s.close();
  });
});
