/**
 * Protocol v1 over plain HTTP, seen as a {@link WebSocketLike}: frames come down an SSE stream (`GET
 * /v1/sse`) or long polls (`GET /v1/poll`, then `GET /v1/poll/:connection?cursor=N`), commands go up as
 * `POST /v1/connections/:connection`, one POST in flight at a time so that they arrive in order. The
 * client's connection logic (sessions, recovery, heartbeat, auth) runs on it unchanged.
 * Browser-safe: `fetch` and streams only. docs/protocol.md#http-transports.
 */
import { SseParser } from './sse-parser.js';
import type { SocketCloseEvent, SocketMessageEvent, WebSocketLike } from './websocket-like.js';

/** A `fetch` function: the global one, or one passed in. */
export type FetchLike = typeof fetch;

/** The header that carries the connection's secret. */
const SECRET_HEADER = 'x-switchboard-secret';

/** The most frames one POST carries (the server's limit). */
const MAX_FRAMES_PER_POST = 16;

/** The close code of a connection lost without a close from the server (as for a WebSocket). */
const ABNORMAL = 1006;

type Listeners = {
  open: (() => void)[];
  message: ((event: SocketMessageEvent) => void)[];
  close: ((event: SocketCloseEvent) => void)[];
  error: (() => void)[];
};

/** One connection over SSE or long polling. */
export class HttpSocket implements WebSocketLike {
  private readonly listeners: Listeners = { open: [], message: [], close: [], error: [] };
  private readonly abort = new AbortController();
  private readonly base: string;
  private readonly request: FetchLike;
  private connection: string | null = null;
  private secret = '';
  private outbox: string[] = [];
  private posting = false;
  private closed = false;
  private serverClose: SocketCloseEvent | null = null;
  /** Some request got an HTTP answer: the server (or a proxy) is reachable, whatever it answered. */
  answered = false;

  /**
   * @param url the open URL (`.../v1/sse?...` or `.../v1/poll?...`, query included)
   * @param headers sent with the open request (`Authorization` for a bearer token)
   */
  constructor(
    url: string,
    readonly kind: 'sse' | 'polling',
    fetchFn: FetchLike,
    headers: Record<string, string> = {},
  ) {
    // Called as a plain function: a browser's fetch called as this object's method throws "Illegal invocation".
    this.request = (input, init) => fetchFn(input, init);
    const parsed = new URL(url);
    this.base = `${parsed.origin}${parsed.pathname.replace(/\/v1\/(sse|poll)$/, '')}`;
    const run = kind === 'sse' ? this.stream(url, headers) : this.pollLoop(url, headers);
    run.then(
      () => this.finish(this.serverClose ?? { code: ABNORMAL, reason: 'stream ended' }),
      (error: unknown) => this.finish({ code: ABNORMAL, reason: reasonOf(error) }),
    );
  }

  addEventListener(type: 'message', listener: (event: SocketMessageEvent) => void): void;
  addEventListener(type: 'close', listener: (event: SocketCloseEvent) => void): void;
  addEventListener(type: 'error' | 'open', listener: () => void): void;
  addEventListener(type: keyof Listeners, listener: (event: never) => void): void {
    (this.listeners[type] as unknown[]).push(listener);
  }

  /** Queue a frame; sent by POST once the connection is open, in order. */
  send(data: string): void {
    if (this.closed) throw new Error('the connection is closed');
    this.outbox.push(data);
    if (!this.posting && this.connection !== null) void this.post();
  }

  /** Close the connection: the server is told (`DELETE`), and `close` is emitted with `code`. */
  close(code = 1005, reason = ''): void {
    if (this.closed) return;
    const id = this.connection;
    if (id !== null) {
      this.request(`${this.base}/v1/connections/${encodeURIComponent(id)}`, {
        method: 'DELETE',
        headers: { [SECRET_HEADER]: this.secret },
      }).catch(() => undefined);
    }
    this.finish({ code, reason });
  }

  private async stream(url: string, headers: Record<string, string>): Promise<void> {
    const res = await this.request(url, {
      headers: { ...headers, accept: 'text/event-stream' },
      // Cookies go with the open request, as with a WebSocket handshake (a JWT cookie, cross-origin too).
      credentials: 'include',
      signal: this.abort.signal,
    });
    this.answered = true;
    if (!res.ok || res.body === null) throw new Error(`HTTP ${res.status}`);
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    const parser = new SseParser();
    for (;;) {
      const { done, value } = await reader.read();
      if (done || this.closed) return;
      for (const event of parser.feed(decoder.decode(value, { stream: true }))) {
        if (event.event === 'open') this.opened(JSON.parse(event.data) as OpenAnswer);
        else if (event.event === 'close') this.serverClose = JSON.parse(event.data) as SocketCloseEvent;
        else if (event.event === 'message') this.deliver(event.data);
      }
    }
  }

  private async pollLoop(url: string, headers: Record<string, string>): Promise<void> {
    const res = await this.request(url, { headers, credentials: 'include', signal: this.abort.signal });
    this.answered = true;
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const open = (await res.json()) as OpenAnswer;
    let cursor = 0;
    this.opened(open);
    while (!this.closed) {
      const poll = await this.request(
        `${this.base}/v1/poll/${encodeURIComponent(open.connection)}?cursor=${cursor}`,
        {
          headers: { [SECRET_HEADER]: this.secret },
          signal: this.abort.signal,
        },
      );
      if (!poll.ok) throw new Error(`HTTP ${poll.status}`);
      const answer = (await poll.json()) as PollAnswer;
      cursor = answer.cursor;
      // One message of newline-separated frames, as a batched WebSocket message.
      if (answer.frames.length > 0) this.deliver(answer.frames.map((f) => JSON.stringify(f)).join('\n'));
      if (answer.close !== undefined) {
        this.serverClose = answer.close;
        return;
      }
    }
  }

  private opened(open: OpenAnswer): void {
    if (this.closed) return;
    this.connection = open.connection;
    this.secret = open.secret;
    for (const listener of this.listeners.open) listener();
    if (this.outbox.length > 0 && !this.posting) void this.post();
  }

  private deliver(data: string): void {
    for (const listener of this.listeners.message) {
      if (this.closed) return;
      listener({ data });
    }
  }

  /** POST what is queued, a batch at a time, until the queue is empty. */
  private async post(): Promise<void> {
    this.posting = true;
    try {
      while (this.outbox.length > 0 && !this.closed) {
        const batch = this.outbox.splice(0, MAX_FRAMES_PER_POST);
        const res = await this.request(
          `${this.base}/v1/connections/${encodeURIComponent(this.connection ?? '')}`,
          {
            method: 'POST',
            headers: { 'content-type': 'text/plain', [SECRET_HEADER]: this.secret },
            body: batch.join('\n'),
          },
        );
        if (!res.ok) throw new Error(`POST answered HTTP ${res.status}`);
      }
    } catch (error) {
      // The connection is gone (another node, a restart) or unreachable: as a dropped WebSocket.
      for (const listener of this.listeners.error) listener();
      this.finish({ code: ABNORMAL, reason: reasonOf(error) });
    } finally {
      this.posting = false;
    }
  }

  /** The connection ended: stop reading, emit `close` once. */
  private finish(event: SocketCloseEvent): void {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort();
    // Later, as a WebSocket's close event comes after close() returns.
    queueMicrotask(() => {
      for (const listener of this.listeners.close) listener(event);
    });
  }
}

interface OpenAnswer {
  readonly connection: string;
  readonly secret: string;
}

interface PollAnswer {
  readonly cursor: number;
  readonly frames: readonly unknown[];
  readonly close?: SocketCloseEvent;
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
