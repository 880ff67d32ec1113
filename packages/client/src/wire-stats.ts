/**
 * What a client's sockets carried: messages and payload bytes, in and out, counted as the socket hands
 * them over. Two additions per message and a pass over a text payload's characters (no encoder, no
 * allocation), so the counters stay on for every client: a page shows its own traffic without a proxy.
 */
import type { WebSocketLike } from './websocket-like.js';

/**
 * The client's traffic since it was created, over every connection it made.
 *
 * A message is one message of the socket: a WebSocket message (which holds several frames when the
 * server batches them), an SSE event, a long-polling response's frame. Bytes are its payload as the
 * socket delivers it: UTF-8 bytes of a text message, the length of a binary one. Not counted: the
 * WebSocket frame header (2 to 14 bytes a message), HTTP, TCP and TLS overhead; and with
 * permessage-deflate the browser inflates a message before the page sees it, so the counts are the
 * uncompressed sizes.
 */
export interface WireStats {
  /** Messages received. */
  readonly messagesIn: number;
  /** Payload bytes received. */
  readonly bytesIn: number;
  /** Messages sent. */
  readonly messagesOut: number;
  /** Payload bytes sent. */
  readonly bytesOut: number;
}

/** Counts the messages of every socket it is attached to. */
export class WireMeter {
  private messagesIn = 0;
  private bytesIn = 0;
  private messagesOut = 0;
  private bytesOut = 0;

  /** Count what `socket` receives and sends from now on; returns it. */
  attach<S extends WebSocketLike>(socket: S): S {
    // Added before the client's own listener, so a handler that reads the stats sees this message counted.
    socket.addEventListener('message', (event) => {
      this.messagesIn++;
      this.bytesIn += byteLength(event.data);
    });
    const send = socket.send;
    // An own property over the prototype's method: the socket stays the same object (its close, its
    // terminate, its other listeners), only its sends are counted. A send that throws is not counted.
    socket.send = (data) => {
      send.call(socket, data);
      this.messagesOut++;
      this.bytesOut += byteLength(data);
    };
    return socket;
  }

  /** The counts now (a copy: it does not change afterwards). */
  snapshot(): WireStats {
    const { messagesIn, bytesIn, messagesOut, bytesOut } = this;
    return { messagesIn, bytesIn, messagesOut, bytesOut };
  }
}

/** The payload size of a socket message: UTF-8 bytes of a string, the byte length of binary data. */
export function byteLength(data: unknown): number {
  if (typeof data === 'string') return utf8ByteLength(data);
  if (data instanceof ArrayBuffer) return data.byteLength;
  if (ArrayBuffer.isView(data)) return data.byteLength;
  // `ws` hands over a fragmented binary message as an array of Buffers (binaryType 'fragments').
  if (Array.isArray(data)) return data.reduce((sum: number, part: unknown) => sum + byteLength(part), 0);
  // A browser's Blob (binaryType 'blob', the browser default).
  if (typeof data === 'object' && data !== null && 'size' in data && typeof data.size === 'number') {
    return data.size;
  }
  return 0;
}

/** The UTF-8 length of `text` without encoding it (a lone surrogate counts 3 bytes, as U+FFFD). */
export function utf8ByteLength(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) bytes += 1;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      // A surrogate pair: two UTF-16 units, four UTF-8 bytes.
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 2;
        i++;
      } else bytes += 2;
    } else bytes += 2;
  }
  return bytes;
}
