/**
 * Bytes inside payloads, and their JSON form. MessagePack carries a `Uint8Array` as `bin`; JSON has no
 * bytes, so a JSON party (a JSON client, the HTTP API, history, the broker, webhooks) sees the same value
 * as the tagged object `{"$base64": "<standard base64>"}`. The mapping goes both ways: an object of
 * exactly that shape (one key, canonical base64) reaches MessagePack clients as bytes, whoever sent it.
 * Pure: no Buffer, no atob, so it runs in browsers as it does in Node.
 */

/** The one key of the JSON form of bytes: `{"$base64": "AAEC"}` is the bytes 0, 1, 2. */
export const BINARY_TAG = '$base64';

/** The JSON form of bytes (see {@link BINARY_TAG}). */
export interface BinaryTag {
  readonly [BINARY_TAG]: string;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
/** Character code to 6-bit value, -1 for a character outside the alphabet. */
const VALUES = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) VALUES[ALPHABET.charCodeAt(i)] = i;
const PAD = 0x3d; // '='
/** Characters per String.fromCharCode call: well under any engine's argument limit. */
const CHUNK = 0x2000;

/** `bytes` as standard base64 (RFC 4648 section 4), padded. */
export function toBase64(bytes: Uint8Array): string {
  const length = bytes.length;
  const codes = new Uint16Array(Math.ceil(length / 3) * 4);
  let out = 0;
  let i = 0;
  for (; i + 2 < length; i += 3) {
    const n = ((bytes[i] ?? 0) << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    codes[out++] = ALPHABET.charCodeAt(n >>> 18);
    codes[out++] = ALPHABET.charCodeAt((n >>> 12) & 63);
    codes[out++] = ALPHABET.charCodeAt((n >>> 6) & 63);
    codes[out++] = ALPHABET.charCodeAt(n & 63);
  }
  if (i < length) {
    const two = i + 1 < length;
    const n = ((bytes[i] ?? 0) << 16) | (two ? (bytes[i + 1] ?? 0) << 8 : 0);
    codes[out++] = ALPHABET.charCodeAt(n >>> 18);
    codes[out++] = ALPHABET.charCodeAt((n >>> 12) & 63);
    codes[out] = two ? ALPHABET.charCodeAt((n >>> 6) & 63) : PAD;
    codes[out + 1] = PAD;
  }
  let text = '';
  for (let at = 0; at < codes.length; at += CHUNK)
    text += String.fromCharCode(...codes.subarray(at, at + CHUNK));
  return text;
}

/**
 * The bytes of `text` when it is canonical standard base64 (the only spelling {@link toBase64} writes:
 * the RFC 4648 alphabet, `=` padding to a multiple of 4, unused bits zero), else null. Strict, so that a
 * value travels JSON -> MessagePack -> JSON unchanged, character for character.
 */
export function fromBase64(text: string): Uint8Array | null {
  const length = text.length;
  if (length % 4 !== 0) return null;
  const pad =
    length === 0 ? 0 : text.charCodeAt(length - 1) !== PAD ? 0 : text.charCodeAt(length - 2) === PAD ? 2 : 1;
  const bytes = new Uint8Array((length / 4) * 3 - pad);
  let out = 0;
  for (let i = 0; i < length; i += 4) {
    const last = i + 4 === length;
    const a = value(text, i);
    const b = value(text, i + 1);
    const c = last && pad === 2 ? 0 : value(text, i + 2);
    const d = last && pad >= 1 ? 0 : value(text, i + 3);
    if ((a | b | c | d) < 0) return null;
    const n = (a << 18) | (b << 12) | (c << 6) | d;
    bytes[out++] = n >>> 16;
    if (out < bytes.length) bytes[out++] = (n >>> 8) & 255;
    else if (((n >>> 8) & 255) !== 0) return null;
    if (out < bytes.length) bytes[out++] = n & 255;
    else if ((n & 255) !== 0) return null;
  }
  return bytes;
}

/** The 6-bit value of the character at `at`, or -1. */
function value(text: string, at: number): number {
  const code = text.charCodeAt(at);
  return code < 128 ? (VALUES[code] ?? -1) : -1;
}

/** The JSON form of `bytes`. */
export function binaryTag(bytes: Uint8Array): BinaryTag {
  return { [BINARY_TAG]: toBase64(bytes) };
}

/**
 * The bytes `value` stands for when it is the JSON form of bytes (an object whose only own key is
 * {@link BINARY_TAG}, holding canonical base64), else null. A JSON client can use it to read what a
 * MessagePack client published as bytes.
 */
export function bytesOfTag(value: unknown): Uint8Array | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const text = (value as Record<string, unknown>)[BINARY_TAG];
  if (typeof text !== 'string' || !Object.hasOwn(value, BINARY_TAG)) return null;
  let keys = 0;
  for (const key in value) if (Object.hasOwn(value, key) && ++keys > 1) return null;
  return fromBase64(text);
}

/**
 * Replace, in place, every `Uint8Array` in `value` with its JSON form, down to `maxDepth` levels (a
 * deeper one is left: the depth check refuses the value anyway). Returns the value, or the tag when
 * `value` itself is bytes. For a freshly decoded MessagePack value the caller owns. Iterative.
 */
export function tagBinary(value: unknown, maxDepth: number): unknown {
  if (value instanceof Uint8Array) return binaryTag(value);
  walk(value, maxDepth, (child) => (child instanceof Uint8Array ? binaryTag(child) : undefined));
  return value;
}

/**
 * Replace, in place, every JSON form of bytes in `value` with a `Uint8Array`, down to `maxDepth` levels.
 * Returns the value, or the bytes when `value` itself is a tag. For a freshly parsed JSON value the
 * caller owns. Iterative.
 */
export function untagBinary(value: unknown, maxDepth: number): unknown {
  const root = bytesOfTag(value);
  if (root !== null) return root;
  walk(value, maxDepth, (child) => bytesOfTag(child) ?? undefined);
  return value;
}

/** The attributes of a property as an assignment or JSON.parse creates it. */
const OWN = { writable: true, enumerable: true, configurable: true } as const;

/**
 * Visit every array element and own property value of `value`'s arrays and plain objects, down to
 * `maxDepth` levels; where `replace` returns something, store it instead (and do not descend into it).
 */
function walk(value: unknown, maxDepth: number, replace: (child: unknown) => unknown): void {
  if (typeof value !== 'object' || value === null || value instanceof Uint8Array) return;
  const nodes: object[] = [value];
  const depths: number[] = [1];
  for (;;) {
    const node = nodes.pop();
    const depth = depths.pop();
    if (node === undefined || depth === undefined) return;
    if (Array.isArray(node)) {
      const array = node as unknown[];
      for (let i = 0; i < array.length; i++) {
        const child = array[i];
        if (typeof child !== 'object' || child === null) continue;
        const replaced = replace(child);
        if (replaced !== undefined) array[i] = replaced;
        else if (depth < maxDepth) {
          nodes.push(child);
          depths.push(depth + 1);
        }
      }
      continue;
    }
    const record = node as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      const child = record[key];
      if (typeof child !== 'object' || child === null) continue;
      const replaced = replace(child);
      // A JSON.parse'd object may own a "__proto__" key: an assignment would set its prototype instead.
      if (replaced !== undefined) Object.defineProperty(record, key, { ...OWN, value: replaced });
      else if (depth < maxDepth) {
        nodes.push(child);
        depths.push(depth + 1);
      }
    }
  }
}
