/**
 * Test harness: a real Switchboard server on 127.0.0.1 and a free port, and event-driven waits. Every
 * wait has a deadline, so a broken test fails with a message instead of hanging.
 */
import WebSocket from 'ws';
import { createServer } from '@switchboard/server';
import type { ServerOptions, SwitchboardServer } from '@switchboard/server';
import { SwitchboardClient } from '../src/index.js';
import type { ClientEvents, ClientOptions } from '../src/index.js';

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
