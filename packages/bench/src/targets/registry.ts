/** Every target the tool can run. Adding a target is one more entry here plus its module. */
import { spawnSync } from 'node:child_process';
import { postgresMissing } from './postgres-database.js';
import type { DialectName } from './target.js';

/** Why `redis-server` cannot be started here, or null. */
function redisMissing(): string | null {
  const result = spawnSync('redis-server', ['--version'], { stdio: 'ignore' });
  return result.status === 0 ? null : 'redis-server is not installed (apt install redis-server)';
}

/** A target's entry. */
export interface TargetSpec {
  /** The name used on the command line and in reports. */
  readonly name: string;
  /** One line for --help and the reports. */
  readonly description: string;
  /** The client dialect generators speak to it. */
  readonly dialect: DialectName;
  /** Its module in this folder, without extension (exports `start`, see TargetModule). */
  readonly module: string;
  /** Why it cannot run here, or null when it can. */
  readonly unavailable: () => string | null;
  /** permessage-deflate on: the server compresses and the clients offer it (ws's default offer). */
  readonly deflate?: boolean;
}

/** Every target, in report order. */
export const TARGETS: readonly TargetSpec[] = [
  {
    name: 'switchboard',
    description: 'Switchboard, one process, every feature on (JWT auth, heartbeats, history, metrics)',
    dialect: 'switchboard',
    module: 'switchboard-target',
    unavailable: () => null,
  },
  {
    name: 'switchboard-workers',
    description:
      'the switchboard CLI with --workers N (node:cluster) and its own Redis; figures of the process tree',
    dialect: 'switchboard',
    module: 'switchboard-workers-target',
    unavailable: redisMissing,
  },
  {
    name: 'switchboard-deflate',
    description:
      'Switchboard, one process, as `switchboard`, with permessage-deflate on (`compression: { enabled: true }`, threshold 512 bytes) and clients that offer it',
    dialect: 'switchboard',
    module: 'switchboard-target',
    unavailable: () => null,
    deflate: true,
  },
  {
    name: 'switchboard-msgpack',
    description:
      'Switchboard, one process, as `switchboard`, with clients that speak MessagePack (subprotocol `switchboard.v1.msgpack`, binary frames, batched)',
    dialect: 'switchboard-msgpack',
    module: 'switchboard-target',
    unavailable: () => null,
  },
  {
    name: 'switchboard-unbatched',
    description:
      'Switchboard, one process, as `switchboard`, but the clients do not ask for batched frames (no ?batch=1)',
    dialect: 'switchboard-unbatched',
    module: 'switchboard-target',
    unavailable: () => null,
  },
  {
    name: 'switchboard-sse',
    description:
      'Switchboard, one process, as `switchboard`, but the clients are zero-SDK SSE streams (GET /sse/:channel?token=; sends go up one WebSocket per generator)',
    dialect: 'sse',
    module: 'switchboard-target',
    unavailable: () => null,
  },
  {
    name: 'switchboard-poll',
    description:
      'Switchboard, one process, as `switchboard`, but the clients speak protocol v1 over HTTP long-polling (GET /v1/poll, POST /v1/connections/:id)',
    dialect: 'poll',
    module: 'switchboard-target',
    unavailable: () => null,
  },
  {
    name: 'ws-frame-once',
    description: 'raw ws, the WebSocket frame built once per broadcast and written to every socket',
    dialect: 'raw',
    module: 'ws-frame-once-target',
    unavailable: () => null,
  },
  {
    name: 'ws-naive',
    description: 'raw ws, ws.send(buffer) per recipient (the message encoded once)',
    dialect: 'raw',
    module: 'ws-naive-target',
    unavailable: () => null,
  },
  {
    name: 'socketio',
    description: 'Socket.IO 4, websocket transport only, rooms via socket.join',
    dialect: 'socketio',
    module: 'socketio-target',
    unavailable: () => null,
  },
  {
    name: 'socketio-deflate',
    description:
      'Socket.IO 4, as `socketio`, with `perMessageDeflate: { threshold: 512 }` (ws compresses per socket, with context takeover) and clients that offer it',
    dialect: 'socketio',
    module: 'socketio-target',
    unavailable: () => null,
    deflate: true,
  },
  {
    name: 'socketio-redis',
    description:
      'Socket.IO 4 on node:cluster with N workers (--workers) and @socket.io/redis-adapter on its own Redis; figures of the process tree',
    dialect: 'socketio',
    module: 'socketio-redis-target',
    unavailable: redisMissing,
  },
  {
    name: 'switchboard-nodes',
    description:
      'drain and failover only: switchboard CLI nodes over one redis-server of their own, started, signalled and killed by the scenario itself',
    dialect: 'switchboard',
    // Never started through a target host: the scenarios start their nodes themselves (run/nodes.ts).
    module: 'switchboard-workers-target',
    unavailable: redisMissing,
  },
  {
    name: 'send-to-user',
    description:
      'Switchboard, one process, memory engine: server.sendToUser from inside the server process (no store, no ack); the baseline of the inbox targets',
    dialect: 'inbox',
    module: 'send-to-user-target',
    unavailable: () => null,
  },
  {
    name: 'inbox-memory',
    description:
      'Switchboard, one process, memory engine: server.deliver from inside the server process into the in-memory inbox store; each user acks every push',
    dialect: 'inbox',
    module: 'inbox-memory-target',
    unavailable: () => null,
  },
  {
    name: 'inbox-redis',
    description:
      'as inbox-memory, on the Redis engine and its inbox store (a redis-server of its own, no persistence)',
    dialect: 'inbox',
    module: 'inbox-redis-target',
    unavailable: redisMissing,
  },
  {
    name: 'inbox-postgres',
    description:
      "as inbox-memory, with the inbox in PostgreSQL (the machine's server at 127.0.0.1:5432, a database of its own)",
    dialect: 'inbox',
    module: 'inbox-postgres-target',
    unavailable: postgresMissing,
  },
];

/** The default comparison set. */
export const DEFAULT_TARGETS: readonly string[] = ['switchboard', 'ws-frame-once', 'ws-naive', 'socketio'];

/** The default targets of the deliver scenario. */
export const DELIVERY_TARGETS: readonly string[] = [
  'send-to-user',
  'inbox-memory',
  'inbox-redis',
  'inbox-postgres',
];

/** The entry named `name`, or undefined. */
export function findTarget(name: string): TargetSpec | undefined {
  return TARGETS.find((t) => t.name === name);
}
