// An Express 5 application that shares its port with Switchboard.
//
// Switchboard is attached to the server app.listen() returns, under the base path /rt: everything below
// /rt is Switchboard's (/rt/ws, /rt/ws/:room, /rt/api/..., /rt/health, ...), everything else is the
// app's, its own /health included. The app publishes through the library; other backends can use the
// HTTP API (loopback only until you set an API key: SWITCHBOARD_API_KEY in the CLI, `apiKey` here).
import { once } from 'node:events';
import express from 'express';
import { createServer } from '@switchboard/server';

const port = Number(process.env.PORT ?? 3000);
const apiKey = process.env.SWITCHBOARD_API_KEY; // optional: lets other machines use /rt/api

const app = express();
app.use(express.json());

// The application's own routes: Switchboard never answers these.
app.get('/health', (_req, res) => {
  res.json({ app: 'ok' });
});
app.post('/orders', async (req, res) => {
  // A domain event, pushed to every member of the room `orders` (browsers on /rt/ws/orders).
  const { id } = await switchboard.publish('orders', { type: 'order-created', order: req.body });
  res.status(201).json({ id });
});

const server = app.listen(port);
await once(server, 'listening');
const switchboard = createServer({ server, basePath: '/rt', ...(apiKey ? { apiKey } : {}) });
await switchboard.start();
console.log(
  `listening on http://localhost:${server.address().port}: the app at /health and /orders, Switchboard under /rt`,
);

async function shutdown(signal) {
  console.log(`${signal}: shutting down`);
  await switchboard.stop(); // WebSockets close with 1001 (going away); clients reconnect elsewhere
  server.close(); // the process exits once the last HTTP connection is gone
}
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
