// A Fastify 5 application that shares its port with Switchboard.
//
// The Fastify instance is passed as it is, before it listens: Switchboard attaches to fastify.server
// under the base path /rt and registers a preClose hook, so fastify.close() closes its WebSockets first
// (Fastify's close waits for every connection, and an upgraded one never ends on its own).
import Fastify from 'fastify';
import { createServer } from '@switchboard/server';

const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? '127.0.0.1';
const apiKey = process.env.SWITCHBOARD_API_KEY; // optional: lets other machines use /rt/api

const fastify = Fastify();
const switchboard = createServer({ server: fastify, basePath: '/rt', ...(apiKey ? { apiKey } : {}) });

// The application's own routes: Switchboard never answers these.
fastify.get('/health', async () => ({ app: 'ok' }));
fastify.post('/orders', async (request, reply) => {
  // A domain event, pushed to every member of the room `orders` (browsers on /rt/ws/orders).
  const { id } = await switchboard.publish('orders', { type: 'order-created', order: request.body });
  reply.code(201);
  return { id };
});

await switchboard.start();
await fastify.listen({ port, host });
console.log(
  `listening on http://${host}:${fastify.server.address().port}: the app at /health and /orders, Switchboard under /rt`,
);

async function shutdown(signal) {
  console.log(`${signal}: shutting down`);
  await fastify.close(); // runs Switchboard's preClose hook: WebSockets close with 1001 first
}
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
