/**
 * Redelivery delays: "full jitter" exponential backoff
 * (https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/), the SDK's reconnect rule:
 * a delay drawn from 0 to a cap that starts at `minMs` and doubles per attempt up to `maxMs`. Pure.
 */

/** The delay before redelivery after `attempts` failed attempts (1 or more). `random` returns [0, 1). */
export function fullJitterDelay(
  attempts: number,
  minMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  // 2 ** 30 times any sane minimum is past any maximum: the exponent is capped before it overflows.
  const cap = Math.min(maxMs, minMs * 2 ** Math.min(30, Math.max(0, attempts - 1)));
  return Math.floor(random() * (cap + 1));
}
