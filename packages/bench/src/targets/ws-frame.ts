/**
 * An unmasked, final WebSocket text frame (RFC 6455 §5.2), as a server sends it: the header and the
 * payload in one Buffer, so it can be written to any number of sockets unchanged. What
 * `WebSocket.Sender.frame(data, { fin: true, opcode: 1, mask: false, readOnly: true, rsv1: false })`
 * returns, joined, without reaching into ws's internals.
 */
export function textFrame(payload: Buffer): Buffer {
  const length = payload.length;
  const headerLength = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + length);
  frame[0] = 0x81; // FIN + opcode 1 (text)
  if (length < 126) {
    frame[1] = length;
  } else if (length < 65_536) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  payload.copy(frame, headerLength);
  return frame;
}
