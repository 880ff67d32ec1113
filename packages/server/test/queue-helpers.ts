// Work-queue test helpers: a v1 WebSocket consumer that records the jobs pushed to it, and the HTTP API.
import assert from 'node:assert/strict';
import { connectV1 } from './helpers.js';
import type { TestClient, TestServer } from './helpers.js';

/** A `job` push. */
export interface JobFrame {
  readonly type: 'job';
  readonly queue: string;
  readonly id: string;
  readonly attempt: number;
  readonly data: unknown;
  readonly time: number;
}

let nextId = 1;

/** A real v1 connection consuming work queues (raw frames, as any client speaks them). */
export class QueueClient {
  /** Every job pushed, in arrival order. */
  readonly jobs: JobFrame[] = [];
  private readonly listeners = new Set<(job: JobFrame) => void>();

  private constructor(readonly client: TestClient) {
    client.ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as { type?: string };
      if (frame.type !== 'job') return;
      const job = frame as JobFrame;
      this.jobs.push(job);
      for (const listener of this.listeners) listener(job);
    });
  }

  static async open(t: TestServer, query = ''): Promise<QueueClient> {
    const { client } = await connectV1(t, {}, query);
    return new QueueClient(client);
  }

  /** Call `listener` for each job pushed from now on. */
  onJob(listener: (job: JobFrame) => void): void {
    this.listeners.add(listener);
  }

  /** Resolves with the `count`-th job pushed (1-based), waiting for it. */
  nthJob(count: number, timeoutMs = 3000): Promise<JobFrame> {
    const ready = this.jobs[count - 1];
    if (ready !== undefined) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`job ${count} never came (${this.jobs.length} so far)`)),
        timeoutMs,
      );
      const listener = (): void => {
        const job = this.jobs[count - 1];
        if (job === undefined) return;
        clearTimeout(timer);
        this.listeners.delete(listener);
        resolve(job);
      };
      this.listeners.add(listener);
    });
  }

  /** Send a command and await its reply. */
  request(command: Record<string, unknown>): Promise<Record<string, unknown>> {
    return this.client.request({ ...command, id: nextId++ });
  }

  async consume(queue: string, prefetch?: number): Promise<void> {
    const reply = await this.request({
      type: 'consume',
      queue,
      ...(prefetch === undefined ? {} : { prefetch }),
    });
    assert.deepEqual(reply['result'], { queue }, JSON.stringify(reply));
  }

  ack(queue: string, message: string): Promise<Record<string, unknown>> {
    return this.request({ type: 'ack', queue, message });
  }

  nack(queue: string, message: string, delay?: number): Promise<Record<string, unknown>> {
    return this.request({ type: 'nack', queue, message, ...(delay === undefined ? {} : { delay }) });
  }

  close(): void {
    this.client.close();
  }
}

/** The error of a reply, or undefined. */
export function replyError(reply: Record<string, unknown>): { code: string; message: string } | undefined {
  return reply['error'] as { code: string; message: string } | undefined;
}

/** POST JSON to the HTTP API. */
export async function post(
  t: TestServer,
  path: string,
  body: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${t.httpUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

/** Any method without a body. */
export async function call(
  t: TestServer,
  method: string,
  path: string,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${t.httpUrl}${path}`, { method });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

/** A queue's depth, from `GET /api/queues/{queue}`. */
export async function depthOf(
  t: TestServer,
  queue: string,
): Promise<{ queue: string; waiting: number; claimed: number; consumers: number }> {
  const { status, json } = await call(t, 'GET', `/api/queues/${queue}`);
  assert.equal(status, 200, JSON.stringify(json));
  return json as { queue: string; waiting: number; claimed: number; consumers: number };
}

/** Resolves with the queue's depth once `holds` says yes (the server acts on acks after the SDK sends them). */
export async function depthWhen(
  t: TestServer,
  queue: string,
  holds: (depth: { waiting: number; claimed: number }) => boolean,
  timeoutMs = 3000,
): Promise<{ queue: string; waiting: number; claimed: number; consumers: number }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const depth = await depthOf(t, queue);
    if (holds(depth)) return depth;
    if (Date.now() > deadline) throw new Error(`queue ${queue}: ${JSON.stringify(depth)}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}
