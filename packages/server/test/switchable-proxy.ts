/**
 * A TCP proxy whose target can be switched: the stand-in for a load balancer that sends a reconnecting
 * client to a different node, or for the network path between a node and Redis. `retarget()` sends new
 * connections elsewhere (open ones keep their server), `cut()` destroys the open ones (both sides see the
 * drop at once), `refuse()` turns new ones away (an outage), and `stall()` stops forwarding without
 * closing anything (a path that only heartbeats or probes can find dead). Modeled on the client tests'
 * tcp-proxy.ts, which has a fixed target.
 */
import { connect, createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';

/** Where connections go: a host and port. */
export interface ProxyTarget {
  readonly host: string;
  readonly port: number;
}

interface Pair {
  readonly client: Socket;
  readonly upstream: Socket;
}

/** A proxy from a free port on 127.0.0.1 to a target that can change. */
export class SwitchableProxy {
  /** Connections accepted so far (refused ones included). */
  accepted = 0;
  private readonly pairs = new Set<Pair>();
  private refusing = false;

  private constructor(
    private readonly server: Server,
    private target: ProxyTarget,
  ) {}

  /** Start a proxy to the host and port of `url` (any scheme: `ws://`, `http://`, `redis://`). */
  static async start(url: string): Promise<SwitchableProxy> {
    const server = createServer();
    const proxy = new SwitchableProxy(server, targetOf(url));
    server.on('connection', (socket) => proxy.accept(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  /** The proxy's own port. */
  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** `url` with the proxy's host and port instead of its own (the path and query are kept). */
  url(url: string): string {
    const { protocol, host } = new URL(url);
    const rest = url.slice(url.indexOf(host) + host.length);
    return `${protocol}//127.0.0.1:${this.port}${rest}`;
  }

  /** Connections being forwarded now. */
  get open(): number {
    return this.pairs.size;
  }

  /** Send new connections to the host and port of `url`; open connections keep their server. */
  retarget(url: string): void {
    this.target = targetOf(url);
  }

  /** Destroy every forwarded connection, both sides; returns how many were cut. */
  cut(): number {
    const cut = this.pairs.size;
    for (const pair of [...this.pairs]) {
      this.pairs.delete(pair);
      pair.client.destroy();
      pair.upstream.destroy();
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

  /** Stop forwarding the open connections in both directions without closing them: the path goes silent. */
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

  /** Cut everything and stop listening. */
  async close(): Promise<void> {
    this.refusing = true;
    this.cut();
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
