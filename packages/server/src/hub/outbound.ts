/**
 * Rendering of outbound messages. A fan-out renders each wire format at most once and hands the same
 * Buffer to every recipient: never per-recipient JSON.
 */
import { encodeServerFrame } from '@switchboard/protocol';
import type { ServerFrame } from '@switchboard/protocol';

/**
 * How a connection speaks:
 * - `v1`: the multiplexed protocol of docs/protocol.md (`/ws`);
 * - `room`: the seeds' single-room style (`/ws/:room`), where a message is the published JSON object
 *   itself with an `id` added.
 */
export type WireFormat = 'v1' | 'room';

/** A message rendered lazily, once per wire format. */
export class Outbound {
  private v1: Buffer | undefined;
  private room: Buffer | undefined;

  constructor(
    private readonly renderV1: () => string,
    private readonly renderRoom: () => string,
  ) {}

  /** The encoded frame for `format`. */
  frame(format: WireFormat): Buffer {
    if (format === 'v1') return (this.v1 ??= Buffer.from(this.renderV1()));
    return (this.room ??= Buffer.from(this.renderRoom()));
  }

  /** An outbound message whose two formats are the same frame. */
  static same(frame: ServerFrame): Outbound {
    const text = encodeServerFrame(frame);
    return new Outbound(
      () => text,
      () => text,
    );
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The room format of a payload: a JSON object is delivered as itself (plus `id` when it has one, which
 * overrides any `id` the payload carried); any other value is wrapped as `{"type": kind, "data": value}`.
 */
export function renderRoomPayload(kind: string, data: unknown, id: number | undefined): string {
  if (isPlainObject(data)) return JSON.stringify(id === undefined ? data : { ...data, id });
  return JSON.stringify(id === undefined ? { type: kind, data } : { type: kind, data, id });
}

/** The shared heartbeat ping; identical in both formats. */
export const PING_FRAME: Buffer = Buffer.from(encodeServerFrame({ type: 'ping' }));
