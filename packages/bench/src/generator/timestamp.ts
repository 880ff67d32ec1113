/**
 * The send time carried by every benchmark message: `"ts":<ms since the epoch, fractional>` inside the
 * payload, read back without parsing the frame.
 */

const MARKER = Buffer.from('"ts":');

/** Now, in fractional milliseconds since the epoch, comparable across processes of this machine. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** The payload of message number `seq`: `{"ts":..,"n":..,"p":"xx.."}`, padded to about `bytes`. */
export function payload(seq: number, bytes: number, padding: string): string {
  const head = `{"ts":${nowMs()},"n":${seq},"p":"`;
  return head + padding.slice(0, Math.max(0, bytes - head.length - 2)) + '"}';
}

/** The `"ts"` value in `frame`, or NaN when it has none. */
export function readTimestamp(frame: Buffer): number {
  const at = frame.indexOf(MARKER);
  if (at < 0) return NaN;
  const start = at + MARKER.length;
  let end = start;
  while (end < frame.length) {
    const c = frame[end] ?? 0;
    // digits, '.', '-', 'e', '+'
    if ((c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x2d || c === 0x65 || c === 0x2b) end++;
    else break;
  }
  return end === start ? NaN : Number(frame.toString('latin1', start, end));
}
