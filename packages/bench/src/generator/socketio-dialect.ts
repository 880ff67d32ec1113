/**
 * The minimal Engine.IO v4 / Socket.IO v5 text protocol over a plain ws socket, so that the generator's
 * cost is the same as for the other targets (socket.io-client would add its own per-message work):
 * open packet `0{...}` → we send connect `40` → the server's `40{...}` means ready; server ping `2` →
 * pong `3`; events `42[...]`, with an ack id `42<id>[...]` answered by `43<id>[...]`.
 */
import { startsWith } from './dialect.js';
import type { Dialect, FrameKind } from './dialect.js';

const MESSAGE = Buffer.from('42["message"');
const CONNECTED = Buffer.from('40');
const OPEN = Buffer.from('0{');
const ACK = Buffer.from('43');
const PING = 0x32; // '2'

/** The Socket.IO dialect. */
export const socketioDialect: Dialect = {
  path: () => Promise.resolve('/socket.io/?EIO=4&transport=websocket'),
  readyOnOpen: false,
  classify(frame: Buffer): FrameKind {
    if (startsWith(frame, MESSAGE)) return 'message';
    if (frame.length === 1 && frame[0] === PING) return 'ping';
    if (startsWith(frame, ACK)) return 'ack';
    if (startsWith(frame, CONNECTED)) return 'ready';
    if (startsWith(frame, OPEN)) return 'handshake';
    return 'other';
  },
  answer: (kind) => (kind === 'ping' ? '3' : kind === 'handshake' ? '40' : null),
  subscribe: (room, id) => `42${id}["subscribe",${JSON.stringify(room)}]`,
  newlineBatches: false,
  publish: (room, data) => `42["publish",${JSON.stringify(room)},${data}]`,
};
