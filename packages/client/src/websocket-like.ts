/**
 * The part of a WebSocket the client uses. Both the browser's `WebSocket` and the `ws` package's default
 * export satisfy it, so the SDK imports neither: browsers use the global, Node 20 passes `ws` in.
 */

/** What a `message` event carries: a string for text frames (the only kind protocol v1 uses). */
export interface SocketMessageEvent {
  readonly data: unknown;
}

/** What a `close` event carries. */
export interface SocketCloseEvent {
  readonly code: number;
  readonly reason: string;
}

/** A WebSocket as the client sees it. */
export interface WebSocketLike {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'message', listener: (event: SocketMessageEvent) => void): void;
  addEventListener(type: 'close', listener: (event: SocketCloseEvent) => void): void;
  addEventListener(type: 'error', listener: () => void): void;
}

/** A WebSocket constructor: `globalThis.WebSocket` in browsers (and Node 22+), `ws` on Node 20. */
export type WebSocketConstructor = new (url: string) => WebSocketLike;
