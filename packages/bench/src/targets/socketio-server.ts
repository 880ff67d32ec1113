/**
 * The Socket.IO server both Socket.IO targets run: websocket transport only (no polling, no upgrade),
 * rooms via `socket.join`. Events: `subscribe(room, ack)` joins and acknowledges; `publish(room, data)`
 * emits `message(room, data)` to the room (the publisher too, if a member). Socket.IO pings on its own
 * per-socket timers (`pingInterval`), so there is no sweep to time.
 */
import type { Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import type { ServerOptions } from 'socket.io';

/** A Socket.IO server on `http` pinging every `heartbeatMs`, with the benchmark's events. */
export function socketIoServer(
  http: HttpServer,
  heartbeatMs: number,
  extra: Partial<ServerOptions> = {},
): Server {
  const io = new Server(http, {
    transports: ['websocket'],
    serveClient: false,
    perMessageDeflate: false,
    pingInterval: heartbeatMs,
    pingTimeout: heartbeatMs * 2,
    maxHttpBufferSize: 65_536,
    ...extra,
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
  return io;
}
