#!/usr/bin/env node
import { createServer } from '../server.js';

const server = createServer({ port: Number(process.env['PORT'] ?? 8080), demo: true });
await server.start();
console.log(`switchboard listening on ${server.url}`);
