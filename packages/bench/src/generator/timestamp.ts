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
  return readNumberAfter(frame, MARKER);
}

/** The number right after the first `marker` (e.g. `"id":`) at or after `from` in `frame`, or NaN. */
export function readNumberAfter(frame: Buffer, marker: Buffer, from = 0): number {
  const at = frame.indexOf(marker, from);
  if (at < 0) return NaN;
  const start = at + marker.length;
  let end = start;
  while (end < frame.length) {
    const c = frame[end] ?? 0;
    // digits, '.', '-', 'e', '+'
    if ((c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x2d || c === 0x65 || c === 0x2b) end++;
    else break;
  }
  return end === start ? NaN : Number(frame.toString('latin1', start, end));
}

const SYMBOLS = [
  'AAPL',
  'MSFT',
  'GOOG',
  'AMZN',
  'NVDA',
  'META',
  'TSLA',
  'AMD',
  'INTC',
  'NFLX',
  'ORCL',
  'IBM',
];

/**
 * The payload of message number `seq` as a market-data tick: `{"ts":..,"n":..,"quotes":[{"symbol":..,
 * "price":..,"bid":..,"ask":..,"volume":..,"change":..,"time":..}, ...]}`, rows added until it is about
 * `bytes` long. Keys repeat as in any feed; prices and volumes vary, so deflate does no better than on
 * real traffic (a padded payload would shrink to almost nothing).
 */
export function tickerPayload(seq: number, bytes: number): string {
  const time = Math.round(nowMs());
  let out = `{"ts":${nowMs()},"n":${seq},"quotes":[`;
  for (let i = 0; out.length < bytes - 2; i++) {
    const price = 50 + Math.random() * 400;
    const spread = Math.random() * 0.1;
    out +=
      `${i === 0 ? '' : ','}{"symbol":"${SYMBOLS[(seq + i) % SYMBOLS.length] ?? ''}","price":${price.toFixed(2)},` +
      `"bid":${(price - spread).toFixed(2)},"ask":${(price + spread).toFixed(2)},` +
      `"volume":${Math.floor(Math.random() * 5_000_000)},"change":${(Math.random() * 4 - 2).toFixed(2)},"time":${time + i}}`;
  }
  return `${out}]}`;
}
