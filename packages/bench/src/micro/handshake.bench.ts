/**
 * Switchboard's handshake, in process: `server.handleUpgrade` with an HS256 JWT in `?token=` (the bench
 * target's setup: JWT auth, heartbeats, Prometheus metrics, admission limits off) on in-memory sockets,
 * until the `connected` push is written. The figure is the server's own CPU per handshake, JavaScript and
 * crypto (threadpool included: `process.cpuUsage`), without the kernel's TCP work; and, with
 * `--expose-gc`, the heap each open connection keeps after GC. Covers the hot functions of a connect:
 * SwitchboardServer.handleUpgrade, TokenAuthenticator/JwtVerifier (the HMAC fast path), Hub.accept and
 * setUp, SessionRegistry ids, the transport's upgrade.
 *
 * Standalone (its work is asynchronous), not in the `micro` runner's list:
 *
 *   node --expose-gc --import tsx packages/bench/src/micro/handshake.bench.ts [connections] [rounds]
 *
 * SWITCHBOARD_SERVER=/path/to/server/dist/index.js measures another build (a before/after comparison).
 */
import { SignJWT } from 'jose';
import { ADMISSION_OFF } from '../targets/admission-off.js';
import { MemorySocket, loadServer, turn, upgradeRequest } from './memory-upgrade.js';
import type { ServerModule } from './memory-upgrade.js';

const SECRET = 'handshake-bench-secret-0123456789abcdef';

const gc = (globalThis as { gc?: () => void }).gc;

/** One user per connection, as the bench's generators mint them. */
async function tokens(count: number, offset: number): Promise<string[]> {
  const key = new TextEncoder().encode(SECRET);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    out.push(
      await new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(`user-${offset + i}`)
        .setIssuedAt()
        .setExpirationTime('2h')
        .sign(key),
    );
  }
  return out;
}

interface Round {
  readonly cpuMicros: number;
  readonly wallMicros: number;
  readonly heapBytes: number;
}

async function round(sb: ServerModule, connections: number, offset: number): Promise<Round> {
  const server = sb.createServer({
    host: '127.0.0.1',
    port: 0,
    heartbeatIntervalMs: 15_000,
    heartbeatTimeoutMs: 45_000,
    historySize: 100,
    auth: { secret: SECRET, algorithms: ['HS256'] },
    metrics: new sb.PrometheusMetrics(),
    ...ADMISSION_OFF,
    shutdownTimeoutMs: 1000,
  });
  await server.start();
  const minted = await tokens(connections, offset);
  const sockets: MemorySocket[] = [];
  try {
    gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const cpu = process.cpuUsage();
    const started = process.hrtime.bigint();
    for (const token of minted) {
      const socket = new MemorySocket();
      sockets.push(socket);
      server.handleUpgrade(upgradeRequest(`/ws?token=${token}`, socket), socket, Buffer.alloc(0));
    }
    while (server.stats().connections < connections) await turn();
    const wallNs = Number(process.hrtime.bigint() - started);
    const used = process.cpuUsage(cpu);
    minted.length = 0;
    gc?.();
    const heapBytes = gc === undefined ? NaN : process.memoryUsage().heapUsed - heapBefore;
    return {
      cpuMicros: (used.user + used.system) / connections,
      wallMicros: wallNs / 1000 / connections,
      heapBytes: heapBytes / connections,
    };
  } finally {
    for (const socket of sockets) socket.destroy();
    await server.stop();
  }
}

const { sb, override } = await loadServer();
const connections = Number(process.argv[2] ?? 5000);
const rounds = Number(process.argv[3] ?? 5);
process.stdout.write(
  `${connections} handshakes on in-memory sockets, ${rounds} rounds${override === undefined ? '' : ` (${override})`}\n`,
);
await round(sb, Math.min(connections, 1000), 10_000_000); // warm-up
const results: Round[] = [];
for (let i = 0; i < rounds; i++) results.push(await round(sb, connections, i * connections));
const median = (pick: (r: Round) => number): number => {
  const values = results.map(pick).sort((a, b) => a - b);
  return values[Math.floor(values.length / 2)] ?? NaN;
};
process.stdout.write('| figure | median |\n| --- | --- |\n');
process.stdout.write(`| CPU per handshake (µs) | ${median((r) => r.cpuMicros).toFixed(1)} |\n`);
process.stdout.write(`| wall per handshake (µs) | ${median((r) => r.wallMicros).toFixed(1)} |\n`);
process.stdout.write(
  `| heap kept per connection after GC (bytes) | ${Number.isNaN(median((r) => r.heapBytes)) ? 'run with --expose-gc' : median((r) => r.heapBytes).toFixed(0)} |\n`,
);
