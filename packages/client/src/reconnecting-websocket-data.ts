/**
 * Checks and conversions of the data a {@link ReconnectingWebSocket} sends and receives, so that text is
 * a string and binary data an `ArrayBuffer` whatever the runtime hands over.
 */
import type { ReceivedMessage, OutgoingData } from './reconnecting-websocket-events.js';

/** `instanceof ArrayBuffer` fails for buffers from another realm (an iframe, a vm context); the tag does not. */
function isArrayBufferLike(value: unknown): value is ArrayBufferLike {
  const tag = Object.prototype.toString.call(value);
  return tag === '[object ArrayBuffer]' || tag === '[object SharedArrayBuffer]';
}

/** Whether `value` is something `send()` accepts. */
export function isOutgoingData(value: unknown): value is OutgoingData {
  return typeof value === 'string' || ArrayBuffer.isView(value) || isArrayBufferLike(value);
}

/** A copy of binary data, so the caller may reuse its buffer once `send()` returned (as with WebSocket). */
export function copyBytes(data: ArrayBufferLike | ArrayBufferView): Uint8Array<ArrayBuffer> {
  const view = ArrayBuffer.isView(data)
    ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
    : new Uint8Array(data);
  const copy = new Uint8Array(view.byteLength);
  copy.set(view);
  return copy;
}

/**
 * A received frame's data as a message: strings are text, buffers binary. A socket that ignored
 * `binaryType` may hand over a view (a Node Buffer), copied into an ArrayBuffer; a Blob cannot be read
 * synchronously, so it gives null and is dropped.
 */
export function toIncoming(raw: unknown): ReceivedMessage | null {
  if (typeof raw === 'string') return { data: raw, isBinary: false };
  if (raw instanceof ArrayBuffer) return { data: raw, isBinary: true };
  if (ArrayBuffer.isView(raw) || isArrayBufferLike(raw))
    return { data: copyBytes(raw).buffer, isBinary: true };
  return null;
}

/** The error behind a socket's `error` event: ws puts it in `error`; browsers' events carry nothing more. */
export function errorOf(event: unknown): unknown {
  if (typeof event === 'object' && event !== null && 'error' in event) {
    return (event as { error: unknown }).error ?? event;
  }
  return event;
}
