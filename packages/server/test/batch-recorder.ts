/**
 * A raw v1 client for the batched-frames tests: it keeps every WebSocket message as it came, with the
 * time it arrived, and splits them into frames on demand. Waits are driven by the socket's events.
 */
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import type { CloseEvent, TestServer } from './helpers.js';

/** A frame as parsed JSON. */
export type Frame = Record<string, unknown>;

export class Recorder {
  /** Every WebSocket message's text, in arrival order. */
  readonly raw: string[] = [];
  /** When each of {@link raw} arrived (`performance.now()`). */
  readonly arrivals: number[] = [];
  readonly closed: Promise<CloseEvent>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      this.raw.push(data.toString('utf8'));
      this.arrivals.push(performance.now());
    });
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
  }

  /** Connect to `/ws${query}` and wait for the `connected` push. */
  static async open(t: TestServer, query: string): Promise<Recorder> {
    const recorder = new Recorder(new WebSocket(`${t.wsUrl}/ws${query}`));
    await new Promise<void>((resolve, reject) => {
      recorder.ws.once('open', () => resolve());
      recorder.ws.once('error', reject);
    });
    await recorder.until((f) => f.some((m) => m['type'] === 'connected'), 'connected');
    return recorder;
  }

  /** Every frame, in order (a batched message is split on newlines). */
  frames(): Frame[] {
    return this.raw.flatMap((text) => text.split('\n')).map((line) => JSON.parse(line) as Frame);
  }

  /** The `message` pushes of `channel`, in order. */
  messages(channel: string): Frame[] {
    return this.frames().filter((f) => f['type'] === 'message' && f['channel'] === channel);
  }

  /** The WebSocket messages that carried `message` pushes of `channel`, each as its frames' `data.n`. */
  batches(channel: string): unknown[][] {
    return this.raw
      .map((text) => text.split('\n').map((line) => JSON.parse(line) as Frame))
      .filter((frames) => frames.some((f) => f['type'] === 'message' && f['channel'] === channel))
      .map((frames) => frames.map((f) => (f['data'] as { n?: unknown } | undefined)?.n));
  }

  /** Forget what was received so far. */
  clear(): void {
    this.raw.length = 0;
    this.arrivals.length = 0;
  }

  send(value: unknown): void {
    this.ws.send(JSON.stringify(value));
  }

  /** Subscribe and wait for the reply; returns the reply's result. */
  async subscribe(channel: string, id: number): Promise<Frame> {
    this.send({ id, type: 'subscribe', channel });
    const isReply = (m: Frame): boolean => m['type'] === 'reply' && m['id'] === id;
    await this.until((f) => f.some(isReply), `reply ${id}`);
    return (this.frames().find(isReply)?.['result'] ?? {}) as Frame;
  }

  /** Resolve once `predicate` holds for the frames received so far (checked on every message). */
  async until(predicate: (frames: Frame[]) => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    if (predicate(this.frames())) return;
    await new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (!predicate(this.frames())) return;
        stop();
        resolve();
      };
      const timer = setTimeout(() => {
        stop();
        reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.raw).slice(0, 500)}`));
      }, timeoutMs);
      const stop = (): void => {
        clearTimeout(timer);
        this.ws.off('message', check);
      };
      // Registered after the constructor's listener, so `raw` already holds the new message.
      this.ws.on('message', check);
    });
  }
}
