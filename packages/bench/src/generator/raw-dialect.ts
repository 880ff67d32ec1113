/** The raw ws targets' protocol (see targets/raw-room-server.ts); ws answers protocol pings itself. */
import { startsWith } from './dialect.js';
import type { Dialect, FrameKind } from './dialect.js';

const MESSAGE = Buffer.from('{"type":"message"');
const REPLY = Buffer.from('{"type":"reply"');

/** The raw dialect. */
export const rawDialect: Dialect = {
  path: () => Promise.resolve('/'),
  readyOnOpen: true,
  classify(frame: Buffer): FrameKind {
    if (startsWith(frame, MESSAGE)) return 'message';
    if (startsWith(frame, REPLY)) return 'ack';
    return 'other';
  },
  answer: () => null,
  subscribe: (room, id) => `{"type":"subscribe","channel":${JSON.stringify(room)},"id":${id}}`,
  newlineBatches: false,
  publish: (room, data) => `{"type":"publish","channel":${JSON.stringify(room)},"data":${data}}`,
};
