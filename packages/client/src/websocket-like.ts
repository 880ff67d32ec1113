/**
 * The part of a WebSocket the client uses. Both the browser's `WebSocket` and the `ws` package's default
 * export satisfy it, so the SDK imports neither: browsers use the global, Node 20 passes `ws` in.
 */

/**
 * What a `message` event carries: a string for a text frame; for a binary one (the `msgpack` format) an
 * ArrayBuffer (`binaryType = 'arraybuffer'`, which the client sets) or a view (a Node Buffer).
 */
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
  /** Text for JSON; bytes (MessagePack) only on a socket whose handshake selected `switchboard.v1.msgpack`. */
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'message', listener: (event: SocketMessageEvent) => void): void;
  addEventListener(type: 'close', listener: (event: SocketCloseEvent) => void): void;
  addEventListener(type: 'error', listener: () => void): void;
}

/**
 * The `open` event, on which first-message authentication sends its `auth` frame (browsers and `ws` refuse
 * a send before it). Kept apart from {@link WebSocketLike} so that existing implementations of it stay
 * valid: a socket used with the `token` option and the `first-message` transport must emit `open`, as the
 * browser's `WebSocket` and `ws` do.
 */
export interface OpenEventTarget {
  addEventListener(type: 'open', listener: () => void): void;
}

/**
 * A WebSocket constructor: `globalThis.WebSocket` in browsers (and Node 22+), `ws` on Node 20. The client
 * passes `protocols` only with the `subprotocol` token transport.
 */
export type WebSocketConstructor = new (url: string, protocols?: string[]) => WebSocketLike;
