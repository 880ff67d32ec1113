/**
 * The wire format of a client's connection (the `format` option): the subprotocols an attempt offers,
 * how a command is encoded on the socket it got, and how a message from the server is read. The format
 * in use is the one the server selected (docs/protocol.md#messagepack): a client asking for MessagePack
 * offers JSON too, so an older server answers in JSON and the client follows; the HTTP transports (SSE,
 * long polling) always speak JSON.
 */
import {
  JSON_SUBPROTOCOL,
  MSGPACK_SUBPROTOCOL,
  decodeServerFrame,
  decodeServerFramesMsgpack,
  encodeCommand,
  encodeCommandMsgpack,
  splitFrames,
} from '@switchboard/protocol';
import type { ClientCommand, FrameEncoding, ServerFrame } from '@switchboard/protocol';
import type { WebSocketLike } from './websocket-like.js';

/** The `format` option: JSON text frames, or MessagePack binary frames (`Uint8Array` in payloads). */
export type WireFormat = FrameEncoding;

/**
 * The subprotocols an attempt offers for `format`, given those the credentials need (`auth`: undefined,
 * or `switchboard.v1` and a bearer). MessagePack comes first, the server's pick when it speaks it.
 */
export function offeredProtocols(format: WireFormat, auth: string[] | undefined): string[] | undefined {
  if (format === 'json') return auth;
  return [MSGPACK_SUBPROTOCOL, ...(auth ?? [JSON_SUBPROTOCOL])];
}

/** Whether `protocols` asks for MessagePack (then binary messages must be readable: `arraybuffer`). */
export function wantsMsgpack(protocols: readonly string[] | undefined): boolean {
  return protocols?.includes(MSGPACK_SUBPROTOCOL) === true;
}

/** The format `socket` speaks: MessagePack when its handshake selected it, else JSON (HTTP sockets too). */
export function socketFormat(socket: WebSocketLike): WireFormat {
  return (socket as { readonly protocol?: unknown }).protocol === MSGPACK_SUBPROTOCOL ? 'msgpack' : 'json';
}

/** `command` encoded for `socket`: a JSON text, or MessagePack bytes. Throws what JSON.stringify throws. */
export function encodeFor(socket: WebSocketLike, command: ClientCommand): string | Uint8Array {
  return socketFormat(socket) === 'msgpack' ? encodeCommandMsgpack(command) : encodeCommand(command);
}

/**
 * The frames of one message from the server: a text message holds JSON (one frame, or several separated
 * by newlines), a binary one MessagePack (one value, or several back to back). Whatever cannot be read
 * is left out; a Blob (a socket that ignored `binaryType`) cannot be read synchronously and gives none.
 */
export function framesOf(data: unknown): ServerFrame[] {
  if (typeof data === 'string') {
    const frames: ServerFrame[] = [];
    for (const text of splitFrames(data)) {
      const frame = decodeServerFrame(text);
      if (frame !== null) frames.push(frame);
    }
    return frames;
  }
  if (data instanceof ArrayBuffer) return decodeServerFramesMsgpack(new Uint8Array(data));
  if (ArrayBuffer.isView(data))
    return decodeServerFramesMsgpack(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  return [];
}
