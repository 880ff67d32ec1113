/**
 * Helpers of the limits tests: an upgrade attempt that keeps the refusal's headers, a bystander check, a
 * metric reader, a raw TCP (or TLS) client and a clock that only moves when told to.
 */
import assert from 'node:assert/strict';
import { connect as netConnect } from 'node:net';
import type { Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import WebSocket from 'ws';
import type { ClientOptions } from 'ws';
import { systemClock } from '../src/util/clock.js';
import type { Clock } from '../src/util/clock.js';
import type { Logger } from '../src/util/logger.js';
import type { TestClient, TestServer } from './helpers.js';

/** The JSON body of a refused upgrade. */
export interface RefusalBody {
  readonly error?: { readonly code?: string; readonly message?: string; readonly temporary?: boolean };
}

/** How an upgrade attempt ended: opened (and closed again at once), or refused with an HTTP answer. */
export type Attempt =
  | { readonly opened: true }
  | {
      readonly opened: false;
      readonly status: number;
      readonly headers: Readonly<Record<string, string | string[] | undefined>>;
      readonly body: RefusalBody;
    };

/** Try one upgrade; an opened socket is closed right away. */
export function attempt(url: string, options: ClientOptions = {}): Promise<Attempt> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options);
    ws.on('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => {
        let body: RefusalBody = {};
        try {
          body = JSON.parse(text) as RefusalBody;
        } catch {
          // Not JSON (a 408 from Node, say): the status says enough.
        }
        resolve({ opened: false, status: res.statusCode ?? 0, headers: res.headers, body });
      });
    });
    ws.on('open', () => {
      ws.close();
      resolve({ opened: true });
    });
    ws.on('error', (error) => {
      if (ws.readyState === WebSocket.CLOSED) reject(error);
    });
  });
}

/** Assert that an attempt was refused with `status` and error `code`. */
export function assertRefused(result: Attempt, status: number, code: string): Attempt & { opened: false } {
  assert.equal(result.opened, false, `expected HTTP ${status} ${code}, the upgrade succeeded`);
  if (result.opened) throw new Error('unreachable');
  assert.equal(result.status, status);
  assert.equal(result.body.error?.code, code);
  return result;
}

let channelCounter = 0;

/**
 * Assert that `client` (a v1 connection) still gets full service: it subscribes to a fresh channel,
 * publishes to it and receives its own message.
 */
export async function assertServed(client: TestClient): Promise<void> {
  const channel = `bystander-${++channelCounter}`;
  const id = 1_000_000 + channelCounter * 2;
  const subscribed = await client.request({ id, type: 'subscribe', channel });
  assert.equal(subscribed['error'], undefined, JSON.stringify(subscribed));
  const published = await client.request({ id: id + 1, type: 'publish', channel, data: { probe: id } });
  assert.equal(published['error'], undefined, JSON.stringify(published));
  const message = await client.next((m) => m['type'] === 'message' && m['channel'] === channel);
  assert.deepEqual(message['data'], { probe: id });
}

/** The value of one sample of the server's /metrics (0 when the sample is absent). */
export async function metric(
  t: TestServer,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const text = await (await fetch(`${t.httpUrl}/metrics`)).text();
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const open = line.indexOf('{');
    const labelText = open === -1 ? '' : line.slice(open + 1, line.indexOf('}'));
    const have = labelText === '' ? [] : labelText.split(',');
    if (wanted.every((w) => have.includes(w)) && have.length === wanted.length)
      return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}

/** A raw client: what the server wrote so far, and when the socket closed (ms after it connected). */
export interface RawClient {
  readonly socket: Socket;
  received(): string;
  readonly ended: Promise<number>;
}

/** How {@link rawClient} connects. */
export interface RawClientOptions {
  /** The local address to connect from (any 127.x.y.z on Linux): another client address on loopback. */
  readonly localAddress?: string;
  /** Speak TLS, trusting this CA (PEM); the TLS handshake is done when the promise resolves. */
  readonly tlsCa?: string;
}

/** A raw TCP (or TLS) client of `t` that sends nothing unless the test writes to `socket`. */
export async function rawClient(t: TestServer, options: RawClientOptions = {}): Promise<RawClient> {
  const target = new URL(t.httpUrl);
  const where = {
    host: target.hostname,
    port: Number(target.port),
    ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
  };
  const socket =
    options.tlsCa === undefined
      ? netConnect(where)
      : tlsConnect({ ...where, ca: options.tlsCa, servername: 'localhost' });
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  socket.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    socket.once(options.tlsCa === undefined ? 'connect' : 'secureConnect', () => resolve());
    socket.once('error', reject);
  });
  const openedAt = Date.now();
  const ended = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - openedAt)));
  return { socket, received: () => text, ended };
}

/** A clock whose `now` stands still until `advance` moves it; timers are the real ones. */
export interface ManualClock extends Clock {
  advance(ms: number): void;
}

/** A {@link ManualClock} starting at the real time. */
export function manualClock(): ManualClock {
  let now = Date.now();
  return {
    ...systemClock,
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
}

/** One line a {@link recordingLogger} was given. */
export interface LogEntry {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly message: string;
  readonly fields: Record<string, unknown>;
}

/** A Logger that keeps every line, for tests that assert what the server logged. */
export function recordingLogger(): Logger & { readonly entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const at =
    (level: LogEntry['level']) =>
    (fields: object, message?: string): void => {
      entries.push({ level, message: message ?? '', fields: fields as Record<string, unknown> });
    };
  return { entries, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** The server's "connection closed" lines for closes the server started, as `code reason` strings. */
export function serverCloses(logger: { readonly entries: readonly LogEntry[] }): string[] {
  return logger.entries
    .filter((e) => e.message === 'connection closed' && e.fields['by'] === 'server')
    .map((e) => `${String(e.fields['code'])} ${String(e.fields['reason'])}`);
}
