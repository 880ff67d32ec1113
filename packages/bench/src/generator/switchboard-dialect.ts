/**
 * Switchboard protocol v1 (docs/protocol.md) over a plain ws socket: a JWT in the `token` query
 * parameter (HS256, one user per connection, minted here with jose), `subscribe` with an id (the reply is
 * the ack), `publish` without an id (no reply), and `{"type":"pong"}` for each server ping.
 *
 * Batched (the default, what the SDK does): the connection asks for `?batch=1`, so the server may send
 * several frames in one WebSocket message, one per line; the pool splits them and counts each frame.
 */
import { SignJWT } from 'jose';
import { startsWith } from './dialect.js';
import type { Dialect, FrameKind } from './dialect.js';

const MESSAGE = Buffer.from('{"type":"message"');
const PING = Buffer.from('{"type":"ping"}');
const CONNECTED = Buffer.from('{"type":"connected"');
const REPLY = Buffer.from('{"type":"reply"');
const ERROR = Buffer.from('"error":');

/** The Switchboard dialect, signing tokens with `secret`; `batch` asks for batched frames. */
export function switchboardDialect(secret: string, batch = true): Dialect {
  const key = new TextEncoder().encode(secret);
  const query = batch ? '/ws?batch=1&token=' : '/ws?token=';
  return {
    async path(index) {
      const token = await new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(`user-${index}`)
        .setIssuedAt()
        .setExpirationTime('2h')
        .sign(key);
      return query + token;
    },
    readyOnOpen: false,
    classify(frame: Buffer): FrameKind {
      if (startsWith(frame, MESSAGE)) return 'message';
      if (startsWith(frame, PING)) return 'ping';
      if (startsWith(frame, REPLY)) return frame.includes(ERROR) ? 'nack' : 'ack';
      if (startsWith(frame, CONNECTED)) return 'ready';
      return 'other';
    },
    answer: (kind) => (kind === 'ping' ? '{"type":"pong"}' : null),
    subscribe: (room, id) => `{"id":${id},"type":"subscribe","channel":${JSON.stringify(room)}}`,
    publish: (room, data) => `{"type":"publish","channel":${JSON.stringify(room)},"data":${data}}`,
    newlineBatches: batch,
  };
}
