/**
 * Request/response over a forked child's IPC channel. The orchestrator drives every target and
 * generator process with it; a child that loses its parent exits, so nothing outlives a run.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';

/** A method table: each method's parameters and result (both plain JSON). */
export type Api = Record<string, { params: unknown; result: unknown }>;

interface Request {
  readonly rpc: number;
  readonly method: string;
  readonly params: unknown;
}

interface Response {
  readonly rpc: number;
  readonly result?: unknown;
  readonly error?: string;
}

/** The child's side: the handlers of an {@link Api}. */
export type Handlers<A extends Api> = { [M in keyof A]: (params: A[M]['params']) => Promise<A[M]['result']> };

function isRequest(value: unknown): value is Request {
  return typeof value === 'object' && value !== null && 'rpc' in value && 'method' in value;
}

/** In a child: answer the parent's requests with `handlers`; exit when the parent goes away. */
export function serveRpc<A extends Api>(handlers: Handlers<A>): void {
  process.on('disconnect', () => process.exit(0));
  process.on('message', (message: unknown) => {
    if (!isRequest(message)) return;
    const handler = (handlers as Record<string, (params: unknown) => Promise<unknown>>)[message.method];
    const reply = (response: Response): void => {
      if (process.connected) process.send?.(response);
    };
    if (handler === undefined) {
      reply({ rpc: message.rpc, error: `unknown method ${message.method}` });
      return;
    }
    handler(message.params).then(
      (result) => reply({ rpc: message.rpc, result: result ?? null }),
      (error: unknown) =>
        reply({ rpc: message.rpc, error: error instanceof Error ? error.message : String(error) }),
    );
  });
  process.send?.({ ready: true });
}

/** Options of {@link RpcClient.spawn}. */
export interface SpawnOptions {
  readonly args?: readonly string[];
  readonly execArgv?: readonly string[];
  /** The child's name in errors and progress. */
  readonly name: string;
}

/** The parent's side of one child process. */
export class RpcClient<A extends Api> {
  private next = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private exited = false;
  private readonly readyPromise: Promise<void>;

  constructor(
    /** The child process. */
    readonly child: ChildProcess,
    /** Shown in errors. */
    readonly name: string,
  ) {
    this.readyPromise = new Promise((resolve, reject) => {
      child.on('message', (message: unknown) => {
        if (typeof message === 'object' && message !== null && 'ready' in message) resolve();
      });
      child.once('exit', (code, signal) =>
        reject(new Error(`${name} exited before it was ready (${signal ?? code})`)),
      );
    });
    this.readyPromise.catch(() => {});
    child.on('message', (message: unknown) => {
      if (typeof message !== 'object' || message === null || !('rpc' in message)) return;
      const response = message as Response;
      const waiter = this.pending.get(response.rpc);
      if (waiter === undefined) return;
      this.pending.delete(response.rpc);
      if (response.error !== undefined) waiter.reject(new Error(`${name}: ${response.error}`));
      else waiter.resolve(response.result);
    });
    child.on('exit', (code, signal) => {
      this.exited = true;
      for (const waiter of this.pending.values()) {
        waiter.reject(new Error(`${name} exited (${signal ?? code ?? 'unknown'})`));
      }
      this.pending.clear();
    });
  }

  /** Fork `modulePath` as a child speaking this protocol. */
  static spawn<A extends Api>(modulePath: string, options: SpawnOptions): RpcClient<A> {
    const child = fork(modulePath, [...(options.args ?? [])], {
      execArgv: [...(options.execArgv ?? [])],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      // Structured clone, not JSON: NaN (a figure a target cannot measure) must survive the trip.
      serialization: 'advanced',
    });
    return new RpcClient<A>(child, options.name);
  }

  /** Resolves once the child serves requests (rejects if it exits first). */
  ready(): Promise<void> {
    return this.readyPromise;
  }

  /** Whether the child has exited. */
  get dead(): boolean {
    return this.exited;
  }

  /** Call `method`; rejects when the child fails it, exits, or takes longer than `timeoutMs`. */
  call<M extends keyof A & string>(
    method: M,
    params: A[M]['params'],
    timeoutMs = 60_000,
  ): Promise<A[M]['result']> {
    if (this.exited) return Promise.reject(new Error(`${this.name} has exited`));
    const rpc = this.next++;
    return new Promise<A[M]['result']>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(rpc);
        reject(new Error(`${this.name}: ${method} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(rpc, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value as A[M]['result']);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.child.send({ rpc, method, params } satisfies Request);
    });
  }

  /** Kill the child (SIGKILL) and wait for it to exit. */
  async kill(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGKILL');
    await exited;
  }

  /** Wait up to `timeoutMs` for the child to exit by itself, then kill it. */
  async waitOrKill(timeoutMs: number): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<boolean>((resolve) => this.child.once('exit', () => resolve(true)));
    const timedOut = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), timeoutMs).unref());
    if (!(await Promise.race([exited, timedOut]))) await this.kill();
  }
}
