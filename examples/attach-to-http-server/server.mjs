// An ordinary node:http application that shares its port with Switchboard.
//
// Attached with the default basePath '', Switchboard takes only the WebSocket upgrades at /ws and
// /ws/:room and leaves every HTTP request to the application. This application wants Switchboard's HTTP
// routes too (/api/..., /health, /ready, /stats, /metrics) and mounts them itself: its handler asks
// switchboard.handleRequest() first, so it decides what is whose.
import { createServer as createHttpServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { createServer } from '@switchboard/server';

const port = Number(process.env.PORT ?? 3000);
const page = await readFile(new URL('./public/index.html', import.meta.url));

// The application's own routes.
const httpServer = createHttpServer((req, res) => {
  if (switchboard.handleRequest(req, res)) return; // /api/..., /health, /ready, /stats, /metrics
  const { pathname } = new URL(req.url ?? '/', 'http://localhost');
  if (req.method === 'GET' && pathname === '/') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(page);
  } else if (req.method === 'GET' && pathname === '/time') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ time: new Date().toISOString() }));
  } else {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('not found\n');
  }
});

// Attach: Switchboard installs its listeners on httpServer; listening stays the application's job.
const switchboard = createServer({ server: httpServer });
await switchboard.start();
await new Promise((resolve) => httpServer.listen(port, resolve));
console.log(`listening on ${switchboard.url}: the clock page at /, Switchboard at /ws/clock and /api`);

// A tick a second to every member of the `clock` room. Ephemeral: a missed tick is worthless a second
// later, so it skips history and may be dropped for a slow client.
const ticker = setInterval(() => {
  switchboard
    .publish('clock', { type: 'tick', time: new Date().toISOString() }, { ephemeral: true })
    .catch((error) => console.error('tick failed:', error.message));
}, 1000);

async function shutdown(signal) {
  console.log(`${signal}: shutting down`);
  clearInterval(ticker);
  await switchboard.stop(); // closes WebSockets with 1001 (going away); clients reconnect elsewhere
  httpServer.close();
}
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
