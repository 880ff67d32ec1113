/**
 * How a generator speaks to a target: the handshake, subscribe, publish and heartbeat frames of each
 * protocol, and a cheap classification of inbound frames (a prefix check, no JSON parsing: generators
 * share the machine's two cores with the server, so their per-message cost must stay small and equal).
 */

/** What an inbound frame is, as far as a generator cares. */
export type FrameKind = 'message' | 'ping' | 'ready' | 'handshake' | 'ack' | 'other';

/** One target protocol, client side. */
export interface Dialect {
  /** Path and query for the connection with global index `index` (credentials included). */
  path(index: number): Promise<string>;
  /** Whether a connection is usable as soon as the WebSocket opens (else it waits for a `ready` frame). */
  readonly readyOnOpen: boolean;
  /** What `frame` is. */
  classify(frame: Buffer): FrameKind;
  /** The answer to a `ping` or `handshake` frame, or null. */
  answer(kind: FrameKind): string | null;
  /** Join `room`; the target acknowledges with an `ack` frame. */
  subscribe(room: string, id: number): string;
  /** Publish `data` (already JSON) to `room`. */
  publish(room: string, data: string): string;
}

/** Whether `frame` starts with the bytes of `prefix`. */
export function startsWith(frame: Buffer, prefix: Buffer): boolean {
  if (frame.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (frame[i] !== prefix[i]) return false;
  return true;
}
