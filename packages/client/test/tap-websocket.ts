/**
 * A `ws` socket behind the client's WebSocket seam, with a tap: tests see every frame the client sends
 * and receives, and can cut the server-to-client direction to play a dead network path. This is the
 * public seam (the `WebSocket` option), not the client's internals.
 */
import WebSocket from 'ws';
import type { ClientOptions } from 'ws';
import type {
  SocketCloseEvent,
  SocketMessageEvent,
  WebSocketConstructor,
  WebSocketLike,
} from '../src/index.js';

type AnyListener = ((event: SocketMessageEvent) => void) | ((event: SocketCloseEvent) => void) | (() => void);

/** One tapped socket. */
export class TapSocket implements WebSocketLike {
  /** Frames the client sent, parsed. */
  readonly sent: Record<string, unknown>[] = [];
  /** Frames the server sent, parsed (including those withheld from the client). */
  readonly received: Record<string, unknown>[] = [];
  /** Close calls the client made. */
  readonly closeCalls: { code: number | undefined; reason: string | undefined }[] = [];
  private readonly ws: WebSocket;
  private blocked = false;
  private readonly watchers = new Set<() => void>();

  constructor(url: string, options: ClientOptions = {}) {
    this.ws = new WebSocket(url, options);
    this.ws.on('message', (data: Buffer) => {
      // The client asks for batched frames: one WebSocket message may hold several, one per line.
      for (const text of data.toString().split('\n'))
        this.received.push(JSON.parse(text) as Record<string, unknown>);
      this.changed();
    });
  }

  send(data: string): void {
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
    this.changed();
    this.ws.send(data);
  }

  close(code?: number, reason?: string): void {
    this.closeCalls.push({ code, reason });
    this.ws.close(code, reason);
  }

  addEventListener(type: 'message', listener: (event: SocketMessageEvent) => void): void;
  addEventListener(type: 'close', listener: (event: SocketCloseEvent) => void): void;
  addEventListener(type: 'error', listener: () => void): void;
  addEventListener(type: 'message' | 'close' | 'error', listener: AnyListener): void {
    if (type === 'message') {
      const onMessage = listener as (event: SocketMessageEvent) => void;
      this.ws.addEventListener('message', (event) => {
        if (!this.blocked) onMessage(event);
      });
    } else if (type === 'close') {
      this.ws.addEventListener('close', listener as (event: SocketCloseEvent) => void);
    } else {
      this.ws.addEventListener('error', listener as () => void);
    }
  }

  /** From now on, frames from the server no longer reach the client (they are still recorded). */
  blockIncoming(): void {
    this.blocked = true;
  }

  /** Resolve once `predicate` holds for this socket's frames; fails after `timeoutMs`. */
  until(predicate: (socket: TapSocket) => boolean, what: string, timeoutMs = 3000): Promise<void> {
    return new Promise((resolve, reject) => {
      if (predicate(this)) {
        resolve();
        return;
      }
      const watcher = (): void => {
        if (!predicate(this)) return;
        clearTimeout(timer);
        this.watchers.delete(watcher);
        resolve();
      };
      const timer = setTimeout(() => {
        this.watchers.delete(watcher);
        reject(new Error(`timed out waiting for ${what}; sent ${JSON.stringify(this.sent)}`));
      }, timeoutMs);
      this.watchers.add(watcher);
    });
  }

  private changed(): void {
    for (const watcher of [...this.watchers]) watcher();
  }
}

/**
 * A WebSocket constructor for the client whose sockets are tapped, and the sockets it made. `options` go
 * to `ws` (for example `autoPong: false`, so that only the client's own pongs answer the server).
 */
export function tap(options: ClientOptions = {}): { WebSocket: WebSocketConstructor; sockets: TapSocket[] } {
  const sockets: TapSocket[] = [];
  class Tapped extends TapSocket {
    constructor(url: string) {
      super(url, options);
      sockets.push(this);
    }
  }
  return { WebSocket: Tapped, sockets };
}
