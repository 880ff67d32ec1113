/**
 * ReconnectingWebSocket against a real `ws` WebSocketServer on 127.0.0.1 and a free port. The client runs
 * on a ManualClock, so its backoff, ping and timeout timers fire only when a test advances it; real time
 * is spent only on real socket I/O, and every wait is for an event, with a deadline.
 */
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage as HttpRequest } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import type { AddressInfo, Server as TcpServer, Socket as TcpSocket } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import {
  InvalidArgumentError,
  InvalidOptionError,
  ReconnectingWebSocket,
  defaultShouldReconnect,
} from '../src/index.js';
import type {
  ExternalWebSocketConstructor,
  ReconnectingWebSocketEvents,
  ReconnectingWebSocketOptions,
  UrlSource,
} from '../src/index.js';
import { ManualClock } from './manual-clock.js';

// Compile-time checks: both runtimes' constructors fit the seam (the DOM one is undefined on Node 20).
const domWebSocket: ExternalWebSocketConstructor | undefined = globalThis.WebSocket;
const wsWebSocket: ExternalWebSocketConstructor = WebSocket;
void domWebSocket;
void wsWebSocket;

// ---------------------------------------------------------------- harness

/** Resolves when a predicate over changing state holds; fails with `what` after `timeoutMs`. */
class Watch {
  private readonly watchers = new Set<() => void>();

  changed(): void {
    for (const watcher of [...this.watchers]) watcher();
  }

  until(predicate: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
    return new Promise((resolve, reject) => {
      if (predicate()) {
        resolve();
        return;
      }
      const watcher = (): void => {
        if (!predicate()) return;
        clearTimeout(timer);
        this.watchers.delete(watcher);
        resolve();
      };
      const timer = setTimeout(() => {
        this.watchers.delete(watcher);
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      this.watchers.add(watcher);
    });
  }
}

/** Notified by every server event and every recorded client event. */
const changes = new Watch();

/** One connection as the server sees it. */
interface Peer {
  readonly socket: WebSocket;
  readonly request: HttpRequest;
  /** Received messages: text as is, binary as `bin:` and the bytes in hex. */
  readonly received: string[];
  closed: { code: number; reason: string } | null;
}

/** A `ws` server that echoes, answers `ping` with `pong` unless `silent`, and counts open connections. */
interface TestServer {
  readonly url: string;
  readonly peers: Peer[];
  /** The most connections open at the same time, as the server saw them. */
  maxOpen: number;
  /** Stop answering pings. */
  silent: boolean;
  /** Resolves with the `n`th connection (0-based) once it arrived. */
  peer(n: number): Promise<Peer>;
}

let servers: WebSocketServer[] = [];
let tcpServers: TcpServer[] = [];
let clients: ReconnectingWebSocket[] = [];

beforeEach(() => {
  servers = [];
  tcpServers = [];
  clients = [];
});

afterEach(async () => {
  for (const client of clients) client.close();
  for (const wss of servers) for (const socket of wss.clients) socket.terminate();
  await Promise.all([
    ...servers.map((wss) => new Promise((resolve) => wss.close(resolve))),
    ...tcpServers.map((tcp) => new Promise((resolve) => tcp.close(resolve))),
  ]);
});

async function startServer(
  onConnection: (peer: Peer, server: TestServer) => void = () => {},
  handleProtocols?: (protocols: Set<string>) => string | false,
): Promise<TestServer> {
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    ...(handleProtocols === undefined ? {} : { handleProtocols }),
  });
  servers.push(wss);
  await new Promise<void>((resolve) => wss.once('listening', resolve));
  let open = 0;
  const server: TestServer = {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/feed`,
    peers: [],
    maxOpen: 0,
    silent: false,
    async peer(n) {
      await changes.until(() => server.peers.length > n, `connection #${n + 1}`);
      return server.peers[n] as Peer;
    },
  };
  wss.on('connection', (socket, request) => {
    const peer: Peer = { socket, request, received: [], closed: null };
    server.peers.push(peer);
    open += 1;
    server.maxOpen = Math.max(server.maxOpen, open);
    socket.on('message', (data: Buffer, isBinary) => {
      const text = isBinary ? `bin:${data.toString('hex')}` : data.toString();
      peer.received.push(text);
      if (text === 'ping') {
        if (!server.silent) socket.send('pong');
      } else socket.send(data, { binary: isBinary });
      changes.changed();
    });
    socket.on('close', (code, reason) => {
      open -= 1;
      peer.closed = { code, reason: reason.toString() };
      changes.changed();
    });
    onConnection(peer, server);
    changes.changed();
  });
  return server;
}

