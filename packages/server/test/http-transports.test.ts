// Protocol v1 over HTTP (issue 14): `GET /v1/sse`, `GET /v1/poll` + `GET /v1/poll/:connection?cursor=N`,
// commands by `POST /v1/connections/:connection`. Each bad input gets its documented answer and leaves
// other clients untouched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectV1, until, waitMembers, withServer } from './helpers.js';
import type { TestClient, TestServer } from './helpers.js';

interface Opened {
  readonly connection: string;
  readonly secret: string;
}

interface Poll {
  readonly cursor: number;
  readonly frames: { type: string; [key: string]: unknown }[];
  readonly close?: { code: number; reason: string };
}

async function openPolling(t: TestServer, query = ''): Promise<Opened> {
  const res = await fetch(`${t.httpUrl}/v1/poll${query}`);
  assert.equal(res.status, 200);
  return (await res.json()) as Opened;
}

async function poll(t: TestServer, o: Opened, cursor: number): Promise<Poll> {
  const res = await fetch(`${t.httpUrl}/v1/poll/${o.connection}?cursor=${cursor}`, {
    headers: { 'x-switchboard-secret': o.secret },
  });
  assert.equal(res.status, 200);
  return (await res.json()) as Poll;
}

function post(t: TestServer, o: Opened, body: string, secret = o.secret): Promise<Response> {
  return fetch(`${t.httpUrl}/v1/connections/${o.connection}`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain', 'x-switchboard-secret': secret },
    body,
  });
}

/** A WebSocket subscriber of `channel`: the bystander every bad-input test checks on. */
async function bystander(t: TestServer, channel: string): Promise<TestClient> {
  const { client } = await connectV1(t);
  client.send({ type: 'subscribe', id: 1, channel });
  await client.nextOfType('reply');
  return client;
}

async function stillServed(t: TestServer, client: TestClient, channel: string): Promise<void> {
  await t.server.publish(channel, { still: 'here' });
  const message = (await client.nextOfType('message')) as { data: unknown };
  assert.deepEqual(message.data, { still: 'here' });
}

test('polling: connected first, then replies and messages after the cursor; an unacknowledged poll is answered again', async () => {
  await withServer({}, async (t) => {
    const o = await openPolling(t);
    const first = await poll(t, o, 0);
    assert.equal(first.frames[0]?.type, 'connected');
    assert.equal(first.cursor, 1);
    assert.equal((await post(t, o, '{"type":"subscribe","id":1,"channel":"news"}\n')).status, 204);
    const reply = await poll(t, o, first.cursor);
    assert.equal(reply.frames[0]?.type, 'reply');
    await t.server.publish('news', 'one');
    const message = await poll(t, o, reply.cursor);
    assert.equal(message.frames[0]?.type, 'message');
    // The response was "lost": the same cursor again gets the same frames, nothing skipped.
    const again = await poll(t, o, reply.cursor);
    assert.deepEqual(again, message);
  });
});

test('polling: a poll is held until a frame arrives', async () => {
  await withServer({}, async (t) => {
    const o = await openPolling(t);
    const first = await poll(t, o, 0);
    assert.equal((await post(t, o, '{"type":"subscribe","id":1,"channel":"news"}')).status, 204);
    const reply = await poll(t, o, first.cursor);
    const held = poll(t, o, reply.cursor);
    await waitMembers(t, 'news', 1);
    await t.server.publish('news', 'later');
    const answer = await held;
    assert.deepEqual(
      answer.frames.map((f) => f.type),
      ['message'],
    );
  });
});

test('polling: a poll held past pollTimeoutMs is answered empty; a connection nobody polls is closed', async () => {
  await withServer({ pollTimeoutMs: 200 }, async (t) => {
    const o = await openPolling(t);
    const first = await poll(t, o, 0);
    const empty = await poll(t, o, first.cursor);
    assert.deepEqual(empty, { cursor: first.cursor, frames: [] });
    await until(() => t.server.stats().connections === 0, 3000, 'the abandoned connection to close');
    const gone = await fetch(`${t.httpUrl}/v1/poll/${o.connection}?cursor=1`, {
      headers: { 'x-switchboard-secret': o.secret },
    });
    assert.equal(gone.status, 410);
  });
});

