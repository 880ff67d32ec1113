/**
 * Switchboard protocol v1 for guaranteed delivery (docs/delivery.md), as raw frames: the connection is the
 * switchboard dialect's (a JWT for `user-<index>`, `?batch=1`), its "subscribe" opens the user's inbox as
 * one device (`{"type":"inbox","id":n,"device":<room>}`, the server's default prefetch of 10; the reply is
 * the ack), and each `inbox` push is answered at once with `{"type":"ack","message":<id>}` (no request id,
 * so a good ack costs the server no reply). `direct` pushes (`server.sendToUser`, the baseline) count as
 * messages too and need no answer. The message id is cut out of the push by position, never parsed.
 */
import { startsWith } from './dialect.js';
import type { Dialect, FrameKind } from './dialect.js';
import { switchboardDialect } from './switchboard-dialect.js';

/** The head of every inbox push (inbox-dispatcher.ts writes the id first). */
const INBOX = Buffer.from('{"type":"inbox","id":"');
const DIRECT = Buffer.from('{"type":"direct"');
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * The JSON string literal of the message id of inbox push `frame` (quotes included, escapes kept), or
 * null when the frame is not an inbox push.
 */
export function inboxMessageId(frame: Buffer): string | null {
  if (!startsWith(frame, INBOX)) return null;
  const start = INBOX.length - 1;
  for (let i = start + 1; i < frame.length; i++) {
    const c = frame[i];
    if (c === BACKSLASH) i++;
    else if (c === QUOTE) return frame.toString('utf8', start, i + 1);
  }
  return null;
}

/** The inbox dialect, signing tokens with `secret`. */
export function inboxDialect(secret: string): Dialect {
  const base = switchboardDialect(secret, true);
  return {
    ...base,
    classify(frame: Buffer): FrameKind {
      if (startsWith(frame, INBOX) || startsWith(frame, DIRECT)) return 'message';
      return base.classify(frame);
    },
    subscribe: (device, id) => `{"type":"inbox","id":${id},"device":${JSON.stringify(device)}}`,
    acknowledge(frame: Buffer): string | null {
      const id = inboxMessageId(frame);
      return id === null ? null : `{"type":"ack","message":${id}}`;
    },
  };
}