/** A client on a ManualClock, using `ws`, closed after the test. */
function connect(url: UrlSource, options: ReconnectingWebSocketOptions = {}) {
  const clock = new ManualClock();
  const rws = new ReconnectingWebSocket(url, { WebSocket, clock, ...options });
  clients.push(rws);
  return { rws, clock };
}

/** The next `event` of `rws` matching `predicate`; rejects after `timeoutMs`. */
function next<K extends keyof ReconnectingWebSocketEvents>(
  rws: ReconnectingWebSocket,
  event: K,
  predicate: (payload: ReconnectingWebSocketEvents[K]) => boolean = () => true,
  timeoutMs = 3000,
): Promise<ReconnectingWebSocketEvents[K]> {
  return new Promise((resolve, reject) => {
    const off = rws.on(event, (payload) => {
      if (!predicate(payload)) return;
      off();
      clearTimeout(timer);
      resolve(payload);
    });
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no ${event} event within ${timeoutMs} ms`));
    }, timeoutMs);
  });
}

/** Every `event` of `rws` from now on (each one notifies {@link changes}). */
function record<K extends keyof ReconnectingWebSocketEvents>(
  rws: ReconnectingWebSocket,
  event: K,
): ReconnectingWebSocketEvents[K][] {
  const seen: ReconnectingWebSocketEvents[K][] = [];
  rws.on(event, (payload) => {
    seen.push(payload);
    changes.changed();
  });
  return seen;
}

/** Resolves once `list` holds `n` entries. */
function count(list: readonly unknown[], n: number, what: string): Promise<void> {
  return changes.until(() => list.length >= n, `${n} ${what}`);
}

/** `promise`, or a rejection after `timeoutMs`. */
function within<T>(promise: Promise<T>, what: string, timeoutMs = 3000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Wait for retry number `n` (counting the events `retries` recorded) and let its delay pass on the
 * manual clock.
 */
async function retryNow(
  retries: ReconnectingWebSocketEvents['retry'][],
  n: number,
  clock: ManualClock,
): Promise<void> {
  await count(retries, n, 'retries');
  clock.advance((retries[n - 1] as ReconnectingWebSocketEvents['retry']).delayMs);
}

const hex = (data: string | ArrayBuffer): string =>
  typeof data === 'string' ? data : Buffer.from(data).toString('hex');

// ---------------------------------------------------------------- tests

describe('ReconnectingWebSocket: messages', () => {
  it('round-trips text, binary and JSON; sends before the open are queued and go first', async () => {
    const server = await startServer();
    const { rws } = connect(server.url);
    const messages = record(rws, 'message');
    const bytes = new Uint8Array([1, 2, 255]);
    assert.equal(rws.state, 'connecting');
    assert.equal(rws.send('early'), 'queued');
    assert.equal(rws.send(bytes), 'queued');
    bytes[0] = 9; // queued binary data was copied: reusing the buffer changes nothing
    await next(rws, 'open');
    assert.equal(rws.state, 'open');
    assert.equal(rws.queued, 0);
    assert.equal(rws.send('text'), 'sent');
    assert.equal(rws.send(new Uint16Array([0x0102]).buffer), 'sent');
    assert.equal(rws.send(new DataView(new Uint8Array([7, 8, 9]).buffer, 1, 2)), 'sent');
    assert.equal(rws.sendJson({ op: 'sub', ids: [1, 2] }), 'sent');
    const peer = await server.peer(0);
    await count(messages, 6, 'echoes');
    assert.deepEqual(peer.received, [
      'early',
      'bin:0102ff',
      'text',
      'bin:0201',
      'bin:0809',
      '{"op":"sub","ids":[1,2]}',
    ]);
    assert.deepEqual(
      messages.map((m) => [m.isBinary, hex(m.data)]),
      [
        [false, 'early'],
        [true, '0102ff'],
        [false, 'text'],
        [true, '0201'],
        [true, '0809'],
        [false, '{"op":"sub","ids":[1,2]}'],
      ],
    );
    for (const m of messages)
      if (m.isBinary) assert.ok(m.data instanceof ArrayBuffer, 'binary is an ArrayBuffer');
  });

  it('async iteration yields messages in order and ends when the socket is closed', async () => {
    const server = await startServer();
    const { rws } = connect(server.url);
    const seen: string[] = [];
    const loop = (async () => {
      for await (const message of rws) {
        seen.push(hex(message.data));
        assert.equal(message.missed, 0);
        if (seen.length === 3) rws.close();
      }
    })();
    for (const text of ['one', 'two', 'three']) rws.send(text);
    await within(loop, 'the loop to end');
    assert.deepEqual(seen, ['one', 'two', 'three']);
    assert.equal(rws.state, 'closed');
    const after = rws[Symbol.asyncIterator]();
    assert.deepEqual(await after.next(), { done: true, value: undefined }, 'closed: iteration ends at once');
  });

  it('messages that arrived before close() are still handed out, then iteration ends', async () => {
    const server = await startServer((peer) => {
      peer.socket.send('m1');
      peer.socket.send('m2');
    });
    const { rws } = connect(server.url);
    const iterator = rws[Symbol.asyncIterator]();
    const messages = record(rws, 'message');
    await count(messages, 2, 'messages');
    rws.close();
    assert.equal((await iterator.next()).value?.data, 'm1');
    assert.equal((await iterator.next()).value?.data, 'm2');
    assert.deepEqual(await iterator.next(), { done: true, value: undefined });
  });

  it('a slow iterator keeps the newest messages and says how many it missed', async () => {
    const server = await startServer((peer) => {
      for (let i = 1; i <= 5; i++) peer.socket.send(`m${i}`);
    });
    const { rws } = connect(server.url, { iteratorBufferSize: 2 });
    const iterator = rws[Symbol.asyncIterator]();
    const messages = record(rws, 'message');
    await count(messages, 5, 'messages');
    assert.deepEqual(await iterator.next(), {
      done: false,
      value: { data: 'm4', isBinary: false, missed: 3 },
    });
    assert.deepEqual(await iterator.next(), {
      done: false,
      value: { data: 'm5', isBinary: false, missed: 0 },
    });
    const third = iterator.next();
    rws.send('m6');
    assert.deepEqual(await within(third, 'm6'), {
      done: false,
      value: { data: 'm6', isBinary: false, missed: 0 },
    });
    // Breaking out of a loop detaches that iterator only.
    assert.deepEqual(await iterator.return(), { done: true, value: undefined });
    assert.deepEqual(await iterator.next(), { done: true, value: undefined });
    const other = rws[Symbol.asyncIterator]();
    rws.send('m7');
    assert.deepEqual((await within(other.next(), 'm7')).value?.data, 'm7');
  });

  it('rejects what it cannot send with InvalidArgumentError', async () => {
    const server = await startServer();
    const { rws } = connect(server.url);
    assert.throws(() => rws.send(42 as unknown as string), InvalidArgumentError);
    assert.throws(() => rws.sendJson(10n), InvalidArgumentError);
    assert.throws(() => rws.sendJson(undefined), InvalidArgumentError);
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    assert.throws(() => rws.sendJson(cyclic), InvalidArgumentError);
    assert.throws(() => rws.close(1001), InvalidArgumentError);
    assert.throws(() => rws.close(1000, 'x'.repeat(124)), InvalidArgumentError);
  });
});

describe('ReconnectingWebSocket: reconnecting', () => {
  it('reconnects after the server terminates the connection and keeps working', async () => {
    const server = await startServer();
    const { rws, clock } = connect(server.url, { backoff: { random: () => 0.5 } });
    const states = record(rws, 'state');
    const closes = record(rws, 'close');
    const retries = record(rws, 'retry');
    await next(rws, 'open');
    (await server.peer(0)).socket.terminate();
    await count(retries, 1, 'retries');
    assert.deepEqual(retries, [{ attempt: 1, delayMs: 250 }]);
    assert.equal(rws.state, 'reconnecting');
    assert.equal(closes.length, 1);
    assert.equal(closes[0]?.code, 1006);
    assert.equal(closes[0]?.reconnect, true);
    const reopened = next(rws, 'open');
    clock.advance(249);
    assert.equal(server.peers.length, 1, 'not before the delay');
    clock.advance(1);
    await reopened;
    const echo = next(rws, 'message');
    assert.equal(rws.send('still here'), 'sent');
    assert.equal((await echo).data, 'still here');
    assert.deepEqual(
      states.map((s) => `${s.from}>${s.to}:${s.code}`),
      ['connecting>open:1', 'open>reconnecting:1006', 'reconnecting>open:1'],
    );
    assert.equal(server.maxOpen, 1);
  });

  it('queues while disconnected, delivers in order after reconnecting, and reports overflow as dropped', async () => {
    const server = await startServer();
    const { rws, clock } = connect(server.url, { queue: { maxItems: 3 } });
    const dropped = record(rws, 'dropped');
    const retries = record(rws, 'retry');
    await next(rws, 'open');
    (await server.peer(0)).socket.terminate();
    await count(retries, 1, 'retries');
    const results = ['m1', 'm2', 'm3', 'm4', 'm5'].map((m) => rws.send(m));
    assert.deepEqual(results, ['queued', 'queued', 'queued', 'queued', 'queued']);
    assert.deepEqual(
      dropped.flatMap((d) => d.messages.map((m) => [m.item, m.reason])),
      [
        ['m1', 'overflow'],
        ['m2', 'overflow'],
      ],
    );
    assert.equal(rws.queued, 3);
    // What an open listener sends comes after the queue.
    rws.once('open', () => rws.send('from the open listener'));
    clock.advance(retries[0]?.delayMs ?? 0);
    const peer = await server.peer(1);
    await changes.until(() => peer.received.length === 4, 'four messages');
    assert.deepEqual(peer.received, ['m3', 'm4', 'm5', 'from the open listener']);
  });

  it('does not reconnect after a terminal close code, and ends iteration', async () => {
    const server = await startServer((peer) => peer.socket.close(1008, 'policy'));
    const { rws, clock } = connect(server.url);
    const iteration = (async () => {
      for await (const message of rws) assert.fail(`unexpected message ${hex(message.data)}`);
    })();
    const closed = await next(rws, 'state', (s) => s.to === 'closed');
    assert.deepEqual(closed, { from: 'open', to: 'closed', code: 1008, reason: 'policy' });
    await within(iteration, 'the iteration to end');
    assert.equal(clock.pending, 0, 'nothing scheduled');
    assert.equal(rws.send('late'), 'dropped');
    assert.equal(server.peers.length, 1);
  });

  it('asks shouldReconnect about each close', async () => {
    const server = await startServer((peer, s) => {
      if (s.peers.length === 1) peer.socket.close(4000, 'again');
      else peer.socket.close(4401, 'no');
    });
    const asked: number[] = [];
    const { rws, clock } = connect(server.url, {
      shouldReconnect: ({ code }) => {
        asked.push(code);
        return code !== 4401;
      },
    });
    const retries = record(rws, 'retry');
    await retryNow(retries, 1, clock);
    const closed = await next(rws, 'state', (s) => s.to === 'closed');
    assert.equal(closed.code, 4401);
    assert.deepEqual(asked, [4000, 4401]);
  });

  it('the default verdict: reconnect unless the server objected to the client', () => {
    for (const code of [1000, 1001, 1005, 1006, 1011, 1012, 1013, 1014, 1015, 3000, 4000, 4500, 4999]) {
      assert.equal(defaultShouldReconnect({ code }), true, String(code));
    }
    for (const code of [1002, 1003, 1007, 1008, 1009, 1010]) {
      assert.equal(defaultShouldReconnect({ code }), false, String(code));
    }
  });

  it('close() stops for good: no reconnect, iteration ends, the queue is reported as cleared', async () => {
    const server = await startServer();
    const { rws, clock } = connect(server.url);
    await next(rws, 'open');
    const iteration = (async () => {
      const seen: string[] = [];
      for await (const message of rws) seen.push(hex(message.data));
      return seen;
    })();
    rws.send('before');
    await next(rws, 'message');
    const retries = record(rws, 'retry');
    (await server.peer(0)).socket.terminate();
    await count(retries, 1, 'retries');
    rws.send('never sent');
    const dropped = next(rws, 'dropped');
    const states = record(rws, 'state');
    rws.close(4100, 'bye');
    rws.close();
    assert.deepEqual(states, [{ from: 'reconnecting', to: 'closed', code: 4100, reason: 'bye' }]);
    assert.deepEqual(
      (await dropped).messages.map((m) => [m.item, m.reason]),
      [['never sent', 'cleared']],
    );
    assert.deepEqual(await within(iteration, 'the iteration to end'), ['before']);
    assert.equal(clock.pending, 0);
    assert.equal(server.peers.length, 1);
  });

  it('close() on an open socket sends its code and reason to the server', async () => {
    const server = await startServer();
    const { rws } = connect(server.url);
    await next(rws, 'open');
    const peer = await server.peer(0);
    const closes = record(rws, 'close');
    rws.close(4100, 'done here');
    await changes.until(() => peer.closed !== null, 'the server to see the close');
    assert.deepEqual(peer.closed, { code: 4100, reason: 'done here' });
    assert.deepEqual(closes, [{ code: 4100, reason: 'done here', reconnect: false, cause: undefined }]);
  });

  it('asks an async URL provider for a fresh URL before every attempt, and retries when it fails', async () => {
    const server = await startServer();
    let calls = 0;
    const { rws, clock } = connect(async () => {
      calls += 1;
      if (calls === 1) throw new Error('token service down');
      return `${server.url}?token=t${calls}`;
    });
    const retries = record(rws, 'retry');
    const failed = await next(rws, 'close');
    assert.equal(failed.code, 1006);
    assert.equal(failed.reason, 'the URL provider failed');
    assert.equal((failed.cause as Error).message, 'token service down');
    await retryNow(retries, 1, clock);
    assert.equal((await server.peer(0)).request.url, '/feed?token=t2');
    await next(rws, 'open');
    (await server.peer(0)).socket.terminate();
    await retryNow(retries, 2, clock);
    assert.equal((await server.peer(1)).request.url, '/feed?token=t3');
  });

  it('gives up after maxAttempts, and abandons attempts that do not open within connectTimeoutMs', async () => {
    // A TCP server that accepts and never answers the upgrade: a handshake lost in a black hole.
    const sockets: TcpSocket[] = [];
    const tcp = createTcpServer((socket) => {
      sockets.push(socket);
      socket.on('close', () => changes.changed());
      changes.changed();
    });
    tcpServers.push(tcp);
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    const url = `ws://127.0.0.1:${(tcp.address() as AddressInfo).port}/`;
    const { rws, clock } = connect(url, { connectTimeoutMs: 1000, backoff: { maxAttempts: 2 } });
    const closes = record(rws, 'close');
    const retries = record(rws, 'retry');
    for (let attempt = 1; attempt <= 3; attempt++) {
      await changes.until(() => sockets.length === attempt, `attempt ${attempt}`);
      clock.advance(999);
      assert.equal(closes.length, attempt - 1);
      clock.advance(1);
      assert.equal(closes.length, attempt);
      if (attempt < 3) await retryNow(retries, attempt, clock);
    }
    assert.equal(rws.state, 'closed');
    assert.deepEqual(
      closes.map((c) => [c.code, c.reason, c.reconnect]),
      [
        [1006, 'not open within 1000 ms', true],
        [1006, 'not open within 1000 ms', true],
        [1006, 'not open within 1000 ms', false],
      ],
    );
    await changes.until(
      () => sockets.every((s) => s.destroyed || s.readableEnded),
      'abandoned sockets to close',
    );
    assert.equal(closes.length, 3, 'late events of abandoned sockets changed nothing');
  });

  it('reports a refused connection with its cause and retries it', async () => {
    const tcp = createTcpServer();
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    const port = (tcp.address() as AddressInfo).port;
    await new Promise((resolve) => tcp.close(resolve)); // nothing listens there now
    const { rws } = connect(`ws://127.0.0.1:${port}/`);
    const closed = await next(rws, 'close');
    assert.equal(closed.code, 1006);
    assert.equal(closed.reconnect, true);
    assert.match(String((closed.cause as Error).message), /ECONNREFUSED/);
    assert.equal(rws.state, 'reconnecting');
  });
});

