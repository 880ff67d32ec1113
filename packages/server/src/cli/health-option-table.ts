/**
 * The `health.*` rows of the option table (when `/health` says `degraded`; docs/operations.md) and their
 * mapping to `createServer({ health })`.
 */
import { DEFAULT_HEALTH } from '../metrics/process-health.js';
import type { HealthOptions } from '../metrics/process-health.js';
import type { NumberOption, OptionSpec } from './option-spec.js';

/** The health options, in the order `--help` lists them. */
export const HEALTH_OPTIONS: readonly OptionSpec[] = [
  {
    type: 'number',
    name: 'health.eventLoopDelayMs',
    group: 'observability',
    flag: '--health-loop-delay-ms',
    env: 'SWITCHBOARD_HEALTH_LOOP_DELAY_MS',
    bounds: { min: 1, max: 600_000, integer: true },
    default: DEFAULT_HEALTH.eventLoopDelayMs,
    description:
      '`/health` says degraded while the event loop p99 delay over the last window exceeds this (ms).',
  },
  {
    type: 'number',
    name: 'health.eventLoopWindowMs',
    group: 'observability',
    flag: '--health-loop-window-ms',
    env: 'SWITCHBOARD_HEALTH_LOOP_WINDOW_MS',
    bounds: { min: 100, max: 3_600_000, integer: true },
    default: DEFAULT_HEALTH.eventLoopWindowMs,
    description: 'The window over which `/health` takes the event loop delay p99 (ms).',
  },
  {
    type: 'number',
    name: 'health.heapFraction',
    group: 'observability',
    flag: '--health-heap-fraction',
    env: 'SWITCHBOARD_HEALTH_HEAP_FRACTION',
    bounds: { min: 0.01, max: 1, integer: false },
    default: DEFAULT_HEALTH.heapFraction,
    description: '`/health` says degraded while the V8 heap used exceeds this fraction of its limit.',
  },
  {
    type: 'number',
    name: 'health.maxRssBytes',
    group: 'observability',
    flag: '--health-max-rss-bytes',
    env: 'SWITCHBOARD_HEALTH_MAX_RSS_BYTES',
    bounds: { min: 0, max: 1e15, integer: true },
    default: DEFAULT_HEALTH.maxRssBytes,
    description: '`/health` says degraded while the resident set size exceeds this (bytes); 0: no RSS check.',
  },
];

/**
 * Remove the `health.*` values from the parser's records and build the health option from the ones that
 * were given (`given`: the names set by a flag or a variable); undefined when none was.
 */
export function takeHealthOptions(
  numbers: Partial<Record<NumberOption['name'], number>>,
  given: { has(name: string): boolean },
): HealthOptions | undefined {
  const eventLoopDelayMs = numbers['health.eventLoopDelayMs'];
  const eventLoopWindowMs = numbers['health.eventLoopWindowMs'];
  const heapFraction = numbers['health.heapFraction'];
  const maxRssBytes = numbers['health.maxRssBytes'];
  delete numbers['health.eventLoopDelayMs'];
  delete numbers['health.eventLoopWindowMs'];
  delete numbers['health.heapFraction'];
  delete numbers['health.maxRssBytes'];
  const health: HealthOptions = {
    ...(given.has('health.eventLoopDelayMs') && eventLoopDelayMs !== undefined ? { eventLoopDelayMs } : {}),
    ...(given.has('health.eventLoopWindowMs') && eventLoopWindowMs !== undefined
      ? { eventLoopWindowMs }
      : {}),
    ...(given.has('health.heapFraction') && heapFraction !== undefined ? { heapFraction } : {}),
    ...(given.has('health.maxRssBytes') && maxRssBytes !== undefined ? { maxRssBytes } : {}),
  };
  return Object.keys(health).length === 0 ? undefined : health;
}
