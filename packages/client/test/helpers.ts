import { afterEach, beforeEach } from 'node:test';
/**
 * Test harness: a real Switchboard server on 127.0.0.1 and a free port, and event-driven waits. Every
 * wait has a deadline, so a broken test fails with a message instead of hanging.
 */
import WebSocket from 'ws';
import { createServer } from '@switchboard/server';
import type { ServerOptions, SwitchboardServer } from '@switchboard/server';
import { SwitchboardClient } from '../src/index.js';
import type { ClientEvents, ClientOptions, Subscription } from '../src/index.js';

/** A running server and its v1 endpoint. */
export interface TestServer {
  readonly server: SwitchboardServer;
  /** `ws://127.0.0.1:PORT/ws` */
  readonly url: string;
  stop(): Promise<void>;
}

/** Start a server on 127.0.0.1 and a free port. */
export async function startServer(options: ServerOptions = {}): Promise<TestServer> {
  const server = createServer({ host: '127.0.0.1', port: 0, ...options });
  await server.start();
  return { server, url: `ws://127.0.0.1:${server.port}/ws`, stop: () => server.stop() };
}

/** A client of `t` using `ws`, closed by `cleanup` when the test ends. */
export function newClient<Data = unknown>(
  t: TestServer,
  cleanup: (fn: () => void) => void,
  options: ClientOptions = {},
): SwitchboardClient<Data> {
  const client = new SwitchboardClient<Data>(t.url, { WebSocket, ...options });
  cleanup(() => client.close());
  return client;
}

/** The next `event` of `client` (matching `predicate`); rejects after `timeoutMs`. */
export function nextEvent<Data, K extends keyof ClientEvents<Data>>(
  client: SwitchboardClient<Data>,
  event: K,
  predicate: (payload: ClientEvents<Data>[K]) => boolean = () => true,
  timeoutMs = 3000,
): Promise<ClientEvents<Data>[K]> {
  return new Promise((resolve, reject) => {
    const off = client.on(event, (payload) => {
      if (!predicate(payload)) return;
      off();
      clearTimeout(timer);
      resolve(payload);
    });
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no ${String(event)} event within ${timeoutMs} ms`));
    }, timeoutMs);
  });
}

/** Every `event` of `client` from now on, in order. */
export function record<Data, K extends keyof ClientEvents<Data>>(
  client: SwitchboardClient<Data>,
  event: K,
): ClientEvents<Data>[K][] {
  const seen: ClientEvents<Data>[K][] = [];
  client.on(event, (payload) => seen.push(payload));
  return seen;
}

/** A test file's per-test scope: servers it starts and functions it defers are stopped or run, last first. */
export interface TestScope {
  /** Start a server (with the scope's defaults) that is stopped after the current test. */
  server(options?: ServerOptions): Promise<TestServer>;
  /** Run `fn` after the current test (cleanups run in reverse order of registration). */
  defer(fn: () => Promise<void> | void): void;
}

/** Register per-test cleanup hooks in the calling test file; call once at its top level. */
export function testScope(defaults: ServerOptions = {}): TestScope {
  let cleanups: (() => Promise<void> | void)[] = [];
  beforeEach(() => {
    cleanups = [];
  });
  afterEach(async () => {
    for (const fn of cleanups.reverse()) await fn();
  });
  return {
    async server(options = {}) {
      const t = await startServer({ ...defaults, ...options });
      cleanups.push(() => t.stop());
      return t;
    },
    defer(fn) {
      cleanups.push(fn);
    },
  };
}

/** The ids a subscription delivered, and a wait (bounded by `timeoutMs`) until it delivered `id`. */
export function ids(
  sub: Subscription,
  timeoutMs = 5000,
): { seen: number[]; until(id: number): Promise<void> } {
  const seen: number[] = [];
  const waiters: { id: number; resolve: () => void }[] = [];
  sub.on('message', (m) => {
    if (m.id !== undefined) seen.push(m.id);
    for (const w of waiters) if (m.id === w.id) w.resolve();
  });
  return {
    seen,
    until: (id: number): Promise<void> =>
      new Promise((resolve, reject) => {
        if (seen.includes(id)) return resolve();
        const timer = setTimeout(() => reject(new Error(`no ${id}; saw ${JSON.stringify(seen)}`)), timeoutMs);
        waiters.push({
          id,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      }),
  };
}
