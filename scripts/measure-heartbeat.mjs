#!/usr/bin/env node
// Heartbeat cost with many idle connections: starts a server (this process) and opens N WebSocket
// clients from a child process, lets the heartbeat run for a few intervals, then reports the longest
// scheduler tick and the event-loop delay. Usage: node scripts/measure-heartbeat.mjs [connections=10000]
// [intervalMs=1000]. Bounded: stops itself after 5 intervals plus the connect time.
import { fork } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createServer } from '../packages/server/dist/index.js';

const CLIENT = process.argv[2] === '--client';
if (CLIENT) {
  const { default: WebSocket } = await import('ws');
  const [url, count] = [process.argv[3], Number(process.argv[4])];
  let open = 0;
  const sockets = [];
  for (let i = 0; i < count; i++) {
    const ws = new WebSocket(url);
    ws.on('open', () => {
      if (++open === count) process.send?.('open');
    });
    ws.on('message', (data) => {
      if (data.toString() === '{"type":"ping"}') ws.send('{"type":"pong"}');
    });
    ws.on('error', () => {});
    sockets.push(ws);
    if (i % 500 === 499) await new Promise((r) => setTimeout(r, 20));
  }
  process.on('message', () => process.exit(0));
} else {
  const connections = Number(process.argv[2] ?? 10_000);
  const intervalMs = Number(process.argv[3] ?? 1000);
  // Per-address and node admission limits would refuse one machine opening thousands of sockets at once.
  const server = createServer({
    host: '127.0.0.1',
    port: 0,
    heartbeatIntervalMs: intervalMs,
    heartbeatTimeoutMs: intervalMs * 3,
    connectionRate: 0,
    connectionRatePerIp: 0,
    maxConnectionsPerIp: 0,
  });
  await server.start();
  const child = fork(fileURLToPath(import.meta.url), [
    '--client',
    `ws://127.0.0.1:${server.port}/ws`,
    String(connections),
  ]);
  const opened = await Promise.race([
    new Promise((resolve) => child.once('message', () => resolve(true))),
    new Promise((resolve) => setTimeout(() => resolve(false), 60_000)),
  ]);
  if (!opened) {
    console.error('the clients did not all connect within 60 s');
    child.kill();
    await server.stop();
    process.exit(1);
  }
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  const rendered = server.stats();
  histogram.enable();
  const before = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
  await new Promise((r) => setTimeout(r, intervalMs * 5));
  histogram.disable();
  const after = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
  const sum = (text) => Number(/switchboard_heartbeat_tick_seconds_sum (\S+)/.exec(text)?.[1] ?? 0);
  const count = (text) => Number(/switchboard_heartbeat_tick_seconds_count (\S+)/.exec(text)?.[1] ?? 0);
  const bucket = (text, le) =>
    Number(
      new RegExp(`switchboard_heartbeat_tick_seconds_bucket\\{le="${le}"\\} (\\S+)`).exec(text)?.[1] ?? 0,
    );
  const tickCount = count(after) - count(before);
  console.log(
    JSON.stringify(
      {
        connections: rendered.connections,
        intervalMs,
        slots: rendered.heartbeat.slots,
        tickMs: rendered.heartbeat.tickMs,
        ticks: tickCount,
        meanTickMs: +(((sum(after) - sum(before)) / tickCount) * 1000).toFixed(3),
        ticksOver5ms: tickCount - (bucket(after, '0.005') - bucket(before, '0.005')),
        eventLoopDelayP99Ms: +(histogram.percentile(99) / 1e6).toFixed(2),
        eventLoopDelayMaxMs: +(histogram.max / 1e6).toFixed(2),
      },
      null,
      2,
    ),
  );
  child.send('stop');
  await server.stop();
}
