/**
 * Switchboard protocol v1 over HTTP long-polling (docs/protocol.md "HTTP transports"): `GET
 * /v1/poll?token=` opens a connection (its id, secret and cursor 0), then one poll at a time, `GET
 * /v1/poll/<id>?cursor=N`, takes the frames after the cursor; what the client sends (subscribes, pongs,
 * the fan-out publisher's messages) goes up by `POST /v1/connections/<id>`, one line per frame, one POST
 * in flight. The frames are the WebSocket target's, so classification is the `switchboard` dialect's; a
 * poll answer reaches the pool as one message of newline-separated frames (`newlineBatches`), so the
 * fan-out report's "per carrier" figure is deliveries per poll answer.
 */
import { Agent, request } from 'node:http';
import type { ClientRequest, IncomingMessage } from 'node:http';
import type { Dialect } from './dialect.js';
import { switchboardDialect } from './switchboard-dialect.js';

/** At most this many frames per POST (the server's limit, docs/protocol.md). */
const MAX_LINES = 16;

/** The polling dialect: the v1 frames of `switchboard`, opened by `GET /v1/poll`. */
export function pollDialect(secret: string): Dialect {
  const frames = switchboardDialect(secret, true);
  return {
    ...frames,
    async path(index) {
      const ws = await frames.path(index);
      return `/v1/poll?${ws.slice(ws.indexOf('token='))}`;
    },
    newlineBatches: true,
    polls: true,
  };
}

/** What a poll connection reports to its owner. */
export interface PollSink {
  /** One poll answer with frames: the frames' JSON texts, one per line. */
  frames(socket: PollSocket, frames: Buffer): void;
  /** The connection is gone (refused, closed by the server, cut); called once. */
  closed(socket: PollSocket): void;
}

/** An answer's body, read whole. */
function readBody(res: IncomingMessage, done: (status: number, body: string) => void): void {
  const chunks: Buffer[] = [];
  res.on('data', (chunk: Buffer) => chunks.push(chunk));
  res.on('end', () => done(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8')));
  res.on('error', () => done(0, ''));
}

/** One long-polling connection, seen by the pool as a client socket. */
export class PollSocket {
  private id = '';
  private secret = '';
  private cursor = 0;
  private poll: ClientRequest | null = null;
  private post: ClientRequest | null = null;
  private queue: string[] = [];
  private listeners: (() => void)[] = [];
  private done = false;
  /** Poll requests answered so far (with frames or empty). */
  polls = 0;
  /** The pool's record of this connection. */
  client: unknown = null;

  constructor(
    private readonly agent: Agent,
    private readonly host: string,
    private readonly port: number,
    path: string,
    private readonly localAddress: string,
    timeoutMs: number,
    private readonly sink: PollSink,
  ) {
    const req = this.request('GET', path, (status, body) => {
      if (status !== 200) return this.finish();
      try {
        const opened = JSON.parse(body) as { connection: string; secret: string; cursor: number };
        this.id = opened.connection;
        this.secret = opened.secret;
        this.cursor = opened.cursor;
      } catch {
        return this.finish();
      }
      this.nextPoll();
      this.flush();
    });
    req.setTimeout(timeoutMs, () => req.destroy());
    req.end();
  }

  private request(method: string, path: string, done: (status: number, body: string) => void): ClientRequest {
    const headers: Record<string, string> = {};
    if (this.secret !== '') headers['x-switchboard-secret'] = this.secret;
    const req = request(
      {
        agent: this.agent,
        host: this.host,
        port: this.port,
        method,
        path,
        headers,
        localAddress: this.localAddress,
      },
      (res) => readBody(res, done),
    );
    req.on('error', () => done(0, ''));
    return req;
  }

  private nextPoll(): void {
    if (this.done) return;
    const req = this.request('GET', `/v1/poll/${this.id}?cursor=${this.cursor}`, (status, body) => {
      if (this.poll === req) this.poll = null;
      if (this.done) return;
      this.polls++;
      if (status !== 200) return this.finish();
      let answer: { cursor: number; frames: unknown[]; close?: unknown };
      try {
        answer = JSON.parse(body) as typeof answer;
      } catch {
        return this.finish();
      }
      this.cursor = answer.cursor;
      if (answer.frames.length > 0) {
        this.sink.frames(this, Buffer.from(answer.frames.map((f) => JSON.stringify(f)).join('\n')));
      }
      if (answer.close !== undefined) return this.finish();
      this.nextPoll();
    });
    this.poll = req;
    req.end();
  }

  /** Send a frame by POST (queued while one is in flight or the connection is not open yet). */
  send(data: string): void {
    if (this.done) return;
    this.queue.push(data);
    this.flush();
  }

  private flush(): void {
    if (this.post !== null || this.id === '' || this.queue.length === 0 || this.done) return;
    const lines = this.queue.splice(0, MAX_LINES);
    const req = this.request('POST', `/v1/connections/${this.id}`, (status) => {
      this.post = null;
      if (status !== 204 && status !== 202) return this.finish();
      this.flush();
    });
    this.post = req;
    req.setHeader('content-type', 'text/plain');
    req.end(lines.join('\n'));
  }

  /** Close on purpose: `DELETE` the connection, then stop polling. */
  close(): void {
    if (this.done || this.id === '') return this.terminate();
    this.request('DELETE', `/v1/connections/${this.id}`, () => this.terminate()).end();
  }

  /** Stop now: the held poll's socket is reset (no TIME_WAIT left behind). */
  terminate(): void {
    for (const req of [this.poll, this.post]) {
      const socket = req?.socket;
      if (socket != null && !socket.destroyed) socket.resetAndDestroy();
      req?.destroy();
    }
    this.finish();
  }

  once(_event: 'close', listener: () => void): void {
    if (this.done) listener();
    else this.listeners.push(listener);
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.poll?.destroy();
    this.poll = null;
    this.sink.closed(this);
    const listeners = this.listeners;
    this.listeners = [];
    for (const listener of listeners) listener();
  }
}
