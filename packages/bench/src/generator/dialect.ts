/**
 * How a generator speaks to a target: the handshake, subscribe, publish and heartbeat frames of each
 * protocol, and a cheap classification of inbound frames (a prefix check, no JSON parsing: generators
 * share the machine's two cores with the server, so their per-message cost must stay small and equal).
 */

/**
 * What an inbound frame is, as far as a generator cares: `ack` answers a subscribe, `nack` refuses one
 * (an error reply, e.g. Switchboard's `unavailable` when Redis did not answer in time).
 */
export type FrameKind = 'message' | 'ping' | 'ready' | 'handshake' | 'ack' | 'nack' | 'other';

/** A frame a client sends: text, or binary (the MessagePack dialect's). */
export type Outbound = string | Uint8Array;

/** One target protocol, client side. */
export interface Dialect {
  /** Path and query for the connection with global index `index` (credentials included). */
  path(index: number): Promise<string>;
  /** Whether a connection is usable as soon as the WebSocket opens (else it waits for a `ready` frame). */
  readonly readyOnOpen: boolean;
  /** The WebSocket subprotocol the clients offer (msgpack-dialect.ts), or none. */
  readonly subprotocol?: string;
  /** What `frame` is. */
  classify(frame: Buffer): FrameKind;
  /** The answer to a `ping` or `handshake` frame, or null. */
  answer(kind: FrameKind): Outbound | null;
  /** Join `room`; the target acknowledges with an `ack` frame. */
  subscribe(room: string, id: number): Outbound;
  /** Publish `data` (already JSON) to `room`. */
  publish(room: string, data: string): Outbound;
  /**
   * The answer a received `message` frame needs (an inbox push's `ack`), or null. Absent: none ever does.
   */
  acknowledge?(frame: Buffer): string | null;
  /**
   * Whether one WebSocket message may carry several frames separated by newlines (Switchboard's
   * batched frames, `?batch=1`): each line is then classified and counted on its own.
   */
  readonly newlineBatches: boolean;
  /**
   * Split one WebSocket message into its frames when they are not newline-separated (MessagePack's
   * batches: consecutive values); takes precedence over `newlineBatches`.
   */
  readonly split?: (message: Buffer, each: (frame: Buffer) => void) => number;
  /** The send time in a `message` frame, when the frame is not text (else timestamp.ts reads it). */
  readonly timestamp?: (frame: Buffer) => number;
  /**
   * Push-only streams (SSE): each connection is an HTTP stream of one channel, `subscribe` returns the
   * path of the room's stream (the connection is replaced by it; its first `ready` frame is the ack),
   * and what a client sends goes up one shared WebSocket (generator/sse-dialect.ts).
   */
  readonly streams?: boolean;
  /**
   * Long-polling (protocol v1 over `/v1/poll`): each connection is a poll loop, what a client sends goes
   * up by POST, and each poll answer reaches the pool as one message (generator/poll-dialect.ts).
   */
  readonly polls?: boolean;
}

const NEWLINE = 0x0a;

/**
 * Call `each` with every newline-separated frame of `message` (views, no copies; empty lines skipped);
 * returns how many frames there were. A message without a newline is one frame.
 */
export function forEachFrame(message: Buffer, each: (frame: Buffer) => void): number {
  let newline = message.indexOf(NEWLINE);
  if (newline < 0) {
    if (message.length === 0) return 0;
    each(message);
    return 1;
  }
  let start = 0;
  let frames = 0;
  for (;;) {
    const end = newline < 0 ? message.length : newline;
    if (end > start) {
      each(message.subarray(start, end));
      frames++;
    }
    if (newline < 0) return frames;
    start = newline + 1;
    newline = message.indexOf(NEWLINE, start);
  }
}

/** Whether `frame` starts with the bytes of `prefix`. */
export function startsWith(frame: Buffer, prefix: Buffer): boolean {
  if (frame.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (frame[i] !== prefix[i]) return false;
  return true;
}
