/**
 * WebSocket framing of server frames (RFC 6455, section 5.2), for writing one frame to many sockets.
 * Pure: no I/O and no ws internals.
 */

/** Payloads up to this length fit the 7-bit length field. */
const MAX_7BIT = 125;
/** Payloads up to this length fit the 16-bit extended length field. */
const MAX_16BIT = 0xffff;
const TWO_TO_32 = 0x1_0000_0000;

/**
 * The complete, final, unmasked text frame a server sends for `payload` (UTF-8 JSON): FIN + opcode 1
 * (`0x81`), a 7-, 16- or 64-bit payload length, then the payload, in one Buffer. Byte for byte what ws's
 * Sender writes for `ws.send(payload, { binary: false })` without permessage-deflate (it writes the
 * header and the payload as two chunks); built once per fan-out, it can be written to every recipient's
 * socket unchanged. The payload is copied once, so that each recipient costs one write, not two.
 */
export function frameText(payload: Buffer): Buffer {
  return frameMessage(payload, false);
}

/**
 * {@link frameText}, or with `binary` the binary frame (FIN + opcode 2, `0x82`) of a MessagePack
 * payload: what ws writes for `ws.send(payload, { binary: true })`.
 */
export function frameMessage(payload: Buffer, binary: boolean): Buffer {
  return frame(binary ? 0x82 : 0x81, payload);
}

/**
 * The frame of a message compressed by permessage-deflate (RFC 7692): as {@link frameMessage}, with
 * RSV1 set (`0xc1` text, `0xc2` binary), which says "compressed" to a connection that negotiated the
 * extension. RSV1 goes on the first frame of a message whatever its opcode (RFC 7692, section 6).
 */
export function frameDeflated(compressed: Buffer, binary: boolean): Buffer {
  return frame(binary ? 0xc2 : 0xc1, compressed);
}

function frame(first: number, payload: Buffer): Buffer {
  const length = payload.length;
  const header = length <= MAX_7BIT ? 2 : length <= MAX_16BIT ? 4 : 10;
  const out = Buffer.allocUnsafe(header + length);
  out[0] = first;
  if (length <= MAX_7BIT) {
    out[1] = length;
  } else if (length <= MAX_16BIT) {
    out[1] = 126;
    out.writeUInt16BE(length, 2);
  } else {
    out[1] = 127;
    // A 64-bit big-endian length; the high word stays 0 below 4 GiB. No BigInt on the hot path.
    out.writeUInt32BE(Math.floor(length / TWO_TO_32), 2);
    out.writeUInt32BE(length % TWO_TO_32, 6);
  }
  payload.copy(out, header);
  return out;
}
