/**
 * Switchboard's admission and rate limits meant for the internet, all off, for every Switchboard
 * target and micro-benchmark: every generator socket comes from a handful of loopback addresses, and a
 * fan-out publisher sends far more than a browser would. Option names as createServer takes them; the
 * CLI flags are their kebab-case forms ({@link admissionOffFlags}).
 */
export const ADMISSION_OFF = {
  connectionRate: 0,
  connectionRatePerIp: 0,
  maxConnectionsPerIp: 0,
  maxConnectionsPerUser: 0,
  messagesPerSecond: 0,
  bytesPerSecond: 0,
} as const;

/** {@link ADMISSION_OFF} as `switchboard` CLI flags and values. */
export function admissionOffFlags(): [string, number][] {
  return Object.entries(ADMISSION_OFF).map(([name, value]) => [
    `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`,
    value,
  ]);
}
