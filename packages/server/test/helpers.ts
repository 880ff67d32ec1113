/**
 * Test harness: a real server on port 0 and real ws clients. Waits are event-driven; every wait has a
 * deadline so a broken test fails with a message instead of hanging.
 */
import WebSocket from 'ws';
import type { ClientOptions } from 'ws';
import { decodeServerFramesMsgpack } from '@switchboard/protocol';
import { createServer } from '../src/index.js';
import type { Logger, ServerOptions, SwitchboardServer } from '../src/index.js';

/** A running server and its URLs. */
export interface TestServer {
  readonly server: SwitchboardServer;
  /** `ws://127.0.0.1:PORT` */
  readonly wsUrl: string;
  /** `http://127.0.0.1:PORT` */
  readonly httpUrl: string;
  stop(): Promise<void>;
}

/** Start a server on 127.0.0.1 and a free port. */
export async function startServer(options: ServerOptions = {}): Promise<TestServer> {
  const server = createServer({ host: '127.0.0.1', port: 0, ...options });
  await server.start();
  const base = `127.0.0.1:${server.port}${options.basePath ?? ''}`;
  return { server, wsUrl: `ws://${base}`, httpUrl: `http://${base}`, stop: () => server.stop() };
}

/** How a test client's socket ended. */
export interface CloseEvent {
  readonly code: number;
  readonly reason: string;
}

/**
 * A ws client that queues parsed frames so tests can await them in order: JSON text frames (one per
 * message; a batched message as one string), and MessagePack binary messages, every frame of each.
 */
export class TestClient {
  readonly messages: unknown[] = [];
  private readonly waiters: { match: (m: unknown) => boolean; resolve: (m: unknown) => void }[] = [];
  private cursor = 0;
  readonly closed: Promise<CloseEvent>;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        this.messages.push(...decodeServerFramesMsgpack(new Uint8Array(data as Buffer)));
        this.flush();
        return;
      }
      const text = data.toString();
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        value = text;
      }
      this.messages.push(value);
      this.flush();
    });
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
  }

  private flush(): void {
    for (let i = 0; i < this.waiters.length; i++) {
      const waiter = this.waiters[i];
      if (waiter === undefined) continue;
      const index = this.messages.findIndex((m, j) => j >= this.cursor && waiter.match(m));
      if (index !== -1) {
        const [message] = this.messages.splice(index, 1);
        this.waiters.splice(i--, 1);
        waiter.resolve(message);
      }
    }
  }

  /** Send a JSON value (or a raw string as it is; bytes as a binary message). */
  send(value: unknown): void {
    if (value instanceof Uint8Array) this.ws.send(value);
    else this.ws.send(typeof value === 'string' ? value : JSON.stringify(value));
  }

  /**
   * The next queued frame matching `match` (default: any frame other than a heartbeat ping), removed
   * from the queue. Rejects after `timeoutMs`.
   */
  next<T = Record<string, unknown>>(
    match: (m: Record<string, unknown>) => boolean = notPing,
    timeoutMs = 3000,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const waiter = {
        match: (m: unknown) => typeof m === 'object' && m !== null && match(m as Record<string, unknown>),
        resolve: (m: unknown) => {
          clearTimeout(timer);
          resolve(m as T);
        },
      };
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(waiter);
        if (i !== -1) this.waiters.splice(i, 1);
        reject(
          new Error(
            `no matching frame within ${timeoutMs} ms; queued: ${JSON.stringify(this.messages).slice(0, 500)}`,
          ),
        );
      }, timeoutMs);
      this.waiters.push(waiter);
      this.flush();
    });
  }

  /** The next frame of a given `type`. */
  nextOfType<T = Record<string, unknown>>(type: string, timeoutMs = 3000): Promise<T> {
    return this.next<T>((m) => m['type'] === type, timeoutMs);
  }

  /** The reply to command `id`. */
  reply<T = Record<string, unknown>>(id: number, timeoutMs = 3000): Promise<T> {
    return this.next<T>((m) => m['type'] === 'reply' && m['id'] === id, timeoutMs);
  }

  /** Send a command with `id` and await its reply. */
  async request<T = Record<string, unknown>>(command: Record<string, unknown> & { id: number }): Promise<T> {
    const reply = this.reply<T>(command.id);
    this.send(command);
    return reply;
  }

  /** Frames other than pings received so far and not yet consumed. */
  pending(): unknown[] {
    return this.messages.filter((m) => notPing(m as Record<string, unknown>));
  }

  close(): void {
    this.ws.close();
  }
}

function notPing(m: Record<string, unknown>): boolean {
  return m['type'] !== 'ping';
}

/** Open a ws connection (offering `protocols`, if any) and wait until it is open (rejects on an HTTP error status). */
export async function connect(
  url: string,
  options: ClientOptions = {},
  protocols?: string[],
): Promise<TestClient> {
  const ws = protocols === undefined ? new WebSocket(url, options) : new WebSocket(url, protocols, options);
  const client = new TestClient(ws);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
  return client;
}

/** Connect to the v1 endpoint and consume the `connected` push. */
export async function connectV1(
  t: TestServer,
  options: ClientOptions = {},
  query = '',
): Promise<{ client: TestClient; connected: Record<string, unknown> }> {
  const client = await connect(`${t.wsUrl}/ws${query}`, options);
  const connected = await client.nextOfType('connected');
  return { client, connected };
}

