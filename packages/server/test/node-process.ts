/**
 * Child processes for multi-node tests: the real built `switchboard` CLI (packages/server/dist/cli/main.js,
 * so run `npm run build` first; `npm test` does) on a free port, plus the ownership rules the Redis
 * harness shares: output tails for error messages, and every child killed when the test process exits,
 * so a failed or interrupted run leaks no servers.
 *
 * @example
 * const node = await startNode({ args: ['--heartbeat-interval-ms', '1000'] });
 * const client = await connect(`${node.wsUrl}/ws`);
 * // ...
 * await node.stop(); // SIGTERM: the graceful path, every connection drained with 1012
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The built CLI; tests run after `npm run build`. */
export const CLI_PATH = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));

/** How a child ended: its exit code, or the signal that killed it. */
export type ExitStatus = number | NodeJS.Signals;

// ------------------------------------------------------------------ ownership

const owned = new Set<ChildProcess>();
let hooksInstalled = false;

function killAllOwned(): void {
  for (const child of owned) child.kill('SIGKILL');
  owned.clear();
}

/**
 * Kill `child` with SIGKILL if this process exits first. 'exit' handlers must be synchronous, and
 * child.kill() is. A signal ends Node without 'exit', so SIGINT / SIGTERM (Ctrl-C, a runner's timeout)
 * kill the children too and are then re-raised, which ends the process as the signal would have.
 */
export function killOnExit(child: ChildProcess): void {
  if (!hooksInstalled) {
    hooksInstalled = true;
    process.on('exit', killAllOwned);
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        killAllOwned();
        // With our listener gone and no other, the default action (terminate) applies again.
        if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
      });
    }
  }
  owned.add(child);
  child.once('exit', () => owned.delete(child));
}

/** The last `limit` characters a stream printed, for error messages. */
export class OutputTail {
  private text = '';

  constructor(private readonly limit = 16_384) {}

  push(chunk: string): void {
    this.text = (this.text + chunk).slice(-this.limit);
  }

  toString(): string {
    return this.text;
  }
}

/**
 * A child process the test process owns: its output tails, its exit status, killed on test-process exit.
 * Unreferenced while running, so a test that forgets `stop()` still lets its file finish (the 'exit' hook
 * then kills the child) instead of hanging the run; referenced again while a kill is awaited.
 */
export class OwnedChild {
  readonly stdout = new OutputTail();
  readonly stderr = new OutputTail();
  /**
   * Settles once the child has exited and its output is read to the end ('close', not 'exit', so the tails
   * are complete); never rejects: a spawn failure is exit status 127, as in a shell.
   */
  readonly exited: Promise<ExitStatus>;
  private readonly child: ChildProcess;
  private status: ExitStatus | undefined;

  constructor(command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env) {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    killOnExit(child);
    this.exited = new Promise<ExitStatus>((resolve) => {
      child.once('close', (code, signal) => {
        this.status = signal ?? code ?? 1;
        resolve(this.status);
      });
      child.once('error', (error) => {
        if (child.pid !== undefined) return; // a failed kill(); 'close' still comes
        this.stderr.push(`\nspawn ${command} failed: ${error.message}\n`);
        this.status = 127;
        resolve(this.status);
      });
    });
    for (const [stream, tail] of [
      [child.stdout, this.stdout],
      [child.stderr, this.stderr],
    ] as const) {
      if (stream === null) continue;
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => tail.push(chunk));
      (stream as Socket).unref();
    }
    child.unref();
  }

  /** The OS process id (-1 if the spawn failed). */
  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** The exit status, or undefined while running. */
  get exitStatus(): ExitStatus | undefined {
    return this.status;
  }

  /** Each complete line the child prints on stdout, from now on. */
  onStdoutLine(listener: (line: string) => void): void {
    if (this.child.stdout !== null) createInterface({ input: this.child.stdout }).on('line', listener);
  }

  /** Send `signal` (unless already exited) and resolve with the exit status. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<ExitStatus> {
    if (this.status === undefined) {
      // Referenced again, pipes included: 'close' needs their EOFs read before the loop may end.
      this.child.ref();
      (this.child.stdout as Socket | null)?.ref();
      (this.child.stderr as Socket | null)?.ref();
      this.child.kill(signal);
    }
    return this.exited;
  }

  /** SIGTERM, and SIGKILL if still running after `graceMs`; resolves with the exit status. */
  async terminate(graceMs: number): Promise<{ status: ExitStatus; forced: boolean }> {
    if (this.status !== undefined) return { status: this.status, forced: false };
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), graceMs);
    });
    const first = await Promise.race([this.kill('SIGTERM'), late]);
    clearTimeout(timer);
    if (first !== 'late') return { status: first, forced: false };
    return { status: await this.kill('SIGKILL'), forced: true };
  }

  /** Both output tails, labelled, for an error message. */
  describeOutput(): string {
    const out = this.stdout.toString().trim();
    const err = this.stderr.toString().trim();
    return `--- stdout (tail) ---\n${out === '' ? '(nothing)' : out}\n--- stderr (tail) ---\n${err === '' ? '(nothing)' : err}`;
  }
}

