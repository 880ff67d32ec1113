/**
 * Switchboard's fan-out per delivery, in process: `server.publish` to N subscribers whose sockets are
 * in-memory Duplex streams, so the figure is the server's own JavaScript per recipient (rendering,
 * framing, backpressure checks, the socket write call) without the kernel's share. Covers the hot
 * functions of a fan-out: ChannelRegistry.fanOut, Hub.writePrepared, the transport's sendPrepared and
 * frameText, and the batched path (flushBatch, joinLines).
 *
 * Standalone (its setup is asynchronous: upgrades and subscribes), not in the `micro` runner's list:
 *
 *   node --import tsx packages/bench/src/micro/fan-out.bench.ts [subscribers] [rounds]
 *
 * SWITCHBOARD_SERVER=/path/to/server/dist/index.js measures another build (a before/after comparison).
 */

import { ADMISSION_OFF } from '../targets/admission-off.js';
import { MemorySocket, loadServer, turn, upgradeRequest } from './memory-upgrade.js';
import type { ServerModule } from './memory-upgrade.js';

/** A masked client text frame (a zero mask: the payload goes as it is, as RFC 6455 allows). */
function clientFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  if (payload.length > 125) throw new Error('short frames only');
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length, 0, 0, 0, 0]), payload]);
}

interface Case {
  readonly name: string;
  /** `/ws`, `/ws?batch=1` or `/ws/<room>`. */
  readonly path: string;
  /** Publications per event-loop turn. */
  readonly perTurn: number;
}

const CASES: readonly Case[] = [
  { name: 'v1, 1 msg/turn', path: '/ws', perTurn: 1 },
  { name: 'room, 1 msg/turn', path: '/ws/bench', perTurn: 1 },
  { name: 'v1, 10 msgs/turn', path: '/ws', perTurn: 10 },
  { name: 'v1 batch=1, 1 msg/turn', path: '/ws?batch=1', perTurn: 1 },
  { name: 'v1 batch=1, 10 msgs/turn', path: '/ws?batch=1', perTurn: 10 },
];

async function measureCase(
  sb: ServerModule,
  c: Case,
  subscribers: number,
  rounds: number,
): Promise<{ nsPerDelivery: number; writesPerDelivery: number }> {
  const server = sb.createServer({
    host: '127.0.0.1',
    port: 0,
    heartbeatIntervalMs: 600_000,
    heartbeatTimeoutMs: 1_800_000,
    ...ADMISSION_OFF,
  });
  await server.start();
  const sockets: MemorySocket[] = [];
  try {
    for (let i = 0; i < subscribers; i++) {
      const socket = new MemorySocket();
      sockets.push(socket);
      server.handleUpgrade(upgradeRequest(c.path, socket), socket, Buffer.alloc(0));
    }
    while (server.stats().connections < subscribers) await turn();
    if (!c.path.startsWith('/ws/')) {
      for (const socket of sockets) socket.push(clientFrame('{"type":"subscribe","channel":"bench"}'));
    }
    while ((await server.channelInfo('bench')).members < subscribers) await turn();
    const data = { text: 'x'.repeat(60), n: 0 };
    const run = async (messages: number): Promise<void> => {
      for (let sent = 0; sent < messages;) {
        for (let i = 0; i < c.perTurn; i++, sent++) {
          data.n = sent;
          void server.publish('bench', data);
        }
        await turn();
      }
    };
    await run(Math.max(20, Math.round(rounds / 5))); // warm-up
    const writesBefore = sockets.reduce((n, s) => n + s.writes, 0);
    const started = process.hrtime.bigint();
    await run(rounds);
    const ns = Number(process.hrtime.bigint() - started);
    const writes = sockets.reduce((n, s) => n + s.writes, 0) - writesBefore;
    const deliveries = rounds * subscribers;
    return { nsPerDelivery: ns / deliveries, writesPerDelivery: writes / deliveries };
  } finally {
    for (const socket of sockets) socket.destroy();
    await server.stop();
  }
}

const { sb, override } = await loadServer();
const subscribers = Number(process.argv[2] ?? 2000);
const rounds = Number(process.argv[3] ?? 200);
process.stdout.write(
  `fan-out to ${subscribers} in-memory sockets, ${rounds} messages per case${override === undefined ? '' : ` (${override})`}\n`,
);
process.stdout.write('| case | ns/delivery | socket writes/delivery |\n| --- | --- | --- |\n');
for (const c of CASES) {
  // Median of three runs: a GC pause in one does not decide the figure.
  const runs = [];
  for (let i = 0; i < 3; i++) runs.push(await measureCase(sb, c, subscribers, rounds));
  runs.sort((a, b) => a.nsPerDelivery - b.nsPerDelivery);
  const r = runs[1] ?? runs[0];
  if (r === undefined) continue;
  process.stdout.write(`| ${c.name} | ${r.nsPerDelivery.toFixed(0)} | ${r.writesPerDelivery.toFixed(2)} |\n`);
}
