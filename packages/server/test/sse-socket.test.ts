// SSE on HTTP/1.1 takes its TCP socket over from Node's HTTP server (transports/sse-transport.ts): the
// head is written by hand, the body is the raw event bytes (no chunked framing) until the connection
// closes, and the request, response and parser are let go.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Socket, connect } from 'node:net';
import { until, waitMembers, withServer } from './helpers.js';

/** A raw HTTP/1.1 client socket that accumulates everything it reads. */
async function rawClient(port: number): Promise<{ socket: Socket; text: () => string }> {
  const socket = connect(port, '127.0.0.1');
  let text = '';
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => (text += chunk));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, text: () => text };
}

test('HTTP/1.1: an unchunked stream on the raw socket that ends with the connection; a half-close ends it', async () => {
  await withServer({ sseRetryMs: 1500 }, async (t) => {
    const port = t.server.port;
    const { socket, text } = await rawClient(port);
    socket.write('GET /sse/news HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n');
    await until(() => /\r\n\r\nretry: 1500\n\nid: [^\n]+\n\n/.test(text()), 3000, 'the head and the mark');
    const [head = '', body = ''] = text().split('\r\n\r\n');
    assert.match(head, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(head, /\r\ncontent-type: text\/event-stream/i);
    assert.match(head, /\r\nconnection: close/i);
    assert.doesNotMatch(head, /transfer-encoding/i, 'no chunked framing: the body ends with the connection');
    assert.ok(body.startsWith('retry: 1500\n\n'), JSON.stringify(body));
    await waitMembers(t, 'news', 1);
    await t.server.publish('news', { n: 1 });
    await until(() => text().includes('event: message\ndata: {"n":1}\n\n'), 3000, 'the message');
    assert.match(text(), /\n\nid: [^\n]+\nevent: message\ndata: \{"n":1\}\n\n$/, 'events back to back');
    // The client closes its side (what a closed tab does): the stream ends on the server.
    socket.end();
    await until(() => t.server.stats().connections === 0, 3000, 'the stream to end');
    socket.destroy();
  });
});

test('HTTP/1.1: a stream opened on a kept-alive connection after another request', async () => {
  await withServer({}, async (t) => {
    const { socket, text } = await rawClient(t.server.port);
    socket.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => text().includes('"status":"ok"'), 3000, 'the health answer');
    socket.write('GET /sse/jobs HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => /\r\n\r\nretry: \d+\n\nid: [^\n]+\n\n/.test(text()), 3000, 'the stream');
    await waitMembers(t, 'jobs', 1);
    await t.server.publish('jobs', { progress: 50 });
    await until(() => text().endsWith('event: message\ndata: {"progress":50}\n\n'), 3000, 'the message');
    // The server ends a stream (a stop) by closing the connection: the client sees the end of the body.
    const ended = new Promise<void>((resolve) => socket.once('end', resolve));
    await t.stop();
    await ended;
    socket.destroy();
  });
});

test("a stream's events of one event-loop turn go to the kernel in one write", async () => {
  await withServer({}, async (t) => {
    const { socket, text } = await rawClient(t.server.port);
    socket.write('GET /sse/ticks HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => /\r\n\r\nretry: \d+\n\nid: [^\n]+\n\n/.test(text()), 3000, 'the stream');
    await waitMembers(t, 'ticks', 1);
    // Count what the server's side of this connection hands to the kernel (Writable's _write/_writev).
    const proto = Socket.prototype as unknown as Record<
      '_write' | '_writev',
      (...args: unknown[]) => unknown
    >;
    const { _write: write, _writev: writev } = proto;
    const peer = socket.localPort;
    const writes: number[] = [];
    proto._write = function (this: Socket, ...args: unknown[]) {
      if (this.remotePort === peer) writes.push(1);
      return write.apply(this, args);
    };
    proto._writev = function (this: Socket, ...args: unknown[]) {
      if (this.remotePort === peer) writes.push((args[0] as unknown[]).length);
      return writev.apply(this, args);
    };
    try {
      await Promise.all([1, 2, 3].map((n) => t.server.publish('ticks', { n })));
      await until(() => text().includes('data: {"n":3}'), 3000, 'the three messages');
    } finally {
      proto._write = write;
      proto._writev = writev;
    }
    assert.deepEqual(writes, [3], 'one writev of the three events');
    socket.destroy();
  });
});
