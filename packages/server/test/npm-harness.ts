/**
 * What the install tests (*.install.test.ts) share: commands run as a user types them (npm, npx, git) in a
 * temporary directory, with a clean environment, a bound on each, and a long-running one (`npm start`)
 * started in its own process group so that stopping it stops npm, its shell and the server together.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OutputTail } from './node-process.js';

/** The repository root (the checkout these tests run from). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** `npm install` as the README says, minus the network chatter a test does not need. */
export const NPM_INSTALL_FLAGS = ['--prefer-offline', '--no-audit', '--no-fund'] as const;

/** How a command ended, and what it printed (complete stdout, tail of stderr). */
/** The package.json fields the packaging tests read. */
export interface Manifest {
  readonly name: string;
  readonly license?: string;
  readonly keywords?: readonly string[];
  readonly homepage?: string;
  readonly bugs?: { readonly url?: string };
  readonly repository?: { readonly type?: string; readonly url?: string; readonly directory?: string };
  readonly bin?: Readonly<Record<string, string>>;
  readonly files?: readonly string[];
}

export interface CommandResult {
  readonly status: number | NodeJS.Signals;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/** npm settings an `npm test` parent exports that describe the parent's own run, not the user's config. */
const PARENT_NPM_CONFIG = new Set(['npm_config_local_prefix', 'npm_config_call', 'npm_config_yes']);

/**
 * This process's environment without what would change how npm or the server behave: the variables an
 * `npm test` parent sets about its own run (npm_lifecycle_*, npm_package_*, its local prefix: a nested
 * npm would take the parent's project for its own) and every Switchboard option variable. The user's
 * npm configuration (npm_config_registry, npm_config_cache, proxies, ...), HOME and PATH stay.
 */
export function cleanEnv(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    const lower = key.toLowerCase();
    if (lower.startsWith('npm_') && !lower.startsWith('npm_config_')) continue;
    if (PARENT_NPM_CONFIG.has(lower) || key === 'INIT_CWD' || key.startsWith('SWITCHBOARD_')) continue;
    if (key === 'PORT' || key === 'HOST' || key === 'REDIS_URL' || key === 'NODE_OPTIONS') continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

/** A fresh temporary directory, and its removal. */
export function tempDir(prefix: string): { readonly path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

const groups = new Set<number>();
process.on('exit', () => {
  for (const pid of groups) killGroup(pid, 'SIGKILL');
});

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** A command running in its own process group (npm, the shell it starts, node). */
export class GroupChild {
  readonly stdout = new OutputTail(65_536);
  readonly stderr = new OutputTail(65_536);
  /** Every stdout byte, for a command whose whole output a test reads. */
  fullStdout = '';
  readonly exited: Promise<number | NodeJS.Signals>;
  readonly started = Date.now();
  private readonly child: ChildProcess;
  private readonly lineListeners = new Set<(line: string) => void>();
  private partial = '';

  constructor(command: string, args: readonly string[], options: { cwd: string; env?: NodeJS.ProcessEnv }) {
    this.child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const pid = this.child.pid;
    if (pid !== undefined) groups.add(pid);
    this.exited = new Promise((resolve) => {
      this.child.once('close', (code, signal) => {
        if (pid !== undefined) groups.delete(pid);
        resolve(signal ?? code ?? 1);
      });
      this.child.once('error', (error) => {
        if (this.child.pid !== undefined) return;
        this.stderr.push(`spawn ${command} failed: ${error.message}\n`);
        resolve(127);
      });
    });
    this.child.stdout?.setEncoding('utf8');
    this.child.stderr?.setEncoding('utf8');
    this.child.stdout?.on('data', (chunk: string) => {
      this.stdout.push(chunk);
      this.fullStdout += chunk;
      const lines = (this.partial + chunk).split('\n');
      this.partial = lines.pop() ?? '';
      for (const line of lines) for (const listener of this.lineListeners) listener(line);
    });
    this.child.stderr?.on('data', (chunk: string) => this.stderr.push(chunk));
  }

  /** The first stdout line from now on that parses as JSON and satisfies `match`; rejects on exit or after `timeoutMs`. */
  waitForJsonLine(
    match: (entry: Record<string, unknown>) => boolean,
    timeoutMs: number,
  ): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        this.lineListeners.delete(listener);
      };
      const listener = (line: string): void => {
        let entry: unknown;
        try {
          entry = JSON.parse(line);
        } catch {
          return;
        }
        if (typeof entry !== 'object' || entry === null || !match(entry as Record<string, unknown>)) return;
        done();
        resolve(entry as Record<string, unknown>);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no matching line within ${timeoutMs} ms\n${this.describe()}`));
      }, timeoutMs);
      this.lineListeners.add(listener);
      void this.exited.then((status) => {
        if (!this.lineListeners.has(listener)) return;
        done();
        reject(new Error(`exited (${status}) first\n${this.describe()}`));
      });
    });
  }

  /** Send `signal` to the command alone (npm), as a process manager stopping it does. */
  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /**
   * Send `signal` to the whole process group, as a terminal's Ctrl-C does (SIGINT to npm, its shell and
   * the server), then SIGKILL the group if it is still running after `graceMs`.
   */
  async stop(
    signal: NodeJS.Signals,
    graceMs: number,
  ): Promise<{ status: number | NodeJS.Signals; forced: boolean }> {
    const pid = this.child.pid;
    if (pid === undefined) return { status: await this.exited, forced: false };
    killGroup(pid, signal);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), graceMs)));
    const first = await Promise.race([this.exited, late]);
    clearTimeout(timer);
    if (first !== 'late') return { status: first, forced: false };
    killGroup(pid, 'SIGKILL');
    return { status: await this.exited, forced: true };
  }

  /** Both output tails, labelled. */
  describe(): string {
    return `--- stdout (tail) ---\n${this.stdout.toString().slice(-4000)}\n--- stderr (tail) ---\n${this.stderr.toString().slice(-4000)}`;
  }
}

/**
 * Run a command to its end; rejects (with its output) when it outlives `timeoutMs`, and then kills its
 * whole process group. A non-zero exit is a result, not a rejection: the test asserts on it.
 */
export async function run(
  command: string,
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<CommandResult> {
  const child = new GroupChild(command, args, options);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>(
    (resolve) => (timer = setTimeout(() => resolve('late'), options.timeoutMs)),
  );
  const status = await Promise.race([child.exited, late]);
  clearTimeout(timer);
  if (status === 'late') {
    await child.stop('SIGKILL', 1000);
    throw new Error(`${command} ${args.join(' ')} took over ${options.timeoutMs} ms\n${child.describe()}`);
  }
  return {
    status,
    stdout: child.fullStdout,
    stderr: child.stderr.toString(),
    ms: Date.now() - child.started,
  };
}

/** `run`, and reject with its output unless it exited 0. */
export async function runOk(
  command: string,
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<CommandResult> {
  const result = await run(command, args, options);
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} in ${options.cwd} exited ${result.status}\n--- stdout ---\n${result.stdout.slice(-4000)}\n--- stderr ---\n${result.stderr.slice(-4000)}`,
    );
  }
  return result;
}

/** Log a measured duration on stderr, so a run shows how long the slow steps take. */
export function logDuration(step: string, ms: number): void {
  process.stderr.write(`# ${step}: ${(ms / 1000).toFixed(1)} s\n`);
}
