/**
 * The kernel's TCP counters of /proc/net/netstat (Linux), for the storm scenarios: `ListenOverflows`
 * counts connections dropped because a listening socket's accept queue was full (its backlog; Node listens
 * with 511), which a storm of reconnects causes when the nodes accept more slowly than clients arrive. The
 * counters are the whole machine's, so other work running at the same time counts too.
 */
import { readFileSync } from 'node:fs';

/** The `TcpExt` counters of a /proc/net/netstat text, by name. */
export function parseTcpExt(text: string): ReadonlyMap<string, number> {
  const lines = text.split('\n').filter((line) => line.startsWith('TcpExt:'));
  const names = lines[0]?.split(/\s+/).slice(1) ?? [];
  const values = lines[1]?.split(/\s+/).slice(1) ?? [];
  return new Map(names.map((name, i) => [name, Number(values[i])]));
}

/** The machine's `TcpExt: ListenOverflows` now, or NaN where it cannot be read. */
export function listenOverflows(): number {
  try {
    return parseTcpExt(readFileSync('/proc/net/netstat', 'utf8')).get('ListenOverflows') ?? NaN;
  } catch {
    return NaN;
  }
}