test('SSE: an open event with the connection id and secret, then v1 frames as message events', async () => {
  await withServer({}, async (t) => {
    const controller = new AbortController();
    const res = await fetch(`${t.httpUrl}/v1/sse`, { signal: controller.signal });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    const read = async (pattern: RegExp): Promise<RegExpMatchArray> => {
      for (;;) {
        const match = pattern.exec(text);
        if (match !== null) return match;
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${pattern}: ${text}`);
        text += new TextDecoder().decode(value);
      }
    };
    const open = JSON.parse((await read(/event: open\ndata: (.*)\n\n/))[1] ?? '') as Opened;
    assert.match((await read(/event: message\ndata: (\{"type":"connected".*)\n\n/))[1] ?? '', /connectionId/);
    assert.equal((await post(t, open, '{"type":"subscribe","id":7,"channel":"news"}')).status, 204);
    await read(/data: \{"type":"reply","id":7/);
    // The server's close reaches the client as a close event before the stream ends.
    await t.server.stop();
    await read(/event: close\ndata: \{"code":1001/);
    controller.abort();
  });
});

test('bad input: a gone connection (410), a wrong or missing secret (403), other clients untouched', async () => {
  await withServer({}, async (t) => {
    const other = await bystander(t, 'news');
    const o = await openPolling(t);
    const gone = await post(t, { connection: 'no-such-connection', secret: o.secret }, '{"type":"pong"}');
    assert.equal(gone.status, 410);
    assert.equal(((await gone.json()) as { error: { code: string } }).error.code, 'not_found');
    const wrong = await post(t, o, '{"type":"pong"}', 'x'.repeat(o.secret.length));
    assert.equal(wrong.status, 403);
    assert.equal((await post(t, o, '{"type":"pong"}', '')).status, 403);
    const wrongPoll = await fetch(`${t.httpUrl}/v1/poll/${o.connection}?cursor=0`);
    assert.equal(wrongPoll.status, 403);
    // The right secret still works: a wrong guess does not close the connection.
    assert.equal((await post(t, o, '{"type":"pong"}')).status, 204);
    await stillServed(t, other, 'news');
  });
});

test('bad input: an oversized body is 413 and closes that connection with 1009; others untouched', async () => {
  await withServer({ maxMessageBytes: 1024 }, async (t) => {
    const other = await bystander(t, 'news');
    const o = await openPolling(t);
    const first = await poll(t, o, 0);
    const big = await post(t, o, 'x'.repeat(1024 * 16 + 1));
    assert.equal(big.status, 413);
    const last = await poll(t, o, first.cursor);
    assert.equal(last.close?.code, 1009);
    assert.equal((await post(t, o, '{"type":"pong"}')).status, 410, 'the connection is gone');
    await stillServed(t, other, 'news');
  });
});

test('bad input: garbage JSON is answered as on a WebSocket; others untouched', async () => {
  await withServer({}, async (t) => {
    const other = await bystander(t, 'news');
    const { client: ws } = await connectV1(t);
    ws.send('{not json');
    const wsAnswer = await Promise.race([ws.next(), ws.closed]);
    const o = await openPolling(t);
    const first = await poll(t, o, 0);
    assert.equal((await post(t, o, '{not json')).status, 204);
    const answer = await poll(t, o, first.cursor);
    const httpAnswer = answer.close ?? answer.frames[0];
    assert.deepEqual(shape(httpAnswer), shape(wsAnswer));
    await stillServed(t, other, 'news');
  });
});

/** What kind of answer it was: an error frame's code, or a close's code. */
function shape(answer: unknown): unknown {
  const a = answer as { type?: string; error?: { code?: string }; code?: unknown };
  return a.type === undefined ? { close: a.code } : { type: a.type, error: a.error?.code };
}

test('a page on another origin: the preflight of a poll and of a POST allows the secret header', async () => {
  await withServer({}, async (t) => {
    const o = await openPolling(t);
    for (const [path, method] of [
      [`/v1/poll/${o.connection}`, 'GET'],
      [`/v1/connections/${o.connection}`, 'POST'],
    ] as const) {
      const res = await fetch(`${t.httpUrl}${path}`, {
        method: 'OPTIONS',
        headers: {
          origin: 'https://app.example',
          'access-control-request-method': method,
          'access-control-request-headers': 'x-switchboard-secret, content-type',
        },
      });
      assert.equal(res.status, 204);
      assert.equal(res.headers.get('access-control-allow-origin'), 'https://app.example');
      assert.equal(res.headers.get('access-control-allow-credentials'), 'true');
      assert.match(res.headers.get('access-control-allow-methods') ?? '', new RegExp(method));
      assert.match(res.headers.get('access-control-allow-headers') ?? '', /x-switchboard-secret/);
    }
    // The request itself names the origin too, so the page may read the answer.
    const posted = await fetch(`${t.httpUrl}/v1/connections/${o.connection}`, {
      method: 'POST',
      headers: { origin: 'https://app.example', 'x-switchboard-secret': o.secret },
      body: '{"type":"pong"}',
    });
    assert.equal(posted.status, 204);
    assert.equal(posted.headers.get('access-control-allow-origin'), 'https://app.example');
  });
});

test('log lines name the transport and the endpoint of a connection over HTTP', async () => {
  const opened: Record<string, unknown>[] = [];
  const keep = (obj: object, msg?: string): void => {
    if (msg === 'connection opened') opened.push(obj as Record<string, unknown>);
  };
  const logger = { debug: keep, info: keep, warn: keep, error: keep };
  await withServer({ logger }, async (t) => {
    await openPolling(t);
    const controller = new AbortController();
    await fetch(`${t.httpUrl}/v1/sse`, { signal: controller.signal });
    await until(() => opened.length === 2, 3000, 'two connection opened lines');
    controller.abort();
    assert.deepEqual(
      opened.map((o) => [o['transport'], o['endpoint']]),
      [
        ['polling', '/v1/poll'],
        ['sse', '/v1/sse'],
      ],
    );
  });
});

test('polling: frames not acknowledged are the outbound buffer; past its limit the connection closes as a slow consumer', async () => {
  await withServer({ maxBufferedBytes: 1024 }, async (t) => {
    const other = await bystander(t, 'sports');
    const o = await openPolling(t);
    const first = await poll(t, o, 0);
    await post(t, o, '{"type":"subscribe","id":1,"channel":"news"}');
    const reply = await poll(t, o, first.cursor);
    assert.equal(reply.frames[0]?.type, 'reply');
    // Nobody polls: every message waits, unacknowledged.
    for (let i = 0; i < 20; i++) await t.server.publish('news', 'x'.repeat(300));
    const last = await poll(t, o, reply.cursor);
    assert.equal(last.close?.code, 4001);
    await stillServed(t, other, 'sports');
  });
});