/** The HTTP status a refused upgrade answered with. */
export function upgradeStatus(
  url: string,
  options: ClientOptions = {},
  protocols?: string[],
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = protocols === undefined ? new WebSocket(url, options) : new WebSocket(url, protocols, options);
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.on('open', () => {
      ws.close();
      reject(new Error('upgrade unexpectedly succeeded'));
    });
    ws.on('error', () => {});
  });
}

/** The value of one sample in Prometheus text: `name` is the whole series, labels included. */
export function metricSample(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

/** Resolve when `predicate` holds, polling on the event loop's own turns (for server-side state). */
export async function until(predicate: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Resolve when `channel` has at least `members` subscribers on the server (state with no client-visible event). */
export async function waitMembers(
  t: TestServer,
  channel: string,
  members: number,
  timeoutMs = 3000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await t.server.channelInfo(channel)).members < members) {
    if (Date.now() > deadline) throw new Error(`${channel} never reached ${members} members`);
    await new Promise((r) => setImmediate(r));
  }
}

/** An authenticator for tests: the user id comes from the `user` query parameter (anonymous without it). */
export const queryUserAuthenticator = {
  authenticate(request: { url: URL }): Promise<{ ok: true; principal: { userId: string | null } }> {
    return Promise.resolve({ ok: true, principal: { userId: request.url.searchParams.get('user') } });
  },
};

/**
 * A real client that completes the WebSocket handshake and then stops reading, like a ghost whose
 * network vanished or a consumer too slow to keep up. Returns the paused TCP socket.
 */
export async function stalledClient(url: string): Promise<import('node:net').Socket> {
  const { connect: netConnect } = await import('node:net');
  const target = new URL(url);
  const socket = netConnect({ host: target.hostname, port: Number(target.port) });
  socket.setNoDelay(true);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  socket.write(
    `GET ${target.pathname}${target.search} HTTP/1.1\r\nHost: ${target.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  );
  await new Promise<void>((resolve, reject) => {
    let head = '';
    const onData = (chunk: Buffer): void => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      socket.pause();
      if (head.startsWith('HTTP/1.1 101')) resolve();
      else reject(new Error(`upgrade refused: ${head.split('\r\n')[0]}`));
    };
    socket.on('data', onData);
  });
  socket.on('error', () => {});
  return socket;
}

/**
 * Make a raw client socket (from {@link stalledClient}) answer the server's WebSocket pings whenever it
 * reads them, as every WebSocket client does (RFC 6455, section 5.5.2): the server's pings are empty,
 * `0x89 0x00`, a pair no text frame contains, and each is answered with an empty masked pong. A paused
 * socket reads nothing, so it answers nothing: the pongs prove reads, which is what the server asks.
 */
export function answerPings(socket: import('node:net').Socket): void {
  let last = -1;
  socket.on('data', (chunk: Buffer) => {
    for (let i = 0; i < chunk.length; i++) {
      if ((i === 0 ? last : chunk[i - 1]) === 0x89 && chunk[i] === 0x00)
        socket.write(Buffer.from([0x8a, 0x80, 0, 0, 0, 0]));
    }
    last = chunk.at(-1) ?? -1;
  });
}

/**
 * Publish to `channel`, which has a stalled member (see {@link stalledClient}), until an ephemeral probe is
 * dropped: that member's outbound buffer is then over the soft limit (`maxBufferedBytes`), its frames
 * waiting in the server's own buffer (the kernel's on loopback fill first: a few MB).
 */
export async function pushOverSoftLimit(t: TestServer, channel: string): Promise<void> {
  const dropped = t.server.stats().messages.dropped;
  const payload = 'y'.repeat(4 * 1024);
  for (let i = 0; i < 5000 && t.server.stats().messages.dropped === dropped; i++) {
    await t.server.publish(channel, { payload });
    await t.server.publish(channel, { probe: i }, { ephemeral: true });
    if (i % 20 === 0) await new Promise((r) => setImmediate(r));
  }
  if (t.server.stats().messages.dropped === dropped)
    throw new Error(`${channel}: no member went over the soft limit`);
}

/** Lets a test await a predicate over state that event handlers change; they call {@link notify}. */
export class Changes {
  private readonly waiting = new Set<() => void>();

  /** Resolve once `predicate` holds (checked now and on every notify); reject after `timeoutMs`. */
  until(predicate: () => boolean, what: string | (() => string), timeoutMs = 5000): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!predicate()) return;
        this.waiting.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiting.delete(check);
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`,
          ),
        );
      }, timeoutMs);
      this.waiting.add(check);
    });
  }

  notify(): void {
    for (const check of [...this.waiting]) check();
  }
}

/** A logger that keeps every line. */
export function recordingLogger(): { logger: Logger; lines: { level: string; msg: string }[] } {
  const lines: { level: string; msg: string }[] = [];
  const at =
    (level: string) =>
    (_obj: object, msg = ''): void => {
      lines.push({ level, msg });
    };
  return { logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

/** Run `body` against a fresh server, stopped afterwards whatever happens. */
export async function withServer(
  options: ServerOptions,
  body: (t: TestServer) => Promise<void>,
): Promise<void> {
  const t = await startServer(options);
  try {
    await body(t);
  } finally {
    await t.stop();
  }
}
