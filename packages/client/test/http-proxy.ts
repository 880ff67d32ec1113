/**
 * An HTTP proxy in front of a server, as a corporate proxy that does not pass WebSockets: it forwards
 * plain requests (streamed, so SSE flows through) and refuses every `Upgrade` with 403 until told
 * otherwise; it can refuse some paths too (403), `cut()` drops every client connection, and `refuse()`
 * drops new ones until `admit()`.
 */
import { createServer, request } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/** What the proxy refuses. */
export interface ProxyRefusals {
  /** Refuse WebSocket upgrades (403). */
  readonly upgrade: boolean;
  /** Refuse plain requests whose path matches (403). */
  readonly paths?: RegExp;
}

/** A refusing HTTP proxy on 127.0.0.1 and a free port. */
export class HttpProxy {
  refusedUpgrades = 0;
  private readonly sockets = new Set<Socket | Duplex>();
  private refusing = false;

  private constructor(
    private readonly server: Server,
    private readonly target: { host: string; port: number },
    private refusals: ProxyRefusals,
  ) {}

  static async start(url: string, refusals: ProxyRefusals): Promise<HttpProxy> {
    const parsed = new URL(url);
    const server = createServer();
    const proxy = new HttpProxy(server, { host: parsed.hostname, port: Number(parsed.port) }, refusals);
    server.on('connection', (socket) => {
      if (proxy.refusing) {
        socket.destroy();
        return;
      }
      proxy.sockets.add(socket);
      socket.on('close', () => proxy.sockets.delete(socket));
    });
    server.on('request', (req, res) => {
      if (proxy.refusals.paths?.test(req.url ?? '') === true) {
        req.resume();
        res.writeHead(403).end('refused by the proxy');
        return;
      }
      const upstream = request(
        { ...proxy.target, method: req.method, path: req.url, headers: req.headers, agent: false },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      res.on('close', () => upstream.destroy());
      req.pipe(upstream);
    });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      proxy.upgrade(req, socket, head),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  /** The proxy's address for the server's `/ws`. */
  get wsUrl(): string {
    return `ws://127.0.0.1:${(this.server.address() as AddressInfo).port}/ws`;
  }

  /** Pass upgrades from now on. */
  allowUpgrades(): void {
    this.refusals = { ...this.refusals, upgrade: false };
  }

  /** Drop new connections at once (a network outage) until {@link admit}. */
  refuse(): void {
    this.refusing = true;
  }

  admit(): void {
    this.refusing = false;
  }

  /** Drop every client connection (streams, polls and WebSockets alike). */
  cut(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  close(): Promise<void> {
    this.cut();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.refusals.upgrade) {
      this.refusedUpgrades++;
      socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
      return;
    }
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    const upstream = connect(this.target.port, this.target.host, () => {
      const lines = [`${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2)
        lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
    socket.on('close', () => upstream.destroy());
    upstream.on('close', () => socket.destroy());
  }
}
