/** Raw ws, the common way: encode the message once, `ws.send()` it to each member (a frame per send). */
import { isOpen, startRawRoomServer } from './raw-room-server.js';
import type { RunningTarget, TargetConfig } from './target.js';

/** Start the ws-naive target. */
export function start(config: TargetConfig): Promise<RunningTarget> {
  return startRawRoomServer(config, (members, message) => {
    for (const member of members) if (isOpen(member)) member.ws.send(message);
  });
}
