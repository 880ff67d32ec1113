/**
 * Raw ws, the floor: the frame is built once per broadcast and the same Buffer is written to every
 * member's TCP socket (what ws's sender would write, minus its per-send framing and bookkeeping).
 * Safe because no permessage-deflate is negotiated and ws writes whole frames synchronously, so our
 * writes can only land between its frames (pings, replies), never inside one.
 */
import { isOpen, startRawRoomServer } from './raw-room-server.js';
import type { RunningTarget, TargetConfig } from './target.js';
import { textFrame } from './ws-frame.js';

/** Start the ws-frame-once target. */
export function start(config: TargetConfig): Promise<RunningTarget> {
  return startRawRoomServer(config, (members, message) => {
    const frame = textFrame(message);
    for (const member of members) if (isOpen(member)) member.socket.write(frame);
  });
}
