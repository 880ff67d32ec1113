/**
 * Switchboard protocol v1 in MessagePack (subprotocol `switchboard.v1.msgpack`, docs/protocol.md#messagepack)
 * over a plain ws socket: the JSON dialect's handshake and tokens, with every frame binary both ways.
 * A batched message (`?batch=1`) is consecutive MessagePack values; the pool splits it with `split` and
 * each frame is decoded once with the protocol package's codec (classify caches it for `timestamp`).
 */
import {
  MSGPACK_SUBPROTOCOL,
  decodeServerFramesMsgpack,
  encodeCommandMsgpack,
  scanMsgpackValue,
} from '@switchboard/protocol';
import type { ServerFrame } from '@switchboard/protocol';
import type { Dialect, FrameKind } from './dialect.js';
import { switchboardDialect } from './switchboard-dialect.js';

const PONG = encodeCommandMsgpack({ type: 'pong' });

/** Call `each` with every MessagePack value of `message` (views, no copies); returns how many. */
export function forEachMsgpackFrame(message: Buffer, each: (frame: Buffer) => void): number {
  let at = 0;
  let frames = 0;
  while (at < message.length) {
    const end = scanMsgpackValue(message, at, false);
    if (typeof end === 'string') break;
    each(message.subarray(at, end));
    frames++;
    at = end;
  }
  return frames;
}

/** The `ts` of a message frame's payload (the benchmark payload's send time), or NaN. */
function timestampOf(frame: ServerFrame | undefined): number {
  if (frame?.type !== 'message') return NaN;
  const data = frame.data as { ts?: unknown } | null;
  return typeof data?.ts === 'number' ? data.ts : NaN;
}

/** The MessagePack dialect, signing tokens with `secret` (always batched, as the SDK asks). */
export function msgpackDialect(secret: string): Dialect {
  const json = switchboardDialect(secret, true);
  // The frame classify decoded last: the pool asks for its timestamp right after.
  let lastBytes: Buffer | null = null;
  let last: ServerFrame | undefined;
  const decode = (frame: Buffer): ServerFrame | undefined => {
    if (frame !== lastBytes) {
      lastBytes = frame;
      last = decodeServerFramesMsgpack(frame)[0];
    }
    return last;
  };
  return {
    path: json.path,
    subprotocol: MSGPACK_SUBPROTOCOL,
    readyOnOpen: false,
    classify(frame: Buffer): FrameKind {
      const decoded = decode(frame);
      switch (decoded?.type) {
        case 'message':
          return 'message';
        case 'ping':
          return 'ping';
        case 'reply':
          return 'error' in decoded ? 'nack' : 'ack';
        case 'connected':
          return 'ready';
        default:
          return 'other';
      }
    },
    timestamp: (frame) => timestampOf(decode(frame)),
    answer: (kind) => (kind === 'ping' ? PONG : null),
    subscribe: (room, id) => encodeCommandMsgpack({ id, type: 'subscribe', channel: room }),
    publish: (room, data) =>
      encodeCommandMsgpack({ type: 'publish', channel: room, data: JSON.parse(data) as unknown }),
    split: forEachMsgpackFrame,
    newlineBatches: false,
  };
}
