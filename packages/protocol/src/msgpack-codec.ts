/**
 * Protocol v1 in MessagePack (the subprotocol `switchboard.v1.msgpack`, docs/protocol.md#messagepack):
 * the same frames as JSON, with bytes (`Uint8Array`) allowed in payloads. Every rule of the JSON codec
 * holds, with the same codes, because a decoded frame goes through the same `validateCommand`; what
 * MessagePack adds is checked by msgpack-scan.ts before anything is decoded.
 *
 * Inside the server a payload stays JSON (history, the broker, webhooks, JSON clients and the HTTP API
 * all speak it): bytes travel as their JSON form, `{"$base64": ...}` (binary-data.ts), tagged on the way
 * in and untagged on the way out to a MessagePack client.
 */
import { Decoder, Encoder } from '@msgpack/msgpack';
import type { ExtensionCodecType } from '@msgpack/msgpack';
import { BINARY_TAG, binaryTag, tagBinary, untagBinary } from './binary-data.js';
import { DEFAULT_MAX_DATA_DEPTH, errorPayload, validateCommand } from './codec.js';
import type { DecodeOptions, DecodeResult } from './codec.js';
import { ErrorCode } from './codes.js';
import type { ClientCommand, ServerFrame } from './frames.js';
import { scanMsgpackValue } from './msgpack-scan.js';

/**
 * No extension types either way: the timestamp extension, which `@msgpack/msgpack` registers by default
 * (a `Date` would go out as one, and one would come back as a `Date`), has no JSON form. Decoding one
 * never happens (msgpack-scan.ts refuses them first); the throw is the backstop.
 */
const NO_EXTENSIONS: ExtensionCodecType<undefined> = {
  tryToEncode: () => null,
  decode: (_data, type) => {
    throw new Error(`MessagePack extension type ${type} is not allowed`);
  },
};

/** Map keys must be strings (msgpack-scan.ts checks it first; this is the backstop). */
function stringKey(key: unknown): string {
  if (typeof key !== 'string') throw new Error('a map key must be a string');
  return key;
}

/**
 * Deeper than any frame the server writes: a payload is at most 64 levels (`DEFAULT_MAX_DATA_DEPTH`),
 * inside at most a few levels of frame (a `history` reply: reply, result, messages, message, data).
 */
const MAX_ENCODE_DEPTH = 512;

// One encoder and one decoder for the process (or page): the encoder keeps its buffer between calls, so
// a frame costs no allocation but its result. Both are safe to call from inside a call (they clone).
const encoder = new Encoder({ extensionCodec: NO_EXTENSIONS, maxDepth: MAX_ENCODE_DEPTH });
const decoder = new Decoder({ extensionCodec: NO_EXTENSIONS, mapKeyConverter: stringKey });

/** The walks over payloads go this deep at most (encoding is bounded by {@link MAX_ENCODE_DEPTH}). */
const MAX_WALK_DEPTH = MAX_ENCODE_DEPTH;

function invalid(message: string): DecodeResult {
  return { ok: false, error: errorPayload(ErrorCode.InvalidJson, message) };
}

/**
 * Decode and validate one binary frame from a client: exactly one MessagePack value, a map, that
 * `validateCommand` accepts. Bytes in `data` come back in their JSON form (`{"$base64": ...}`), so the
 * command is the one a JSON client would have sent for the same payload. Never throws. What JSON calls
 * `invalid_json` (not a value of the format, or bytes after it) is `invalid_json` here too.
 */
export function decodeCommandMsgpack(bytes: Uint8Array, options: DecodeOptions = {}): DecodeResult {
  const end = scanMsgpackValue(bytes, 0);
  if (typeof end === 'string') return invalid(`frame is not valid MessagePack: ${end}`);
  if (end !== bytes.length)
    return invalid('frame holds bytes after its MessagePack value (one frame per WebSocket message)');
  let value: unknown;
  try {
    value = decoder.decode(bytes);
  } catch {
    return invalid('frame is not valid MessagePack');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array)
    return { ok: false, error: errorPayload(ErrorCode.InvalidFrame, 'frame must be a MessagePack map') };
  const record = value as Record<string, unknown>;
  if (record['data'] !== undefined)
    record['data'] = tagBinary(record['data'], options.maxDataDepth ?? DEFAULT_MAX_DATA_DEPTH);
  return validateCommand(record, options);
}

/**
 * A JSON text (one frame the server rendered as JSON) as MessagePack: the JSON forms of bytes become
 * `bin`. Called once per frame and format, never per recipient.
 */
export function msgpackFromJson(text: string): Uint8Array {
  const value: unknown = JSON.parse(text);
  // Most frames hold no bytes: one scan of the text spares the walk over the value.
  return encoder.encode(text.includes(TAG_MARK) ? untagBinary(value, MAX_WALK_DEPTH) : value);
}

/** What the JSON of a frame holding the JSON form of bytes contains. */
const TAG_MARK = JSON.stringify(BINARY_TAG);

/**
 * Encode a server frame in MessagePack. The frame is taken as JSON would take it (`toJSON`, `undefined`
 * dropped), so both formats carry the same values; then bytes in their JSON form become `bin`.
 */
export function encodeServerFrameMsgpack(frame: ServerFrame): Uint8Array {
  return msgpackFromJson(JSON.stringify(frame));
}

/**
 * Encode a client command in MessagePack: a `Uint8Array` anywhere in it is sent as `bin`, everything
 * else as JSON would send it (`toJSON`, a `Date` as its ISO string, `undefined` members dropped), so a
 * JSON subscriber sees what it would have seen from a JSON publisher. Throws what JSON.stringify throws
 * (a cycle, a BigInt).
 */
export function encodeCommandMsgpack(command: ClientCommand): Uint8Array {
  const text = JSON.stringify(command, bytesAsTags);
  return msgpackFromJson(text);
}

/** A JSON.stringify replacer that writes a `Uint8Array` as its JSON form (before any `toJSON`: a Buffer's). */
function bytesAsTags(this: unknown, key: string, value: unknown): unknown {
  const raw = (this as Record<string, unknown>)[key];
  return raw instanceof Uint8Array ? binaryTag(raw) : value;
}

/**
 * The frames of one binary WebSocket message from the server (client side): one, or several batched
 * (`?batch=1`) as consecutive MessagePack values. A value that is not an object with a string `type`
 * is skipped, as one the decoder refuses (a payload holding the key `__proto__`); bytes that are not
 * MessagePack end the message. Bytes in payloads are `Uint8Array` views into `data`.
 */
export function decodeServerFramesMsgpack(data: Uint8Array): ServerFrame[] {
  // A subclass (a Node Buffer) would make every payload's bytes one too: plain Uint8Array views instead.
  const bytes =
    data.constructor === Uint8Array ? data : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const frames: ServerFrame[] = [];
  let at = 0;
  while (at < bytes.length) {
    const end = scanMsgpackValue(bytes, at, false);
    if (typeof end === 'string') break;
    let value: unknown;
    try {
      value = decoder.decode(bytes.subarray(at, end));
    } catch {
      value = null;
    }
    at = end;
    if (
      typeof value === 'object' &&
      value !== null &&
      !Array.isArray(value) &&
      typeof (value as Record<string, unknown>)['type'] === 'string'
    )
      frames.push(value as ServerFrame);
  }
  return frames;
}
