/** Wire bytes read by a pool's WebSocket clients: what a fan-out cost on the wire, compressed or not. */
import type { Socket } from 'node:net';

/** Bytes read so far by the TCP sockets of `clients` that are open (a client without one counts 0). */
export function bytesReadOf(clients: readonly { readonly socket: Socket | null }[]): number {
  let total = 0;
  for (const client of clients) total += client.socket?.bytesRead ?? 0;
  return total;
}
