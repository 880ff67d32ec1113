/**
 * `ws` behind the client's WebSocket seam, watched: how many sockets the client holds at once (opened
 * and neither closed by the client nor reported closed), plus filters that drop or inject frames from
 * the server, to play a message lost in transit. The public seam (the `WebSocket` option), not internals.
 */
import WebSocket from 'ws';
import type {
  SocketCloseEvent,
  SocketMessageEvent,
  WebSocketConstructor,
  WebSocketLike,
} from '../src/index.js';

type AnyListener = ((event: SocketMessageEvent) => void) | ((event: SocketCloseEvent) => void) | (() => void);

/** What a spy saw. */
export interface Spy {
  /** The constructor to pass as the client's `WebSocket` option. */
  readonly WebSocket: WebSocketConstructor;
  /** Every socket the client opened, oldest first. */
  readonly sockets: SpiedSocket[];
  /** The most sockets the client held at once. */
  readonly maxLive: number;
  /** Sockets held now. */
  readonly live: number;
}

/** One watched socket. */
export interface SpiedSocket extends WebSocketLike {
  /** Drop frames from the server for which `predicate` holds (parsed JSON), from now on. */
  dropIncoming(predicate: (frame: Record<string, unknown>) => boolean): void;
  /** Deliver `frame` to the client as if the server had sent it. */
  inject(frame: Record<string, unknown>): void;
  /** `ws`'s own terminate, which the client uses when the server went silent. */
  terminate(): void;
}

/** A WebSocket constructor whose sockets are watched; `observe` sees every frame from the server first. */
export function spy(observe?: (frame: Record<string, unknown>, socket: number) => void): Spy {
  const sockets: SpiedSocket[] = [];
  let live = 0;
  let maxLive = 0;
  class Spied implements SpiedSocket {
    private readonly ws: WebSocket;
    private released = false;
    private readonly filters: ((frame: Record<string, unknown>) => boolean)[] = [];
    private readonly messageListeners: ((event: SocketMessageEvent) => void)[] = [];

    constructor(url: string) {
      this.ws = new WebSocket(url);
      live += 1;
      maxLive = Math.max(maxLive, live);
      sockets.push(this);
      this.ws.on('message', (data: Buffer) => {
        // The client asks for batched frames: one WebSocket message may hold several, one per line.
        // Each is observed and filtered on its own, and passed on as a message of its own.
        for (const text of data.toString().split('\n')) {
          const frame = JSON.parse(text) as Record<string, unknown>;
          observe?.(frame, sockets.indexOf(this));
          if (this.filters.some((f) => f(frame))) continue;
          for (const listener of this.messageListeners) listener({ data: text });
        }
      });
      this.ws.on('close', () => this.release());
    }

    send(data: string): void {
      this.ws.send(data);
    }

    close(code?: number, reason?: string): void {
      this.release();
      this.ws.close(code, reason);
    }

    terminate(): void {
      this.release();
      this.ws.terminate();
    }

    addEventListener(type: 'message', listener: (event: SocketMessageEvent) => void): void;
    addEventListener(type: 'close', listener: (event: SocketCloseEvent) => void): void;
    addEventListener(type: 'error', listener: () => void): void;
    addEventListener(type: 'message' | 'close' | 'error', listener: AnyListener): void {
      if (type === 'message') this.messageListeners.push(listener as (event: SocketMessageEvent) => void);
      else if (type === 'close')
        this.ws.addEventListener('close', listener as (event: SocketCloseEvent) => void);
      else this.ws.addEventListener('error', listener as () => void);
    }

    dropIncoming(predicate: (frame: Record<string, unknown>) => boolean): void {
      this.filters.push(predicate);
    }

    inject(frame: Record<string, unknown>): void {
      const text = JSON.stringify(frame);
      for (const listener of this.messageListeners) listener({ data: text });
    }

    private release(): void {
      if (this.released) return;
      this.released = true;
      live -= 1;
    }
  }
  return {
    WebSocket: Spied,
    sockets,
    get maxLive() {
      return maxLive;
    },
    get live() {
      return live;
    },
  };
}
