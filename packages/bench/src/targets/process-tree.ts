/**
 * CPU and memory of a set of processes and all their descendants, read from /proc (Linux): for targets
 * that run outside the target host (Switchboard's `--workers` cluster plus its Redis), whose figures
 * `process.cpuUsage()` cannot see.
 */
import { readFileSync, readdirSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ: 100 on Linux for all common builds). */
const TICKS_PER_SECOND = 100;
const PAGE_BYTES = 4096;

/** Summed figures of a process tree. */
export interface TreeStats {
  readonly rss: number;
  /** CPU time (µs) of the live processes, children they already reaped included. */
  readonly cpuUser: number;
  readonly cpuSystem: number;
  readonly processes: number;
}

interface ProcStat {
  readonly pid: number;
  readonly ppid: number;
  readonly utime: number;
  readonly stime: number;
  readonly cutime: number;
  readonly cstime: number;
}

/** Parse /proc/<pid>/stat (the command name may hold spaces and parentheses, so split after the last ')'). */
export function parseProcStat(text: string): ProcStat | null {
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  const pid = Number(text.slice(0, text.indexOf(' ')));
  // Fields after the name, numbered from 3 (state) in proc(5): ppid is 4, utime 14, stime 15, cutime 16, cstime 17.
  const fields = text.slice(close + 2).split(' ');
  const field = (n: number): number => Number(fields[n - 3]);
  return { pid, ppid: field(4), utime: field(14), stime: field(15), cutime: field(16), cstime: field(17) };
}

function readStat(pid: number): ProcStat | null {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

function rssOf(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * PAGE_BYTES;
  } catch {
    return 0;
  }
}

function allStats(): ProcStat[] {
  const stats: ProcStat[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(Number(name));
    if (stat !== null) stats.push(stat);
  }
  return stats;
}

function members(roots: readonly number[], stats: readonly ProcStat[]): Set<number> {
  const members = new Set(roots);
  let grew = true;
  while (grew) {
    grew = false;
    for (const s of stats) {
      if (!members.has(s.pid) && members.has(s.ppid)) {
        members.add(s.pid);
        grew = true;
      }
    }
  }
  return members;
}

/** `roots` and every live descendant. */
export function treePids(roots: readonly number[]): number[] {
  return [...members(roots, allStats())];
}

/** The figures of `roots` and every descendant, summed. */
export function treeStats(roots: readonly number[]): TreeStats {
  const stats = allStats();
  const tree = members(roots, stats);
  let ticksUser = 0;
  let ticksSystem = 0;
  let rss = 0;
  for (const s of stats) {
    if (!tree.has(s.pid)) continue;
    ticksUser += s.utime + s.cutime;
    ticksSystem += s.stime + s.cstime;
    rss += rssOf(s.pid);
  }
  const micros = 1e6 / TICKS_PER_SECOND;
  return { rss, cpuUser: ticksUser * micros, cpuSystem: ticksSystem * micros, processes: tree.size };
}
