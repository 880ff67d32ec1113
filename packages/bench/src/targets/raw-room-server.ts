/**
 * The raw `ws` baselines' server: the same room semantics as the other targets with nothing else.
 * Protocol (JSON text frames): `{"type":"subscribe","channel":R,"id":N}` → `{"type":"reply","id":N}`;
 * `{"type":"publish","channel":R,"data":D}` → every member of R (the publisher too, if a member) gets
 * `{"type":"message","channel":R,"data":D}`, encoded once per publish. Heartbeats follow ws's README
 * ("detect and close broken connections"): one interval timer pings every socket and terminates those
 * that did not answer the previous ping. How a broadcast reaches the members is the variant's choice.
 */
import { createServer } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer, WebSocket } from 'ws';
import { listen } from './listen.js';
import type { RunningTarget, TargetConfig } from './target.js';

/** One connected client. */
export interface RawMember {
  readonly ws: WebSocket;
  /** The TCP socket under `ws`, kept from the upgrade (frame-once writes to it directly). */
  readonly socket: Socket;
  readonly rooms: Set<string>;
  alive: boolean;
}

/** How a variant delivers one encoded message to a room's members. */
export type Broadcast = (members: ReadonlySet<RawMember>, message: Buffer) => void;

interface Command {
  readonly type?: unknown;
  readonly channel?: unknown;
  readonly id?: unknown;
  readonly data?: unknown;
}

/** Start a raw room server that delivers with `broadcast`. */
export async function startRawRoomServer(config: TargetConfig, broadcast: Broadcast): Promise<RunningTarget> {
  const rooms = new Map<string, Set<RawMember>>();
  const members = new Set<RawMember>();
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  const http = createServer((_req, res) => res.writeHead(404).end());
  let cost = { ticks: 0, totalMs: 0, maxMs: 0 };

  http.on('upgrade', (req, socket: Socket, head) => {
    wss.handleUpgrade(req, socket, head, (ws) => {
      const member: RawMember = { ws, socket, rooms: new Set(), alive: true };
      members.add(member);
      ws.on('pong', () => (member.alive = true));
      ws.on('message', (data: Buffer, isBinary) => {
        if (!isBinary) onCommand(member, data);
      });
      ws.on('close', () => {
        members.delete(member);
        for (const room of member.rooms) {
          const set = rooms.get(room);
          set?.delete(member);
          if (set?.size === 0) rooms.delete(room);
        }
      });
      ws.on('error', () => ws.terminate());
    });
  });

  function onCommand(member: RawMember, data: Buffer): void {
    let command: Command;
    try {
      command = JSON.parse(data.toString()) as Command;
    } catch {
      return;
    }
    if (typeof command.channel !== 'string') return;
    if (command.type === 'subscribe') {
      let set = rooms.get(command.channel);
      if (set === undefined) rooms.set(command.channel, (set = new Set()));
      set.add(member);
      member.rooms.add(command.channel);
      member.ws.send(`{"type":"reply","id":${Number(command.id) || 0}}`);
    } else if (command.type === 'publish') {
      const set = rooms.get(command.channel);
      if (set === undefined) return;
      const message = { type: 'message', channel: command.channel, data: command.data };
      broadcast(set, Buffer.from(JSON.stringify(message)));
    }
  }

  const sweep = setInterval(() => {
    const started = performance.now();
    for (const member of members) {
      if (!member.alive) {
        member.ws.terminate();
        continue;
      }
      member.alive = false;
      member.ws.ping();
    }
    const ms = performance.now() - started;
    cost = { ticks: cost.ticks + 1, totalMs: cost.totalMs + ms, maxMs: Math.max(cost.maxMs, ms) };
  }, config.heartbeatMs);

  const port = await listen(http, config);
  return {
    port,
    pids: [],
    connections: () => members.size,
    takeHeartbeatCost: () => {
      const taken = cost;
      cost = { ticks: 0, totalMs: 0, maxMs: 0 };
      return taken;
    },
    stop: async () => {
      clearInterval(sweep);
      for (const member of members) member.ws.terminate();
      wss.close();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

/** Whether a member can still be written to. */
export function isOpen(member: RawMember): boolean {
  return member.ws.readyState === WebSocket.OPEN;
}
