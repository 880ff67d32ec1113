/**
 * Every child process of a run, so that none outlives it: on exit, SIGINT or SIGTERM each is killed.
 * (Children also exit by themselves when their IPC channel closes; this covers a hung one.)
 */
import type { ChildProcess } from 'node:child_process';

const children = new Set<ChildProcess>();
/** Grandchildren a target started (a cluster, a Redis): killed by pid, since a killed host cannot. */
const pids = new Set<number>();
let installed = false;

function killAll(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  children.clear();
  for (const pid of pids) killPid(pid);
  pids.clear();
}

function installHandlers(): void {
  if (installed) return;
  installed = true;
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAll();
      process.stderr.write(`\n${signal}: stopped, children killed\n`);
      process.exit(130);
    });
  }
}

/** SIGKILL `pid` if it still exists. */
export function killPid(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Kill `pid` when the run ends, unless {@link untrackPid} was called first. */
export function trackPid(pid: number): void {
  installHandlers();
  pids.add(pid);
}

/** Forget `pid` (it was stopped cleanly). */
export function untrackPid(pid: number): void {
  pids.delete(pid);
}

/** Track `child` until it exits. */
export function trackChild(child: ChildProcess): void {
  installHandlers();
  children.add(child);
  child.once('exit', () => children.delete(child));
}

/** Kill every tracked child now. */
export function killAllChildren(): void {
  killAll();
}