// ------------------------------------------------------------------ switchboard nodes

/** Options for {@link startNode}. */
export interface StartNodeOptions {
  /**
   * Extra CLI arguments, after the harness's `--port 0 --host 127.0.0.1 --log-level info` (a later flag
   * wins, but the port is found from the info-level "switchboard listening" line, so keep the log level at
   * info or below). Default none.
   */
  readonly args?: readonly string[];
  /** Extra environment variables, over this process's own. Default none. */
  readonly env?: Readonly<Record<string, string>>;
  /** Bound on reaching a healthy /health, and on a graceful stop. Default 10 000 ms. */
  readonly timeoutMs?: number;
}

/** A running `switchboard` CLI process. */
export interface NodeProcess {
  /** The port it bound (it was started with `--port 0`). */
  readonly port: number;
  /** `http://127.0.0.1:PORT` plus the base path, as the server logged it. */
  readonly url: string;
  /** `ws://127.0.0.1:PORT` plus the base path; append `/ws` or `/ws/:room`. */
  readonly wsUrl: string;
  readonly pid: number;
  /** The exit status, or undefined while running. */
  readonly exitStatus: ExitStatus | undefined;
  /** Send `signal` (default SIGKILL: a crash, no goodbye) and resolve with the exit code or signal. */
  kill(signal?: NodeJS.Signals): Promise<ExitStatus>;
  /** SIGTERM (the graceful path) and await the exit; SIGKILL and reject if it outlives `timeoutMs`. */
  stop(): Promise<ExitStatus>;
  /** The last 16 KiB printed on stdout (pino JSON lines). */
  stdout(): string;
  /** The last 16 KiB printed on stderr. */
  stderr(): string;
  /**
   * The first JSON log line, already printed or still to come, for which `match` holds; rejects after
   * `timeoutMs` (default 5000) or when the process exits first.
   */
  waitForLog(
    match: (entry: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
}

const QUIET_LEVELS = new Set(['warn', 'error', 'fatal', 'silent']);

/**
 * Start `node dist/cli/main.js` on 127.0.0.1 and a free port; resolves once GET /health answers 200.
 * Rejects with the child's output tail when it exits, never listens, or never gets healthy in time.
 */
export async function startNode(options: StartNodeOptions = {}): Promise<NodeProcess> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const args = options.args ?? [];
  const level = args[args.lastIndexOf('--log-level') + 1];
  if (args.includes('--log-level') && level !== undefined && QUIET_LEVELS.has(level)) {
    throw new Error(`startNode needs --log-level info or lower to read the port; got ${level}`);
  }
  if (!existsSync(CLI_PATH)) throw new Error(`${CLI_PATH} is missing: run \`npm run build\` first`);
  const child = new OwnedChild(
    process.execPath,
    [CLI_PATH, '--port', '0', '--host', '127.0.0.1', '--log-level', 'info', ...args],
    { ...process.env, ...options.env },
  );
  const logs = new LogLines(child);
  const deadline = Date.now() + timeoutMs;
  const fail = async (why: string): Promise<never> => {
    await child.kill();
    throw new Error(`switchboard node (pid ${child.pid}) ${why}\n${child.describeOutput()}`);
  };

  let url: string;
  try {
    // serve.ts logs `{ url: server.url, msg: 'switchboard listening' }` once listening, signal handlers set.
    const listening = await logs.waitFor(
      (entry) => entry['msg'] === 'switchboard listening' && typeof entry['url'] === 'string',
      deadline - Date.now(),
    );
    url = String(listening['url']);
  } catch (error) {
    return fail(`did not log "switchboard listening": ${(error as Error).message}`);
  }
  const parsed = new URL(url);
  const port = Number(parsed.port);
  const wsUrl = `${parsed.protocol === 'https:' ? 'wss' : 'ws'}://${parsed.host}${parsed.pathname.replace(/\/$/, '')}`;
  url = `${parsed.protocol}//${parsed.host}${parsed.pathname.replace(/\/$/, '')}`;

  let lastProblem: string | undefined;
  for (;;) {
    if (child.exitStatus !== undefined) return fail(`exited (${child.exitStatus}) before /health answered`);
    try {
      const controller = new AbortController();
      const timer = setTimeout(
        () => controller.abort(),
        Math.max(100, Math.min(1000, deadline - Date.now())),
      );
      const response = await fetch(`${url}/health`, { signal: controller.signal }).finally(() =>
        clearTimeout(timer),
      );
      await response.arrayBuffer();
      if (response.status === 200) break;
      lastProblem = `HTTP ${response.status}`;
    } catch (error) {
      lastProblem = (error as Error).message;
    }
    if (Date.now() >= deadline)
      return fail(`/health not healthy within ${timeoutMs} ms (${lastProblem ?? 'no answer'})`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }

  return {
    port,
    url,
    wsUrl,
    get pid() {
      return child.pid;
    },
    get exitStatus() {
      return child.exitStatus;
    },
    kill: (signal = 'SIGKILL') => child.kill(signal),
    async stop() {
      const { status, forced } = await child.terminate(timeoutMs);
      if (forced) {
        throw new Error(
          `switchboard node (pid ${child.pid}) ignored SIGTERM for ${timeoutMs} ms; killed\n${child.describeOutput()}`,
        );
      }
      return status;
    },
    stdout: () => child.stdout.toString(),
    stderr: () => child.stderr.toString(),
    waitForLog: (match, ms = 5000) => logs.waitFor(match, ms),
  };
}

/** The child's stdout parsed as JSON lines (pino), kept so a wait can match lines already printed. */
class LogLines {
  private readonly entries: Record<string, unknown>[] = [];
  private readonly waiters = new Set<(entry: Record<string, unknown>) => void>();

  constructor(private readonly child: OwnedChild) {
    child.onStdoutLine((line) => {
      let entry: unknown;
      try {
        entry = JSON.parse(line);
      } catch {
        return; // not a log line
      }
      if (typeof entry !== 'object' || entry === null) return;
      this.entries.push(entry as Record<string, unknown>);
      for (const waiter of this.waiters) waiter(entry as Record<string, unknown>);
    });
  }

  waitFor(
    match: (entry: Record<string, unknown>) => boolean,
    timeoutMs: number,
  ): Promise<Record<string, unknown>> {
    const seen = this.entries.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const finish = (): void => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      const waiter = (entry: Record<string, unknown>): void => {
        if (!match(entry)) return;
        finish();
        resolve(entry);
      };
      const timer = setTimeout(
        () => {
          finish();
          reject(new Error(`no matching log line within ${timeoutMs} ms`));
        },
        Math.max(0, timeoutMs),
      );
      this.waiters.add(waiter);
      void this.child.exited.then((status) => {
        if (!this.waiters.has(waiter)) return;
        // Lines printed just before the exit may still be in the pipe; give readline its turn first.
        setImmediate(() => {
          if (!this.waiters.has(waiter)) return;
          finish();
          reject(new Error(`the process exited (${status}) first`));
        });
      });
    });
  }
}
