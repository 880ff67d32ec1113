/**
 * A Metrics implementation with some calls also counted elsewhere (guaranteed delivery's /stats counts,
 * the admin dashboard's snapshot), whatever the implementation underneath (Prometheus, Noop, yours).
 */
import type { Metrics } from './metrics.js';

/**
 * `base` with the members of `overrides` in place of its own (an override calls `base` itself). Every
 * other member is `base`'s own, bound once here: a plain object of bound functions, no proxy on the hot
 * paths.
 */
export function overlayMetrics(base: Metrics, overrides: Partial<Metrics>): Metrics {
  const out: Record<string, unknown> = {};
  const source = base as unknown as Record<string, unknown>;
  for (let proto: object | null = base; proto !== null && proto !== Object.prototype;) {
    for (const key of Object.getOwnPropertyNames(proto)) {
      if (key === 'constructor' || key in out) continue;
      const value = source[key];
      if (typeof value === 'function') out[key] = (value as (...args: unknown[]) => unknown).bind(base);
    }
    proto = Object.getPrototypeOf(proto) as object | null;
  }
  return Object.assign(out, overrides) as unknown as Metrics;
}
