/**
 * Switchboard's admission and rate limits meant for the internet, all off, for every Switchboard
 * target and micro-benchmark: every generator socket comes from a handful of loopback addresses, and a
 * fan-out publisher sends far more than a browser would. The options are the server's own
 * `ADMISSION_LIMITS_OFF`; the CLI flags are their kebab-case forms ({@link admissionOffFlags}).
 */
import { ADMISSION_LIMITS_OFF } from '@switchboard/server';

export const ADMISSION_OFF = ADMISSION_LIMITS_OFF;

/** {@link ADMISSION_OFF} as `switchboard` CLI flags and values. */
export function admissionOffFlags(): [string, number][] {
  return Object.entries(ADMISSION_OFF).map(([name, value]) => [
    `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`,
    value,
  ]);
}
