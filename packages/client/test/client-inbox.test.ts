/**
 * `client.inbox` against a scripted server (scripted-server.ts) that speaks the guaranteed-delivery
 * frames: opening and reopening, auto-ack and nack, one message at a time in order, the drop of held
 * messages on a nack, dedupe of redeliveries, the device id, error events. A `ping` round trip proves
 * that the pushes before it were read, where a test checks that something did NOT happen.
 */
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { InvalidArgumentError, InvalidOptionError, ServerError, SwitchboardClient } from '../src/index.js';
import type { ClientOptions, InboxMessage, InboxOptions, SwitchboardClientError } from '../src/index.js';
import { Gates, deferred } from './gates.js';
import { ScriptedServer } from './scripted-server.js';
import type { ScriptedPeer } from './scripted-server.js';

let cleanups: (() => Promise<void> | void)[] = [];
beforeEach(() => {
  cleanups = [];
});
afterEach(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

async function scripted(): Promise<ScriptedServer> {
  const server = await ScriptedServer.start();
  cleanups.push(() => server.close());
  return server;
}

function client(server: ScriptedServer, options: ClientOptions = {}): SwitchboardClient {
  const c = new SwitchboardClient(server.url, {
    WebSocket,
    transports: ['websocket'],
    backoff: { minDelayMs: 1, maxDelayMs: 5 },
    ...options,
  });
  cleanups.push(() => c.close());
  return c;
}

/** The messages acked (`ack`) or nacked by `peer`, in order, as `ack:id` / `nack:id`. */
function answers(peer: ScriptedPeer): string[] {
  return peer.commands
    .filter((c) => c.type === 'ack' || c.type === 'nack')
    .map((c) => `${c.type}:${String(c['message'])}`);
}

/** Connect `c`, open its inbox with `handler`, and wait for the server to have seen `inbox`. */
async function opened(
  server: ScriptedServer,
  c: SwitchboardClient,
  handler: (msg: InboxMessage) => unknown,
): Promise<ScriptedPeer> {
  const open = new Promise((resolve) => c.inbox.on('open', resolve));
  c.inbox.on('message', handler);
  await c.connect();
  const peer = await server.peer(0);
  await open;
  return peer;
}

describe('client.inbox', () => {
  it('opens with the device and prefetch on the first handler, and acks what the handler resolved', async () => {
    const server = await scripted();
    const c = client(server, { inbox: { device: 'laptop-1', prefetch: 7 } });
    await c.connect();
    const peer = await server.peer(0);
    await c.ping();
    assert.deepEqual(peer.sent('inbox'), [], 'nothing before a handler');
    const seen: InboxMessage[] = [];
    const open = new Promise((resolve) => c.inbox.on('open', resolve));
    c.inbox.on('message', async (msg) => {
      seen.push(msg);
      await Promise.resolve();
    });
    assert.deepEqual(await open, { device: 'laptop-1' });
    assert.deepEqual(peer.sent('inbox'), [{ type: 'inbox', device: 'laptop-1', prefetch: 7 }]);
    assert.equal(c.inbox.device, 'laptop-1');
    assert.equal(c.inbox.isOpen, true);
    peer.inbox('m1', { text: 'hi' }, 1, 1234);
    await server.command(peer, 'ack of m1', (cmd) => cmd.type === 'ack');
    assert.deepEqual(peer.sent('ack'), [{ type: 'ack', message: 'm1' }]);
    const [msg, ...more] = seen;
    assert.ok(msg !== undefined && more.length === 0);
    assert.deepEqual(
      { id: msg.id, attempt: msg.attempt, data: msg.data, time: msg.time },
      { id: 'm1', attempt: 1, data: { text: 'hi' }, time: 1234 },
    );
    // A second handler does not open it again.
    c.inbox.on('message', () => {});
    await c.ping();
    assert.equal(peer.sent('inbox').length, 1);
  });

  it('open() opens without a handler; messages wait for one', async () => {
    const server = await scripted();
    const c = client(server, { inbox: { device: 'd1' } });
    c.inbox.open();
    await c.connect();
    const peer = await server.peer(0);
    await server.command(peer, 'inbox', (cmd) => cmd.type === 'inbox');
    peer.inbox('m1', 1);
    await c.ping();
    assert.deepEqual(answers(peer), [], 'not acked without a handler');
    const seen: string[] = [];
    c.inbox.on('message', (msg) => void seen.push(msg.id));
    await server.until(() => answers(peer).length === 1, 'the ack');
    assert.deepEqual(seen, ['m1']);
    assert.equal(peer.sent('inbox').length, 1);
  });

  it('nacks, without a delay, a message whose handler throws or rejects', async () => {
    const server = await scripted();
    const c = client(server, { inbox: { device: 'd1' } });
    const peer = await opened(server, c, async (msg) => {
      if (msg.id === 'sync') throw new Error('sync failure');
      await Promise.resolve();
      throw new Error('async failure');
    });
    peer.inbox('sync', 1);
    await server.command(peer, 'nack of sync', (cmd) => cmd.type === 'nack');
    peer.inbox('async', 2);
    await server.until(() => peer.sent('nack').length === 2, 'nack of async');
    assert.deepEqual(peer.sent('nack'), [
      { type: 'nack', message: 'sync' },
      { type: 'nack', message: 'async' },
    ]);
    assert.deepEqual(peer.sent('ack'), []);
  });

  it('runs one message at a time, in arrival order', async () => {
    const server = await scripted();
    const c = client(server, { inbox: { device: 'd1' } });
    const gates = new Gates();
    const started: string[] = [];
    const peer = await opened(server, c, async (msg) => {
      started.push(msg.id);
      await gates.wait(msg.id);
    });
    peer.inbox('m1', 1);
    peer.inbox('m2', 2);
    peer.inbox('m3', 3);
    await c.ping();
    assert.deepEqual(started, ['m1'], 'the next waits for the running one');
    gates.open('m1');
    await server.until(() => started.length === 2, 'm2 started');
    await c.ping();
    assert.deepEqual(started, ['m1', 'm2']);
    assert.deepEqual(answers(peer), ['ack:m1']);
    gates.open('m2');
    gates.open('m3');
    await server.until(() => answers(peer).length === 3, 'three acks');
    assert.deepEqual(started, ['m1', 'm2', 'm3']);
    assert.deepEqual(answers(peer), ['ack:m1', 'ack:m2', 'ack:m3']);
  });

  it('a nack drops the held later messages unhandled, and the pushes the server wrote before it saw the nack', async () => {
    const server = await scripted();
    const c = client(server, { inbox: { device: 'd1' } });
    // The server answers the nack only when the test says so.
    let nackId: number | undefined;
    server.answer = (cmd) => {
      if (cmd.type !== 'nack') return cmd.type === 'inbox' ? { result: { device: 'd1' } } : { result: {} };
      nackId = cmd.id;
      return null;
    };
    const gate = deferred();
    const handled: string[] = [];
    const peer = await opened(server, c, async (msg) => {
      handled.push(`${msg.id}#${msg.attempt}`);
      if (msg.id === 'm1' && msg.attempt === 1) await gate.promise;
    });
    peer.inbox('m1', 1);
    peer.inbox('m2', 2);
    peer.inbox('m3', 3);
    await c.ping();
    gate.reject(new Error('not now'));
    await server.command(peer, 'nack of m1', (cmd) => cmd.type === 'nack');
    // Written by the server before it read the nack: dropped too.
    peer.inbox('m4', 4);
    await c.ping();
    assert.deepEqual(handled, ['m1#1']);
    assert.equal(c.inbox.stats.dropped, 3);
    // The nack is answered; the server resends from m1 on, in order.
    peer.reply(nackId);
    peer.inbox('m1', 1, 2);
    peer.inbox('m2', 2, 2);
    peer.inbox('m3', 3, 2);
    peer.inbox('m4', 4, 2);
    await server.until(() => peer.sent('ack').length === 4, 'four acks');
    assert.deepEqual(handled, ['m1#1', 'm1#2', 'm2#2', 'm3#2', 'm4#2']);
    assert.deepEqual(answers(peer), ['nack:m1', 'ack:m1', 'ack:m2', 'ack:m3', 'ack:m4']);
  });

  it('the resend of a nacked message ends the drop even before the nack is answered', async () => {
    const server = await scripted();
    const c = client(server, { inbox: { device: 'd1' } });
    server.answer = (cmd) =>
      cmd.type === 'nack' ? null : cmd.type === 'inbox' ? { result: { device: 'd1' } } : { result: {} };
    const handled: string[] = [];
    const peer = await opened(server, c, (msg) => {
      handled.push(`${msg.id}#${msg.attempt}`);
      if (msg.attempt === 1) msg.nack(0);
    });
    peer.inbox('m1', 1);
    peer.inbox('m2', 2);
    await server.command(peer, 'nack', (cmd) => cmd.type === 'nack');
    assert.deepEqual(peer.sent('nack'), [{ type: 'nack', message: 'm1', delay: 0 }]);
    peer.inbox('m1', 1, 2);
    peer.inbox('m2', 2, 2);
    await server.until(() => peer.sent('ack').length === 2, 'two acks');
    assert.deepEqual(handled, ['m1#1', 'm1#2', 'm2#2']);
  });

  it('runs the handler once per message: a handled one is acked again, a running one is ignored', async () => {
    const server = await scripted();
    const c = client(server, { inbox: { device: 'd1' } });
    const gate = deferred();
    const runs: string[] = [];
    const peer = await opened(server, c, async (msg) => {
      runs.push(msg.id);
      if (msg.id === 'm2') await gate.promise;
    });
    peer.inbox('m1', 1);
    await server.command(peer, 'ack of m1', (cmd) => cmd.type === 'ack');
    // The ack was lost on the way: the server sends m1 again.
    peer.inbox('m1', 1, 2);
    await server.until(() => peer.sent('ack').length === 2, 'm1 acked again');
    // m2 is sent again (an ack timeout) while its handler still runs.
    peer.inbox('m2', 2);
    peer.inbox('m2', 2, 2);
    await c.ping();
    gate.resolve();
    await server.until(() => peer.sent('ack').length === 3, 'the ack of m2');
    await c.ping();
    assert.deepEqual(runs, ['m1', 'm2']);
    assert.deepEqual(answers(peer), ['ack:m1', 'ack:m1', 'ack:m2']);
    assert.deepEqual(c.inbox.stats, { handled: 2, duplicates: 2, dropped: 0 });
  });

  it('forgets the oldest handled ids beyond dedupeSize', async () => {
    const server = await scripted();
    const c = client(server, { inbox: { device: 'd1', dedupeSize: 2 } });
    const runs: string[] = [];
    const peer = await opened(server, c, (msg) => void runs.push(msg.id));
    for (const id of ['a', 'b', 'c']) peer.inbox(id, id);
    await server.until(() => peer.sent('ack').length === 3, 'three acks');
    peer.inbox('c', 'c', 2);
    peer.inbox('a', 'a', 2);
    await server.until(() => peer.sent('ack').length === 5, 'five acks');
    assert.deepEqual(runs, ['a', 'b', 'c', 'a'], 'c remembered, a forgotten');
  });

  it('reopens after a reconnect with the same device id, and a handler across it acks on the new connection', async () => {
    const server = await scripted();
    const c = client(server);
    const gate = deferred();
    const runs: string[] = [];
    const first = await opened(server, c, async (msg) => {
      runs.push(msg.id);
      if (msg.id === 'm1') await gate.promise;
    });
    const device = first.sent('inbox')[0]?.['device'];
    assert.match(String(device), /^d-[0-9a-f]{32}$/);
    first.inbox('m1', 1);
    first.inbox('m2', 2);
    await c.ping();
    first.close();
    const second = await server.peer(1);
    await server.command(second, 'inbox', (cmd) => cmd.type === 'inbox');
    assert.deepEqual(second.sent('inbox'), [{ type: 'inbox', device, prefetch: 10 }]);
    assert.equal(c.inbox.stats.dropped, 1, 'm2 was held: dropped with its connection');
    // The server sends what the device has not acked, from m1 on; m1's handler still runs.
    second.inbox('m1', 1, 2);
    second.inbox('m2', 2, 2);
    await c.ping();
    gate.resolve();
    await server.until(() => second.sent('ack').length === 2, 'two acks on the new connection');
    assert.deepEqual(answers(second), ['ack:m1', 'ack:m2']);
    assert.deepEqual(answers(first), []);
    assert.deepEqual(runs, ['m1', 'm2']);
  });

  it('without autoAck the application answers, and the next message waits for it', async () => {
    const server = await scripted();
    const c = client(server, { inbox: { device: 'd1', autoAck: false } });
    const held: InboxMessage[] = [];
    const peer = await opened(server, c, (msg) => void held.push(msg));
    peer.inbox('m1', 1);
    peer.inbox('m2', 2);
    await c.ping();
    assert.deepEqual(
      held.map((m) => m.id),
      ['m1'],
    );
    assert.deepEqual(answers(peer), []);
    const [m1] = held;
    assert.ok(m1 !== undefined);
    assert.throws(() => m1.nack(-1), InvalidArgumentError);
    m1.ack();
    m1.nack(5);
    await server.until(() => held.length === 2, 'm2 handed over');
    held[1]?.nack(250);
    await server.until(() => peer.sent('nack').length === 1, 'the nack');
    assert.deepEqual(peer.sent('ack'), [{ type: 'ack', message: 'm1' }], 'the first answer counts');
    assert.deepEqual(peer.sent('nack'), [{ type: 'nack', message: 'm2', delay: 250 }]);
  });

  it('reports a refused open as an error event with the server error, and reopens on the next connection', async () => {
    const server = await scripted();
    server.userId = null;
    server.answer = (cmd) =>
      cmd.type === 'inbox'
        ? { error: { code: 'permission_denied', message: 'the inbox needs an authenticated user' } }
        : { result: {} };
    const c = client(server, { inbox: { device: 'd1' } });
    const errors: SwitchboardClientError[] = [];
    const first = new Promise<void>((resolve) =>
      c.inbox.on('error', (error) => {
        errors.push(error);
        resolve();
      }),
    );
    c.inbox.on('message', () => {});
    await c.connect();
    await first;
    assert.ok(errors[0] instanceof ServerError);
    assert.equal(errors[0].code, 'permission_denied');
    assert.equal(errors[0].message, 'the inbox needs an authenticated user');
    server.userId = 'alice';
    server.answer = (cmd) => ({ result: cmd.type === 'inbox' ? { device: 'd1' } : {} });
    const open = new Promise((resolve) => c.inbox.on('open', resolve));
    (await server.peer(0)).close();
    await open;
    assert.equal(errors.length, 1);
  });

  it('reports a refused ack as an error event', async () => {
    const server = await scripted();
    server.answer = (cmd) =>
      cmd.type === 'ack'
        ? { error: { code: 'not_found', message: 'no such message' } }
        : { result: cmd.type === 'inbox' ? { device: 'd1' } : {} };
    const c = client(server, { inbox: { device: 'd1' } });
    const error = new Promise<SwitchboardClientError>((resolve) => c.inbox.on('error', resolve));
    const peer = await opened(server, c, () => {});
    peer.inbox('gone', 1);
    assert.equal((await error).code, 'not_found');
  });

  it('lets handlers type the data they expect', async () => {
    const server = await scripted();
    const c = client(server, { inbox: { device: 'd1' } });
    const texts: string[] = [];
    const peer = await opened(server, c, () => {});
    c.inbox.on('message', (msg: InboxMessage<{ text: string }>) => void texts.push(msg.data.text));
    const sizes: number[] = [];
    c.consume<{ bytes: number }>('uploads', (job) => void sizes.push(job.data.bytes));
    await server.command(peer, 'consume', (cmd) => cmd.type === 'consume');
    peer.inbox('m1', { text: 'hello' });
    peer.job('uploads', 'j1', { bytes: 512 });
    await server.until(() => peer.sent('ack').length === 2, 'two acks');
    assert.deepEqual(texts, ['hello']);
    assert.deepEqual(sizes, [512]);
  });

  it('checks its options and arguments', () => {
    const url = 'ws://127.0.0.1:1/ws';
    const make = (inbox: unknown): SwitchboardClient =>
      new SwitchboardClient(url, { WebSocket, inbox: inbox as InboxOptions });
    assert.throws(() => make({ device: 'has space' }), InvalidOptionError);
    assert.throws(() => make({ device: 'x'.repeat(65) }), InvalidOptionError);
    assert.throws(() => make({ prefetch: 0 }), InvalidOptionError);
    assert.throws(() => make({ prefetch: 101 }), InvalidOptionError);
    assert.throws(() => make({ autoAck: 'yes' }), InvalidOptionError);
    assert.throws(() => make({ dedupeSize: -1 }), InvalidOptionError);
    assert.throws(() => make('inbox'), InvalidOptionError);
    assert.equal(
      make({ device: 'phone:42@home', prefetch: 100, dedupeSize: 0 }).inbox.device,
      'phone:42@home',
    );
  });
});
