/**
 * Shared pieces of the scale-out integration suites (scale-out, redis-failure, redis-cluster): in-process
 * nodes over the Redis engine with test-sized intervals, a per-test scope that stops what a test started,
 * bounded polling for state with no event, a Redis admin view (pub/sub subscriber counts), and the SDK
 * driven in Node with `ws`.
 */
import { afterEach, beforeEach } from 'node:test';
import WebSocket from 'ws';
import { Redis } from 'ioredis';
import { SwitchboardClient } from '@switchboard/client';
import type { ClientEvents, ClientOptions, Subscription } from '@switchboard/client';
import { createRedisEngine } from '../src/engine/redis-engine.js';
import type { RedisEngine, RedisEngineOptions } from '../src/engine/redis-engine.js';
import { RedisKeys } from '../src/redis/redis-keys.js';
import { ADMISSION_LIMITS_OFF } from '../src/index.js';
import type { Logger, ServerOptions } from '../src/index.js';
import { queryUserAuthenticator, startServer } from './helpers.js';
import type { TestClient, TestServer } from './helpers.js';

/**
 * Every per-address and per-connection admission and rate limit off: tests open many sockets from
 * 127.0.0.1 and publish in bursts. A short shutdown keeps `stop()` quick.
 */
export const NO_LIMITS = {
  ...ADMISSION_LIMITS_OFF,
  shutdownTimeoutMs: 200,
} as const satisfies ServerOptions;

/** Engine intervals sized for tests: failures are noticed, and nodes report, within a fraction of a second. */
export const FAST_ENGINE = {
  commandTimeoutMs: 1000,
  probeIntervalMs: 200,
  probeTimeoutMs: 600,
  nodeReportIntervalMs: 200,
  presenceTtlMs: 1500,
  unsubscribeDelayMs: 100,
} as const satisfies Partial<RedisEngineOptions>;

let prefixes = 0;

/** A key prefix of its own for each test, so tests sharing one Redis never see each other's nodes or keys. */
export function uniquePrefix(): string {
  prefixes += 1;
  return `t${process.pid}n${prefixes}`;
}

/** An in-process node over the Redis engine. */
export interface RedisNode extends TestServer {
  readonly engine: RedisEngine;
}

/** Options of {@link TestScope.node}. */
export interface NodeOptions {
  /** Server options over {@link NO_LIMITS} and the query-string authenticator (`?user=`). */
  readonly server?: ServerOptions;
  /** Engine options over {@link FAST_ENGINE}. */
  readonly engine?: Partial<RedisEngineOptions>;
}

/** What one test started, stopped after it (last first). */
export interface TestScope {
  /** Start an in-process node on the Redis at `url`, under `prefix`; stopped after the test. */
  node(url: string, prefix: string, options?: NodeOptions): Promise<RedisNode>;
  /** Run `fn` after the current test. */
  defer(fn: () => Promise<void> | void): void;
}

/** Register per-test cleanup in the calling test file; call once at its top level. */
export function testScope(): TestScope {
  let cleanups: (() => Promise<void> | void)[] = [];
  beforeEach(() => {
    cleanups = [];
  });
  afterEach(async () => {
    const pending = cleanups.reverse();
    cleanups = [];
    for (const fn of pending) await fn();
  });
  return {
    async node(url, prefix, options = {}) {
      const engine = createRedisEngine({ ...FAST_ENGINE, ...options.engine, url, prefix });
      const t = await startServer({
        ...NO_LIMITS,
        authenticator: queryUserAuthenticator,
        ...options.server,
        engine,
      });
      cleanups.push(() => t.stop());
      return { ...t, engine };
    },
    defer(fn) {
      cleanups.push(fn);
    },
  };
}

/**
 * Poll `probe` until it returns something other than undefined or false, and return that; throws after
 * `timeoutMs` with `what` and the last value seen. For state with no event to await (readiness, counts
 * reported on an interval).
 */
