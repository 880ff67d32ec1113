/**
 * A TCP proxy between a client and a server, to break the path for real: `cut()` destroys the
 * client-side sockets (the client sees its socket drop, as on a network change), `refuse()` turns new
 * connections away (a long outage), `stall()` stops forwarding without closing anything (a dead path
 * that only heartbeats or probes can detect), `delayWhere()` holds one direction back for a while (a late
 * delivery), and `retarget()` sends new connections to another server
 * (a load balancer moving a reconnecting client to another node). The client is untouched: it only knows
 * the proxy's URL. Also used by the server's multi-node tests, between nodes and Redis.
 */
import { createServer, connect } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';

interface Pair {
  readonly client: Socket;
  readonly upstream: Socket;
}

/** Options of {@link TcpProxy.cut}. */
export interface CutOptions {
  /**
   * Leave the server's side open for this long (ms) before destroying it, as when the server has not
   * noticed the drop yet: a client that resumes meanwhile replaces a connection the server still holds.
   * Default 0 (the server sees the drop at once).
   */
  readonly orphanMs?: number;
}

/** Where connections go. */
export interface ProxyTarget {
  readonly host: string;
  readonly port: number;
}

/** A proxy from a free port on 127.0.0.1 to a target that can change. */
export class TcpProxy {
  /** Connections accepted so far (refused ones included). */
  accepted = 0;
  private readonly pairs = new Set<Pair>();
  private readonly orphans = new Set<Socket>();
  private refusing = false;

  private constructor(
    private readonly server: Server,
    private target: ProxyTarget,
  ) {}

  /** Start a proxy to the host and port of `url` (any scheme: `ws://`, `http://`, `redis://`). */
  static async start(url: string): Promise<TcpProxy> {
    const server = createServer();
    const proxy = new TcpProxy(server, targetOf(url));
    server.on('connection', (socket) => proxy.accept(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  /** The proxy's own port. */
  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** `url` with the proxy's port instead of the server's (the path and query are kept). */
  url(url: string): string {
    const out = new URL(url);
    out.port = String(this.port);
    return out.toString();
  }

  /** Send new connections to the host and port of `url`; open connections keep their server. */
  retarget(url: string): void {
    this.target = targetOf(url);
  }

  /** Connections being forwarded now. */
  get open(): number {
    return this.pairs.size;
  }

  /** Destroy every forwarded connection's client side; returns how many were cut. */
  cut(options: CutOptions = {}): number {
    const cut = this.pairs.size;
    for (const pair of [...this.pairs]) {
      this.pairs.delete(pair);
      pair.client.unpipe(pair.upstream);
      pair.upstream.unpipe(pair.client);
      pair.client.destroy();
      const orphanMs = options.orphanMs ?? 0;
      if (orphanMs <= 0) {
        pair.upstream.destroy();
        continue;
      }
      // Keep reading (and discarding) so the server's writes do not back up, then drop it later.
      this.orphans.add(pair.upstream);
      pair.upstream.resume();
      setTimeout(() => {
        this.orphans.delete(pair.upstream);
        pair.upstream.destroy();
      }, orphanMs).unref();
    }
    return cut;
  }

  /** Turn new connections away (accepted, then destroyed at once) until {@link admit}. */
  refuse(): void {
    this.refusing = true;
  }

  /** Forward new connections again. */
  admit(): void {
    this.refusing = false;
  }

  /** Stop forwarding in both directions without closing anything: the path goes silent. */
  stall(): void {
    for (const pair of this.pairs) stallPair(pair);
  }

  /**
   * Stall only the open connections whose upstream socket's local port satisfies `which` (the port the
   * target sees them come from, as in Redis's CLIENT LIST); returns how many were stalled.
   */
  stallWhere(which: (upstreamLocalPort: number) => boolean): number {
    let stalled = 0;
    for (const pair of this.pairs) {
      if (pair.upstream.localPort === undefined || !which(pair.upstream.localPort)) continue;
      stallPair(pair);
      stalled += 1;
    }
    return stalled;
  }

  /**
   * Hold back what the target sends on the open connections whose upstream socket's local port satisfies
   * `which` (the other direction still flows), until the returned function is called: a late delivery,
   * not a lost one. Returns that function and how many connections are held.
   */
  delayWhere(which: (upstreamLocalPort: number) => boolean): { held: number; release: () => void } {
    const held: Pair[] = [];
    for (const pair of this.pairs) {
      if (pair.upstream.localPort === undefined || !which(pair.upstream.localPort)) continue;
      pair.upstream.unpipe(pair.client);
      pair.upstream.pause();
      held.push(pair);
    }
    const release = (): void => {
      for (const pair of held) if (this.pairs.has(pair)) pair.upstream.pipe(pair.client);
    };
    return { held: held.length, release };
  }

  /** Cut everything and stop listening. */
  async close(): Promise<void> {
    this.refusing = true;
    this.cut();
    for (const socket of this.orphans) socket.destroy();
    this.orphans.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    this.accepted += 1;
    client.on('error', () => {});
    if (this.refusing) {
      client.destroy();
      return;
    }
    client.setNoDelay(true);
    const upstream = connect(this.target);
    upstream.setNoDelay(true);
    upstream.on('error', () => {});
    const pair: Pair = { client, upstream };
    this.pairs.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    const end = (): void => {
      if (!this.pairs.delete(pair)) return;
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end);
    upstream.on('close', end);
  }
}

function targetOf(url: string): ProxyTarget {
  const parsed = new URL(url);
  return { host: parsed.hostname, port: Number(parsed.port) };
}

function stallPair({ client, upstream }: Pair): void {
  client.unpipe(upstream);
  upstream.unpipe(client);
  client.pause();
  upstream.pause();
}
