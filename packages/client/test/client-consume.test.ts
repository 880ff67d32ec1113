/**
 * `client.consume()` against a scripted server (scripted-server.ts): the `consume` command and its
 * re-sending after a reconnect, concurrent jobs up to prefetch, ack and nack with the queue, a graceful
 * cancel, error events. A `ping` round trip proves that the pushes before it were read.
 */
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { InvalidArgumentError, ServerError, SwitchboardClient } from '../src/index.js';
import type { ClientOptions, Job, SwitchboardClientError } from '../src/index.js';
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

/** The job answers `peer` received, in order, as `ack:queue/id` / `nack:queue/id`. */
function answers(peer: ScriptedPeer): string[] {
  return peer.commands
    .filter((c) => c.type === 'ack' || c.type === 'nack')
    .map((c) => `${c.type}:${String(c['queue'])}/${String(c['message'])}`);
}

describe('client.consume', () => {
  it('sends consume with the prefetch, runs jobs concurrently, acks what resolved and nacks what threw', async () => {
    const server = await scripted();
    const c = client(server);
    await c.connect();
    const gates = new Gates();
    const started: Job[] = [];
    const consumer = c.consume(
      'emails',
      async (job) => {
        started.push(job);
        await gates.wait(job.id);
      },
      { prefetch: 2 },
    );
    assert.equal(consumer.queue, 'emails');
    assert.equal(consumer.prefetch, 2);
    const open = new Promise((resolve) => consumer.on('open', resolve));
    const peer = await server.peer(0);
    assert.deepEqual(await open, { queue: 'emails' });
    assert.deepEqual(peer.sent('consume'), [{ type: 'consume', queue: 'emails', prefetch: 2 }]);
    peer.job('emails', 'j1', { to: 'a' }, 1, 99);
    peer.job('emails', 'j2', { to: 'b' }, 3);
    await c.ping();
    assert.deepEqual(
      started.map((j) => j.id),
      ['j1', 'j2'],
      'both run at once',
    );
    assert.deepEqual(started[0], { id: 'j1', queue: 'emails', attempt: 1, data: { to: 'a' }, time: 99 });
    assert.equal(consumer.active, 2);
    gates.open('j2');
    await server.until(() => answers(peer).length === 1, 'the ack of j2');
    gates.fail('j1', new Error('smtp down'));
    await server.until(() => answers(peer).length === 2, 'the nack of j1');
    assert.deepEqual(answers(peer), ['ack:emails/j2', 'nack:emails/j1']);
    assert.deepEqual(peer.sent('nack'), [{ type: 'nack', queue: 'emails', message: 'j1' }]);
    assert.equal(consumer.active, 0);
  });

  it('a job that throws synchronously is nacked; jobs of another queue are not its business', async () => {
    const server = await scripted();
    const c = client(server);
    await c.connect();
    const seen: string[] = [];
    c.consume('a', (job) => {
      seen.push(job.id);
      throw new Error('bad job');
    });
    const peer = await server.peer(0);
    await server.command(peer, 'consume', (cmd) => cmd.type === 'consume');
    peer.job('b', 'x', 1);
    peer.job('a', 'y', 1);
    await server.until(() => answers(peer).length === 1, 'the nack');
    assert.deepEqual(seen, ['y']);
    assert.deepEqual(answers(peer), ['nack:a/y']);
  });

  it('consumes again after a reconnect; a job running across it is answered only if it came again', async () => {
    const server = await scripted();
    const c = client(server);
    const gates = new Gates();
    const runs: string[] = [];
    const consumer = c.consume(
      'work',
      async (job) => {
        runs.push(job.id);
        await gates.wait(job.id);
      },
      { prefetch: 5 },
    );
    await c.connect();
    const first = await server.peer(0);
    first.job('work', 'j1', 1);
    first.job('work', 'j2', 2);
    await c.ping();
    first.close();
    const second = await server.peer(1);
    await server.command(second, 'consume', (cmd) => cmd.type === 'consume');
    assert.deepEqual(second.sent('consume'), [{ type: 'consume', queue: 'work', prefetch: 5 }]);
    // The server gave both back to the queue; j2 comes to this client again, j1 went elsewhere.
    second.job('work', 'j2', 2, 2);
    await c.ping();
    gates.open('j1');
    gates.open('j2');
    await server.until(() => answers(second).length === 1, 'the ack of j2');
    await c.ping();
    assert.deepEqual(runs, ['j1', 'j2'], 'j2 ran once');
    assert.deepEqual(answers(second), ['ack:work/j2']);
    assert.deepEqual(answers(first), []);
    assert.equal(consumer.state, 'active');
  });

  it('cancel() lets running jobs finish and answer, starts no new one, then sends cancel', async () => {
    const server = await scripted();
    const c = client(server);
    await c.connect();
    const gate = deferred();
    const runs: string[] = [];
    const consumer = c.consume(
      'work',
      async (job) => {
        runs.push(job.id);
        await gate.promise;
      },
      { prefetch: 3 },
    );
    const peer = await server.peer(0);
    await server.command(peer, 'consume', (cmd) => cmd.type === 'consume');
    peer.job('work', 'j1', 1);
    await c.ping();
    let cancelled = false;
    const cancel = consumer.cancel().then(() => {
      cancelled = true;
    });
    assert.equal(consumer.cancel(), consumer.cancel(), 'one promise');
    assert.equal(consumer.state, 'cancelling');
    peer.job('work', 'j2', 2);
    await c.ping();
    assert.deepEqual(peer.sent('cancel'), [], 'not while j1 runs');
    assert.equal(cancelled, false);
    gate.resolve();
    await cancel;
    assert.deepEqual(runs, ['j1']);
    assert.deepEqual(
      peer.commands.filter((cmd) => cmd.type !== 'ping').map((cmd) => cmd.type),
      ['consume', 'ack', 'cancel'],
    );
    assert.deepEqual(peer.sent('cancel'), [{ type: 'cancel', queue: 'work' }]);
    assert.equal(consumer.state, 'cancelled');
    // Not consumed again after a reconnect; the queue may be consumed anew.
    peer.close();
    const second = await server.peer(1);
    await c.connect();
    await c.ping();
    assert.deepEqual(second.sent('consume'), []);
    c.consume('work', () => {});
    await server.command(second, 'consume', (cmd) => cmd.type === 'consume');
  });

  it('cancel() while disconnected sends nothing; the consumer is not sent on the next connection', async () => {
    const server = await scripted();
    const c = client(server);
    const consumer = c.consume('work', () => {});
    await consumer.cancel();
    assert.equal(consumer.state, 'cancelled');
    await c.connect();
    await c.ping();
    const peer = await server.peer(0);
    assert.deepEqual(
      peer.commands.map((cmd) => cmd.type),
      ['ping'],
    );
  });

  it('reports a refused consume or ack as an error event on the consumer', async () => {
    const server = await scripted();
    server.answer = (cmd) =>
      cmd.type === 'consume'
        ? { error: { code: 'permission_denied', message: 'not your queue' } }
        : cmd.type === 'ack'
          ? { error: { code: 'not_found', message: 'lock lost' } }
          : { result: {} };
    const c = client(server);
    await c.connect();
    const consumer = c.consume('secret', () => {});
    const errors: SwitchboardClientError[] = [];
    const refused = new Promise<void>((resolve) =>
      consumer.on('error', (error) => {
        errors.push(error);
        resolve();
      }),
    );
    await refused;
    assert.ok(errors[0] instanceof ServerError);
    assert.equal(errors[0].code, 'permission_denied');
    const lost = new Promise<SwitchboardClientError>((resolve) => consumer.on('error', resolve));
    (await server.peer(0)).job('secret', 'j1', 1);
    const error = await lost;
    assert.equal(error.code, 'not_found');
    assert.equal(error.message, 'lock lost');
  });

  it('checks its arguments', async () => {
    const server = await scripted();
    const c = client(server);
    assert.throws(() => c.consume('', () => {}), InvalidArgumentError);
    assert.throws(() => c.consume('bad name', () => {}), InvalidArgumentError);
    assert.throws(() => c.consume('q'.repeat(129), () => {}), InvalidArgumentError);
    assert.throws(() => c.consume('q', () => {}, { prefetch: 0 }), InvalidArgumentError);
    assert.throws(() => c.consume('q', () => {}, { prefetch: 1001 }), InvalidArgumentError);
    assert.throws(() => c.consume('q', 'handler' as never), InvalidArgumentError);
    c.consume('q', () => {});
    assert.throws(() => c.consume('q', () => {}), /already consumes q/);
  });
});
