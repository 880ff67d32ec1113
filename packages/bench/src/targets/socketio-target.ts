/** Socket.IO 4 in one process (see socketio-server.ts for the server's setup). */
import { createServer } from 'node:http';
import { socketIoServer } from './socketio-server.js';
import { listen } from './listen.js';
import type { RunningTarget, TargetConfig } from './target.js';

/** Start the Socket.IO target. */
export async function start(config: TargetConfig): Promise<RunningTarget> {
  const http = createServer();
  // The same threshold as Switchboard's default, so that both compress the same frames.
  const io = socketIoServer(
    http,
    config.heartbeatMs,
    config.deflate ? { perMessageDeflate: { threshold: 512 } } : {},
  );
  const port = await listen(http, config);
  return {
    port,
    pids: [],
    connections: () => io.engine.clientsCount,
    takeHeartbeatCost: () => null,
    stop: async () => {
      io.disconnectSockets(true);
      await io.close();
    },
  };
}
