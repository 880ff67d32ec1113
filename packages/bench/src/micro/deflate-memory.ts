/**
 * Memory per connection of a Switchboard server with permessage-deflate, by how its clients use it:
 * `off` (compression off), `offered` (negotiated, the clients send nothing compressed: what a fan-out
 * subscriber costs) and `sending` (each client sent one compressed message, so ws holds an inflater for
 * it). The server runs in a child process of its own (--expose-gc); heap + external after GC, minus the
 * figure before anything connected, divided by the connections.
 *
 *   node --expose-gc packages/bench/dist/micro/deflate-memory.js [connections]
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

type Mode = 'off' | 'offered' | 'sending';
const MODES: readonly Mode[] = ['off', 'offered', 'sending'];

interface Figures {
  readonly heap: number;
  readonly external: number;
  /** Resident set: the only figure that shows zlib's own allocations (outside V8's heap and external). */
  readonly rss: number;
}

async function serverChild(mode: Mode): Promise<void> {
  const { createServer, silentLogger } = await import('@switchboard/server');
  const server = createServer({
    host: '127.0.0.1',
    port: 0,
    logger: silentLogger,
    connectionRatePerIp: 0,
    maxConnectionsPerIp: 0,
    connectionRate: 0,
    heartbeatIntervalMs: 600_000,
    heartbeatTimeoutMs: 1_800_000,
    ...(mode === 'off' ? {} : { compression: { enabled: true } }),
  });
  await server.start();
  const measure = (): Figures => {
    (globalThis as { gc?: () => void }).gc?.();
    const m = process.memoryUsage();
    return { heap: m.heapUsed, external: m.external + m.arrayBuffers, rss: m.rss };
  };
  process.send?.({ port: server.port, base: measure() });
  process.on('message', () => process.send?.({ after: measure() }));
}

async function measureMode(mode: Mode, connections: number): Promise<Figures> {
  const child = fork(fileURLToPath(import.meta.url), ['--child', mode], { execArgv: ['--expose-gc'] });
  const next = (): Promise<Record<string, unknown>> =>
    new Promise((resolve) => child.once('message', (m) => resolve(m as Record<string, unknown>)));
  const { port, base } = (await next()) as { port: number; base: Figures };
  const sockets: WebSocket[] = [];
  for (let i = 0; i < connections; i++) {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, {
      // `sending`: the client compresses every message (threshold 0); `offered`: it never does.
      perMessageDeflate:
        mode === 'off' ? false : { threshold: mode === 'sending' ? 0 : Number.MAX_SAFE_INTEGER },
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('message', () => resolve());
      ws.once('error', reject);
    });
    // Every mode subscribes (the same state on the server); only `sending` compresses the command.
    ws.send(JSON.stringify({ id: 1, type: 'subscribe', channel: `room-${i % 100}` }));
    await new Promise<void>((resolve) => ws.once('message', () => resolve()));
    sockets.push(ws);
  }
  await new Promise((r) => setTimeout(r, 500));
  child.send('measure');
  const { after } = (await next()) as { after: Figures };
  for (const ws of sockets) ws.terminate();
  child.kill();
  return {
    heap: (after.heap - base.heap) / connections,
    external: (after.external - base.external) / connections,
    rss: (after.rss - base.rss) / connections,
  };
}

if (process.argv[2] === '--child') {
  await serverChild(process.argv[3] as Mode);
} else {
  const connections = Number(process.argv[2] ?? 2000);
  console.log(
    `| mode | connections | heap per connection (B) | external per connection (B) | heap + external (B) | RSS per connection (B) |`,
  );
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const mode of MODES) {
    const f = await measureMode(mode, connections);
    console.log(
      `| ${mode} | ${connections} | ${Math.round(f.heap)} | ${Math.round(f.external)} | ${Math.round(f.heap + f.external)} | ${Math.round(f.rss)} |`,
    );
  }
}
