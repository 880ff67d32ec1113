/**
 * A structural check of MessagePack bytes before anything is decoded (https://github.com/msgpack/msgpack/blob/master/spec.md).
 * It exists for two reasons:
 *
 * - **Memory.** A decoder builds an array of the announced length before reading its elements:
 *   `@msgpack/msgpack` 3.1 runs `new Array(size)`, which V8 backs with `size` slots at once. A 64 KiB
 *   frame of nested `array 16` headers (3 bytes each, 65,535 elements announced) would ask for
 *   21,845 x 512 KB and take the process down. Here every announced element still owed must fit in the
 *   bytes left (each takes at least one), so a frame can never announce more than its own length.
 * - **What protocol v1 carries.** JSON's types and `bin`: no extension types (the timestamp included),
 *   map keys that are strings, never the key `__proto__` (the decoder refuses it against prototype
 *   pollution; refused here, it gets a clear message).
 *
 * It also finds where each value ends, so several frames batched in one WebSocket message are read one
 * by one. Iterative: no depth can overflow the stack. Pure.
 */

/** Bytes of the string `__proto__`. */
const PROTO = [0x5f, 0x5f, 0x70, 0x72, 0x6f, 0x74, 0x6f, 0x5f, 0x5f];

/**
 * Where the MessagePack value starting at `start` ends (the offset after its last byte), or, as a
 * string, why the bytes are not one value protocol v1 accepts (truncated, an extension type, a map key
 * that is not a string, more elements announced than bytes left, ...). With `refuseProto` false the key
 * `__proto__` passes (a reader of several values finds where such a value ends, to skip just it).
 */
export function scanMsgpackValue(bytes: Uint8Array, start: number, refuseProto = true): number | string {
  const end = bytes.length;
  /** Per open array or map: the elements (a map: keys and values) still owed. */
  const owed: number[] = [];
  /** Per open container: whether it is a map (then an even count owed means a key comes next). */
  const maps: boolean[] = [];
  /** The sum of {@link owed}. */
  let pending = 0;
  let pos = start;
  do {
    if (pos >= end) return 'the MessagePack value is truncated';
    const top = owed.length - 1;
    const key = top >= 0 && maps[top] === true && (owed[top] ?? 0) % 2 === 0;
    if (top >= 0) {
      owed[top] = (owed[top] ?? 0) - 1;
      pending--;
    }
    const head = bytes[pos++] ?? 0;
    let skip = 0;
    let elements = -1;
    let map = false;
    if (key && !(head >= 0xa0 && head <= 0xbf) && head !== 0xd9 && head !== 0xda && head !== 0xdb)
      return 'a map key must be a string';
    if (head <= 0x7f || head >= 0xe0 || head === 0xc0 || head === 0xc2 || head === 0xc3) {
      // fixint, nil, false, true: the head is the value
    } else if (head <= 0x8f) {
      elements = head - 0x80;
      map = true;
    } else if (head <= 0x9f) {
      elements = head - 0x90;
    } else if (head <= 0xbf) {
      skip = head - 0xa0;
    } else if (head >= 0xca && head <= 0xd3) {
      skip = NUMBER_SIZE[head - 0xca] ?? 0;
    } else {
      const width = LENGTH_WIDTH[head - 0xc0] ?? 0;
      if (width === 0) {
        if (head === 0xc1) return 'the byte 0xc1 is never used in MessagePack';
        return 'MessagePack extension types are not allowed (only nil, bool, numbers, str, bin, array, map)';
      }
      if (pos + width > end) return 'the MessagePack value is truncated';
      let length = 0;
      for (let i = 0; i < width; i++) length = length * 256 + (bytes[pos + i] ?? 0);
      pos += width;
      if (head === 0xdc || head === 0xdd) elements = length;
      else if (head === 0xde || head === 0xdf) {
        elements = length;
        map = true;
      } else skip = length;
    }
    if (skip > 0) {
      if (pos + skip > end) return 'the MessagePack value is truncated';
      if (key && refuseProto && skip === PROTO.length && PROTO.every((b, i) => bytes[pos + i] === b))
        return 'the map key __proto__ is not allowed';
      pos += skip;
    }
    if (elements > 0) {
      const slots = map ? elements * 2 : elements;
      pending += slots;
      // Every element still owed takes at least one byte: announcing more than is left cannot be valid.
      if (pending > end - pos)
        return 'a MessagePack array or map announces more elements than the bytes hold';
      owed.push(slots);
      maps.push(map);
      continue;
    }
    while (owed.length > 0 && owed[owed.length - 1] === 0) {
      owed.pop();
      maps.pop();
    }
  } while (owed.length > 0);
  return pos;
}

/** The size of a number after its head byte: float 32 and 64, uint 8 to 64, int 8 to 64 (0xca-0xd3). */
const NUMBER_SIZE: readonly number[] = [4, 8, 1, 2, 4, 8, 1, 2, 4, 8];

/**
 * For each head byte from 0xc0 to 0xdf: the width of the length after it, for str, bin, array and map; 0
 * for the heads that have none here (nil, the never-used 0xc1, booleans and numbers are handled before;
 * the extension types are refused).
 */
// prettier-ignore
const LENGTH_WIDTH: readonly number[] = [
  0, 0, 0, 0, //    c0 nil, c1 never used, c2 false, c3 true
  1, 2, 4, //       c4-c6 bin 8/16/32
  0, 0, 0, //       c7-c9 ext 8/16/32
  0, 0, //          ca-cb float 32/64
  0, 0, 0, 0, //    cc-cf uint 8/16/32/64
  0, 0, 0, 0, //    d0-d3 int 8/16/32/64
  0, 0, 0, 0, 0, // d4-d8 fixext 1/2/4/8/16
  1, 2, 4, //       d9-db str 8/16/32
  2, 4, //          dc-dd array 16/32
  2, 4, //          de-df map 16/32
];