export async function eventually<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  what: string,
  timeoutMs = 5000,
  intervalMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() >= deadline) {
      const detail = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${detail})`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** An HTTP answer: status, headers and parsed JSON body (null when the body is not JSON). */
export interface JsonResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Record<string, unknown>;
}

/** GET (or POST with `body`) a JSON endpoint, bounded by `timeoutMs`. */
export async function http(url: string, body?: unknown, timeoutMs = 5000): Promise<JsonResponse> {
  const response = await fetch(url, {
    signal: AbortSignal.timeout(timeoutMs),
    ...(body === undefined
      ? {}
      : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  const text = await response.text();
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = { text };
  }
  return { status: response.status, headers: response.headers, body: parsed };
}

/** The `cluster` part of /stats. */
export interface ClusterFigures {
  readonly nodes: number;
  readonly connections: number;
  readonly users: number;
  readonly channels: number;
}

/** /stats of a node. */
export async function stats(node: {
  readonly httpUrl: string;
}): Promise<Record<string, unknown> & { cluster: ClusterFigures | null }> {
  const { status, body } = await http(`${node.httpUrl}/stats`);
  if (status !== 200) throw new Error(`/stats answered ${status}: ${JSON.stringify(body)}`);
  return body as Record<string, unknown> & { cluster: ClusterFigures | null };
}

/** A Redis connection for looking at what the nodes did (no retries: a test wants the first answer). */
export function adminClient(url: string): Redis {
  const { hostname, port } = new URL(url);
  return new Redis({
    host: hostname,
    port: Number(port),
    maxRetriesPerRequest: 0,
    connectTimeout: 2000,
    retryStrategy: () => null,
  });
}

/**
 * How many connections are subscribed to pub/sub channel `topic` on `admin`'s server, classic and sharded
 * subscriptions together (Redis 7 counts them separately).
 */
export async function topicSubscribers(admin: Redis, topic: string): Promise<number> {
  const classic = (await admin.call('PUBSUB', 'NUMSUB', topic)) as [string, number];
  const sharded = (await admin.call('PUBSUB', 'SHARDNUMSUB', topic)) as [string, number];
  return Number(classic[1]) + Number(sharded[1]);
}

/**
 * Wait until `count` connections (one per node) are subscribed to `topic`: a node's subscription to a
 * user or a channel is set up asynchronously after the client's connection or subscribe, and a send to a
 * node that has not subscribed yet is (by design) not delivered there.
 */
export async function awaitSubscribers(admin: Redis, topic: string, count: number): Promise<void> {
  await eventually(
    async () => (await topicSubscribers(admin, topic)) >= count,
    `${count} subscribers of ${topic}`,
  );
}

/** The key layout under `prefix` (the names of pub/sub topics, streams and presence keys). */
export function keysOf(prefix: string): RedisKeys {
  return new RedisKeys(prefix);
}

/** An SDK client over `ws` for `url` (a `/ws` endpoint), with a fast backoff; closed after the test. */
export function sdkClient(
  scope: TestScope,
  url: string,
  options: ClientOptions = {},
): SwitchboardClient<unknown> {
  const client = new SwitchboardClient<unknown>(url, {
    WebSocket,
    backoff: { minDelayMs: 5, maxDelayMs: 50 },
    ...options,
  });
  scope.defer(() => client.close());
  return client;
}

/** The next `event` of `client` (matching `predicate`); rejects after `timeoutMs`. */
export function nextEvent<K extends keyof ClientEvents<unknown>>(
  client: SwitchboardClient<unknown>,
  event: K,
  predicate: (payload: ClientEvents<unknown>[K]) => boolean = () => true,
  timeoutMs = 5000,
): Promise<ClientEvents<unknown>[K]> {
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

/** Every message a subscription delivers, as `{id, data}` in order, and waits bounded by `timeoutMs`. */
export function received(sub: Subscription<unknown>, timeoutMs = 5000): Received {
  const seen: { id: number | undefined; data: unknown }[] = [];
  const waiters = new Set<() => void>();
  sub.on('message', (m) => {
    seen.push({ id: m.id, data: m.data });
    for (const waiter of [...waiters]) waiter();
  });
  const wait = (done: () => boolean, what: string): Promise<void> =>
    new Promise((resolve, reject) => {
      if (done()) return resolve();
      const waiter = (): void => {
        if (!done()) return;
        waiters.delete(waiter);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new Error(`no ${what} within ${timeoutMs} ms; saw ${JSON.stringify(seen)}`));
      }, timeoutMs);
      waiters.add(waiter);
    });
  return {
    seen,
    ids: () => seen.map((m) => m.id),
    until: (id) => wait(() => seen.some((m) => m.id === id), `message ${id}`),
    untilCount: (count) => wait(() => seen.length >= count, `${count} messages`),
  };
}

/** What {@link received} returns. */
export interface Received {
  /** Every message so far, in delivery order. */
  readonly seen: { id: number | undefined; data: unknown }[];
  /** Their ids. */
  ids(): (number | undefined)[];
  /** Resolves once a message with `id` arrived. */
  until(id: number): Promise<void>;
  /** Resolves once `count` messages arrived in all. */
  untilCount(count: number): Promise<void>;
}

/** Integers from `from` to `to`, inclusive. */
export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** One line a {@link RecordingLogger} took. */
export interface LogEntry {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly msg: string;
  readonly fields: object;
}

/** A logger that keeps what it is given, so a test can await a line (the engine's own account of events). */
export class RecordingLogger implements Logger {
  readonly entries: LogEntry[] = [];
  private readonly waiters = new Set<(entry: LogEntry) => void>();

  debug(fields: object, msg = ''): void {
    this.take({ level: 'debug', msg, fields });
  }

  info(fields: object, msg = ''): void {
    this.take({ level: 'info', msg, fields });
  }

  warn(fields: object, msg = ''): void {
    this.take({ level: 'warn', msg, fields });
  }

  error(fields: object, msg = ''): void {
    this.take({ level: 'error', msg, fields });
  }

  /** The first entry, already taken or to come, whose message matches; rejects after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs = 5000): Promise<LogEntry> {
    const seen = this.entries.find((entry) => pattern.test(entry.msg));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = (entry: LogEntry): void => {
        if (!pattern.test(entry.msg)) return;
        this.waiters.delete(waiter);
        clearTimeout(timer);
        resolve(entry);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        const lines = this.entries.map((entry) => `${entry.level}: ${entry.msg}`).join('; ');
        reject(new Error(`no log line matching ${pattern} within ${timeoutMs} ms; saw: ${lines}`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  private take(entry: LogEntry): void {
    this.entries.push(entry);
    for (const waiter of [...this.waiters]) waiter(entry);
  }
}

/** The next `count` channel messages a v1 client receives, as `{id, data}` in order. */
export async function messages(
  client: TestClient,
  count: number,
  timeoutMs = 3000,
): Promise<{ id: unknown; data: unknown }[]> {
  const out: { id: unknown; data: unknown }[] = [];
  for (let i = 0; i < count; i++) {
    const m = await client.nextOfType('message', timeoutMs);
    out.push({ id: m['id'], data: m['data'] });
  }
  return out;
}

/** Frames of `type` still queued on `client` (received, not consumed by a wait). */
export function queued(client: TestClient, type: string): unknown[] {
  return client.pending().filter((m) => (m as Record<string, unknown>)['type'] === type);
}