describe('ReconnectingWebSocket: handshake options', () => {
  it('sends headers and subprotocols; the server sees them and the client learns the chosen one', async () => {
    const server = await startServer(undefined, (protocols) =>
      protocols.has('feed.v2') ? 'feed.v2' : false,
    );
    const { rws } = connect(server.url, {
      protocols: ['feed.v2', 'feed.v1'],
      headers: { Authorization: 'Bearer abc', 'X-Client': 'switchboard-test' },
    });
    const opened = await next(rws, 'open');
    const { request } = await server.peer(0);
    assert.equal(request.headers.authorization, 'Bearer abc');
    assert.equal(request.headers['x-client'], 'switchboard-test');
    assert.equal(request.headers['sec-websocket-protocol'], 'feed.v2,feed.v1');
    assert.equal(opened.protocol, 'feed.v2');
    assert.equal(rws.protocol, 'feed.v2');
  });

  it('refuses headers with the runtime’s global WebSocket: browsers cannot send them', () => {
    const saved = Object.getOwnPropertyDescriptor(globalThis, 'WebSocket');
    Object.defineProperty(globalThis, 'WebSocket', { value: WebSocket, configurable: true, writable: true });
    try {
      for (const options of [{}, { WebSocket }]) {
        assert.throws(
          () => new ReconnectingWebSocket('ws://127.0.0.1:1/', { ...options, headers: { a: 'b' } }),
          (error: unknown) => error instanceof InvalidOptionError && error.option === 'headers',
        );
      }
    } finally {
      if (saved === undefined) delete (globalThis as { WebSocket?: unknown }).WebSocket;
      else Object.defineProperty(globalThis, 'WebSocket', saved);
    }
  });

  it('validates its options, naming nested ones by their path', () => {
    const cases: [UrlSource, ReconnectingWebSocketOptions, string][] = [
      ['http://example.com/', {}, 'url'],
      ['ws://example.com/#frag', {}, 'url'],
      [42 as unknown as string, {}, 'url'],
      ['ws://example.com/', { protocols: ['a b'] }, 'protocols'],
      ['ws://example.com/', { protocols: ['x', 'x'] }, 'protocols'],
      ['ws://example.com/', { headers: { a: 1 as unknown as string } }, 'headers'],
      ['ws://example.com/', { connectTimeoutMs: 0 }, 'connectTimeoutMs'],
      ['ws://example.com/', { iteratorBufferSize: 0 }, 'iteratorBufferSize'],
      ['ws://example.com/', { backoff: { factor: 0 } }, 'backoff.factor'],
      ['ws://example.com/', { queue: { maxItems: -1 } }, 'queue.maxItems'],
      ['ws://example.com/', { ping: { message: () => 'p' } as never }, 'ping.isPong'],
      [
        'ws://example.com/',
        { ping: { message: () => 'p', isPong: () => false, intervalMs: -5 } },
        'ping.intervalMs',
      ],
      ['ws://example.com/', { shouldReconnect: true as never }, 'shouldReconnect'],
    ];
    for (const [url, options, option] of cases) {
      assert.throws(
        () => new ReconnectingWebSocket(url, { WebSocket, ...options }),
        (error: unknown) => error instanceof InvalidOptionError && error.option === option,
        option,
      );
    }
  });
});

