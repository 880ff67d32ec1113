/**
 * Socket.IO 4 with the websocket transport only (no polling, no upgrade), rooms via `socket.join`.
 * Events: `subscribe(room, ack)` joins and acknowledges; `publish(room, data)` emits
 * `message(room, data)` to the room (the publisher too, if a member). Socket.IO pings on its own
 * per-socket timers (`pingInterval`), so there is no sweep to time.
 */
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import type { RunningTarget, TargetConfig } from './target.js';

/** Start the Socket.IO target. */
export async function start(config: TargetConfig): Promise<RunningTarget> {
  const http = createServer();
  const io = new Server(http, {
    transports: ['websocket'],
    serveClient: false,
    perMessageDeflate: false,
    pingInterval: config.heartbeatMs,
    pingTimeout: config.heartbeatMs * 2,
    maxHttpBufferSize: 65_536,
  });
  io.on('connection', (socket) => {
    socket.on('subscribe', (room: unknown, ack: unknown) => {
      if (typeof room !== 'string') return;
      void socket.join(room);
      if (typeof ack === 'function') ack();
    });
    socket.on('publish', (room: unknown, data: unknown) => {
      if (typeof room === 'string') io.to(room).emit('message', room, data);
    });
  });
  await new Promise<void>((resolve) => http.listen(config.port, config.host, resolve));
  const address = http.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
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
