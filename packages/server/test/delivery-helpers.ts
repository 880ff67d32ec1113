/**
 * Shared pieces of the guaranteed-delivery proof suites (delivery-*.test.ts): a server node in a child
 * process (built dist; Redis engine or PostgreSQL stores) that can be SIGKILLed, a WebSocket constructor
 * that sends each new socket of an SDK client to the node a test picks, a recorder of a device's handled
 * messages, and a bounded wait.
 */
import WebSocket from 'ws';
import { OwnedChild } from './node-process.js';

const DIST = new URL('../dist/', import.meta.url);

/**
 * The child: a Switchboard server on 127.0.0.1 and a free port, the user from `?user=`, admission limits
 * off, the `inbox` and `queues` options given (on PostgreSQL: `store: 'postgres'` and the `postgres`
 * option); prints `{"port":N}` once listening.
 */
const CHILD = `
const config = JSON.parse(process.argv[1]);
const { createServer, ADMISSION_LIMITS_OFF, silentLogger } = await import(config.dist + 'index.js');
let engine;
if (config.redisUrl !== undefined) {
  const { createRedisEngine } = await import(config.dist + 'engine/redis-engine.js');
  engine = createRedisEngine({ url: config.redisUrl, prefix: config.prefix, commandTimeoutMs: 1000,
    probeIntervalMs: 200, probeTimeoutMs: 600, nodeReportIntervalMs: 200, presenceTtlMs: 1500 });
}
const pg = config.postgresUrl !== undefined;
const server = createServer({
  host: '127.0.0.1', port: 0, ...ADMISSION_LIMITS_OFF, shutdownTimeoutMs: 200, logger: silentLogger,
  authenticator: { authenticate: (request) => Promise.resolve({ ok: true,
    principal: { userId: request.url.searchParams.get('user') } }) },
  inbox: pg ? { ...config.inbox, store: 'postgres' } : config.inbox,
  queues: pg ? { ...config.queues, store: 'postgres' } : config.queues,
  ...(pg ? { postgres: { url: config.postgresUrl } } : {}),
  ...(engine === undefined ? {} : { engine }),
});
await server.start();
console.log(JSON.stringify({ port: server.port }));
`;

/** Options of {@link spawnDeliveryNode}. */
export interface DeliveryNodeOptions {
  /** The Redis engine on this Redis, under `prefix`; else the memory engine. */
  readonly redisUrl?: string;
  readonly prefix?: string;
  /** The PostgreSQL inbox and queue stores on this database (`inbox.store` and `queues.store` 'postgres'). */
  readonly postgresUrl?: string;
  /** The server's `inbox` option. */
  readonly inbox?: Record<string, unknown>;
  /** The server's `queues` option. */
  readonly queues?: Record<string, unknown>;
  /** Bound on printing its port. Default 15 000 ms. */
  readonly timeoutMs?: number;
}

/** A server node in a child process. */
export interface DeliveryNode {
  readonly port: number;
  /** `ws://127.0.0.1:PORT` */
  readonly wsUrl: string;
  /** `http://127.0.0.1:PORT` */
  readonly httpUrl: string;
  readonly child: OwnedChild;
}

/** Start a server node in a child process; resolves once it listens. */
export async function spawnDeliveryNode(options: DeliveryNodeOptions): Promise<DeliveryNode> {
  const config = {
    dist: DIST.href,
    redisUrl: options.redisUrl,
    prefix: options.prefix,
    postgresUrl: options.postgresUrl,
    inbox: options.inbox ?? {},
    queues: options.queues ?? {},
  };
  const child = new OwnedChild(process.execPath, [
    '--input-type=module',
    '-e',
    CHILD,
    JSON.stringify(config),
  ]);
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the node did not start in time\n${child.describeOutput()}`)),
      options.timeoutMs ?? 15_000,
    );
    void child.exited.then((status) => {
      clearTimeout(timer);
      reject(new Error(`the node exited (${status}) before listening\n${child.describeOutput()}`));
    });
    child.onStdoutLine((line) => {
      let parsed: { port?: number };
      try {
        parsed = JSON.parse(line) as typeof parsed;
      } catch {
        return;
      }
      if (parsed.port !== undefined) {
        clearTimeout(timer);
        resolve(parsed.port);
      }
    });
  });
  return { port, wsUrl: `ws://127.0.0.1:${port}`, httpUrl: `http://127.0.0.1:${port}`, child };
}

/** A frame the SDK received, as the router's tap saw it. */
export interface TappedFrame {
  /** The port of the node the socket went to. */
  readonly port: number;
  readonly frame: { type?: string; id?: string; attempt?: number; [key: string]: unknown };
}

/**
 * A WebSocket constructor for the SDK's `WebSocket` option that sends every new socket to the port
 * `pick()` returns (the path and query the SDK asked for are kept), remembers the current socket (to
 * destroy it) and taps the frames it receives.
 */
export function routedWebSocket(
  pick: () => number,
  tap?: (tapped: TappedFrame) => void,
): { WebSocket: typeof WebSocket; current(): WebSocket | null } {
  let current: WebSocket | null = null;
  const remember = (socket: WebSocket): void => {
    current = socket;
  };
  class RoutedWebSocket extends WebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      const target = new URL(String(url));
      const port = pick();
      target.port = String(port);
      super(target, protocols);
      remember(this);
      if (tap !== undefined) {
        this.on('message', (data: Buffer) => {
          try {
            tap({ port, frame: JSON.parse(data.toString()) as TappedFrame['frame'] });
          } catch {
            // not JSON: not ours to read
          }
        });
      }
    }
  }
  return { WebSocket: RoutedWebSocket as unknown as typeof WebSocket, current: () => current };
}

/** Resolve once `predicate` holds, checking after each `signal()`; rejects after `timeoutMs`. */
export class Waiter {
  private readonly waiting = new Set<() => void>();

  signal(): void {
    for (const check of [...this.waiting]) check();
  }

  until(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!predicate()) return;
        this.waiting.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiting.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.waiting.add(check);
      check();
    });
  }
}