describe('ReconnectingWebSocket: ping, latency and one socket at a time', () => {
  const ping = {
    intervalMs: 1000,
    timeoutMs: 500,
    message: () => 'ping',
    isPong: (m: { data: unknown }) => m.data === 'pong',
  };

  it('measures the round trip of its ping into latencyMs and a latency event; pongs are not messages', async () => {
    const server = await startServer();
    const { rws, clock } = connect(server.url, { ping });
    const messages = record(rws, 'message');
    await next(rws, 'open');
    assert.equal(rws.latencyMs, null);
    const peer = await server.peer(0);
    clock.advance(999);
    assert.deepEqual(peer.received, []);
    clock.advance(1); // the ping goes out; its pong cannot arrive before this test yields
    clock.advance(42);
    assert.deepEqual(await next(rws, 'latency'), { latencyMs: 42 });
    assert.equal(rws.latencyMs, 42);
    clock.advance(957);
    assert.equal(peer.received.length, 1, 'the next ping is due an interval after the last one was sent');
    clock.advance(1);
    clock.advance(7);
    assert.deepEqual(await next(rws, 'latency'), { latencyMs: 7 });
    assert.deepEqual(peer.received, ['ping', 'ping']);
    assert.deepEqual(messages, []);
  });

  it('recycles a connection whose server stops answering pings, closing it with 4000', async () => {
    const server = await startServer();
    const { rws, clock } = connect(server.url, { ping });
    const retries = record(rws, 'retry');
    await next(rws, 'open');
    server.silent = true;
    clock.advance(1000);
    clock.advance(499);
    assert.equal(rws.state, 'open');
    const closed = next(rws, 'close');
    clock.advance(1);
    assert.deepEqual(await closed, {
      code: 4000,
      reason: 'no pong within 500 ms',
      reconnect: true,
      cause: undefined,
    });
    const first = await server.peer(0);
    await changes.until(() => first.closed !== null, 'the server to see the close');
    assert.equal(first.closed?.code, 4000);
    server.silent = false;
    const reopened = next(rws, 'open');
    await retryNow(retries, 1, clock);
    await reopened;
    assert.equal(rws.latencyMs, null, 'latency is per connection');
    assert.equal(server.peers.length, 2);
    assert.equal(server.maxOpen, 1);
  });

  it('never has two sockets open: the next attempt waits for the abandoned one to close', async () => {
    const server = await startServer();
    server.silent = true;
    const { rws, clock } = connect(server.url, { ping, backoff: { random: () => 0 } });
    const opens = record(rws, 'open');
    for (let cycle = 1; cycle <= 5; cycle++) {
      await changes.until(() => opens.length === cycle, `open #${cycle}`);
      clock.advance(1000); // ping
      clock.advance(500); // no pong: abandoned, retry scheduled with delay 0
      clock.advance(0); // the attempt starts at once, and waits for the old socket's close
    }
    await changes.until(() => opens.length === 6, 'open #6');
    assert.equal(server.peers.length, 6);
    assert.equal(server.maxOpen, 1, 'the server never saw two connections of this client at once');
    assert.deepEqual(
      server.peers.slice(0, 5).map((p) => p.closed?.code),
      [4000, 4000, 4000, 4000, 4000],
    );
  });
});
