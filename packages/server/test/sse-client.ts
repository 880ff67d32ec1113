/**
 * A Server-Sent Events reader for tests: Node 20 has no EventSource, so the stream is read with
 * `http.get` and parsed as the WHATWG HTML spec (§9.2.6) says, events and comment lines kept in order.
 * Waits are event-driven, each with a deadline.
 */
import { request } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';

/** One parsed event (`lastEventId` as EventSource would report it), or a comment line. */
export type SseItem =
  | { readonly kind: 'event'; readonly event: string; readonly data: string; readonly lastEventId: string }
  | { readonly kind: 'id'; readonly lastEventId: string }
  | { readonly kind: 'retry'; readonly ms: number }
  | { readonly kind: 'comment'; readonly text: string };

/** An open stream. */
export class SseStream {
  readonly items: SseItem[] = [];
  private read = 0;
  private buffer = '';
  /** Everything received, as text. */
  raw = '';
  private id = '';
  private fields: { event: string; data: string[]; id: string | null } = { event: '', data: [], id: null };
  private wake: (() => void) | null = null;
  /** Resolves when the server ends the stream (or the socket goes). */
  readonly ended: Promise<void>;

  constructor(readonly response: IncomingMessage) {
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      this.raw += chunk;
      this.buffer += chunk;
      let newline: number;
      while ((newline = this.buffer.search(/\r\n|\r|\n/)) >= 0) {
        const line = this.buffer.slice(0, newline);
        const length = this.buffer.startsWith('\r\n', newline) ? 2 : 1;
        this.buffer = this.buffer.slice(newline + length);
        this.line(line);
      }
      this.wake?.();
    });
    this.ended = new Promise((resolve) => {
      response.once('close', () => {
        resolve();
        this.wake?.();
      });
    });
  }

  get status(): number {
    return this.response.statusCode ?? 0;
  }

  get headers(): IncomingHttpHeaders {
    return this.response.headers;
  }

  /** The last event id EventSource would hold now. */
  get lastEventId(): string {
    return this.id;
  }

  /** The next item that is not a comment or a bare id (unless `all`). */
  async next(timeoutMs = 3000, all = false): Promise<SseItem> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.read < this.items.length) {
        const item = this.items[this.read++] as SseItem;
        if (all || item.kind === 'event') return item;
      }
      if (this.response.closed) throw new Error('stream ended');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for an SSE event');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          this.wake = null;
          resolve();
        };
      });
    }
  }

  /** The next event, which must be named `event`; returns its data parsed as JSON. */
  async expect(event: string, timeoutMs?: number): Promise<{ data: unknown; id: string }> {
    const item = await this.next(timeoutMs);
    if (item.kind !== 'event') throw new Error('unreachable');
    if (item.event !== event) throw new Error(`expected ${event}, got ${item.event}: ${item.data}`);
    return { data: JSON.parse(item.data) as unknown, id: item.lastEventId };
  }

  close(): void {
    this.response.destroy();
  }

  private line(line: string): void {
    if (line === '') {
      this.dispatch();
      return;
    }
    if (line.startsWith(':')) {
      this.items.push({ kind: 'comment', text: line.slice(1).trim() });
      return;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.fields.event = value;
    else if (field === 'data') this.fields.data.push(value);
    else if (field === 'id' && !value.includes('\0')) this.fields.id = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.items.push({ kind: 'retry', ms: Number(value) });
  }

  private dispatch(): void {
    const { event, data, id } = this.fields;
    this.fields = { event: '', data: [], id: null };
    if (id !== null) this.id = id;
    if (data.length === 0) {
      if (id !== null) this.items.push({ kind: 'id', lastEventId: this.id });
      return;
    }
    this.items.push({
      kind: 'event',
      event: event || 'message',
      data: data.join('\n'),
      lastEventId: this.id,
    });
  }
}

/** Open `url` as EventSource would (plus `headers`); resolves once the response head has arrived. */
export function openSse(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) =>
      resolve(new SseStream(res)),
    );
    req.once('error', reject);
    req.end();
  });
}

/** A refused stream's status and JSON body. */
export async function refusal(stream: SseStream): Promise<{ status: number; code: string; message: string }> {
  await stream.ended;
  const body = JSON.parse(stream.raw) as { error: { code: string; message: string } };
  return { status: stream.status, code: body.error.code, message: body.error.message };
}
