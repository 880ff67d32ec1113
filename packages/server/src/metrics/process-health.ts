/**
 * What `/health` reports beyond "the process answers": degradation of this process, with reasons. The
 * event loop's delay (perf_hooks' monitorEventLoopDelay, p99 over a window of `eventLoopWindowMs`) and
 * memory (V8 heap used against the heap limit, and optionally RSS). Degraded is not down: /health still
 * answers 200, so that a liveness probe does not restart a process that is only busy (a restart would
 * move its load onto the other nodes at the worst moment); alert on `status`, and see /ready for traffic.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { IntervalHistogram } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { InvalidOptionError } from '../errors.js';
import type { Clock, TimerHandle } from '../util/clock.js';

/** Thresholds of {@link ProcessHealth}. */
export interface HealthOptions {
  /** Degraded while the event loop's p99 delay over the last window exceeds this (ms). Default 200. */
  readonly eventLoopDelayMs?: number;
  /** Length of the event-loop delay window (ms). Default 10 000. */
  readonly eventLoopWindowMs?: number;
  /** Degraded while the V8 heap used exceeds this fraction of its limit (0 < f <= 1). Default 0.9. */
  readonly heapFraction?: number;
  /** Degraded while the resident set size exceeds this (bytes); 0 turns the check off. Default 0. */
  readonly maxRssBytes?: number;
}

/** The defaults of {@link HealthOptions}. */
export const DEFAULT_HEALTH = {
  eventLoopDelayMs: 200,
  eventLoopWindowMs: 10_000,
  heapFraction: 0.9,
  maxRssBytes: 0,
} as const;

/** One reason for `degraded`. */
export interface HealthReason {
  /** `event_loop_delay` or `memory`. */
  readonly check: 'event_loop_delay' | 'memory';
  readonly message: string;
}

/** The /health document. */
export interface HealthReport {
  readonly status: 'ok' | 'degraded';
  readonly reasons: readonly HealthReason[];
  readonly eventLoop: { readonly p99Ms: number; readonly maxMs: number; readonly thresholdMs: number };
  readonly memory: {
    readonly heapUsedBytes: number;
    readonly heapLimitBytes: number;
    readonly heapFraction: number;
    readonly rssBytes: number;
  };
}

/** Watches the event loop and memory; {@link report} reads them. */
export class ProcessHealth {
  private readonly delayMs: number;
  private readonly windowMs: number;
  private readonly heapFraction: number;
  private readonly maxRss: number;
  private readonly histogram: IntervalHistogram;
  private timer: TimerHandle | null = null;
  /** p50, p99 and max of the last complete window (ms). */
  private last = { p50Ms: 0, p99Ms: 0, maxMs: 0 };

  constructor(
    options: HealthOptions,
    private readonly clock: Clock,
  ) {
    this.delayMs = positive(
      'health.eventLoopDelayMs',
      options.eventLoopDelayMs,
      DEFAULT_HEALTH.eventLoopDelayMs,
    );
    this.windowMs = positive(
      'health.eventLoopWindowMs',
      options.eventLoopWindowMs,
      DEFAULT_HEALTH.eventLoopWindowMs,
    );
    this.heapFraction = options.heapFraction ?? DEFAULT_HEALTH.heapFraction;
    if (!(this.heapFraction > 0 && this.heapFraction <= 1))
      throw new InvalidOptionError('health.heapFraction', this.heapFraction, 'a number over 0, at most 1');
    this.maxRss = options.maxRssBytes ?? DEFAULT_HEALTH.maxRssBytes;
    if (!(Number.isInteger(this.maxRss) && this.maxRss >= 0))
      throw new InvalidOptionError('health.maxRssBytes', this.maxRss, 'an integer >= 0 (0: no RSS check)');
    // 10 ms sampling: a finer one costs a timer wake-up per ms for a precision no threshold needs.
    this.histogram = monitorEventLoopDelay({ resolution: 10 });
  }

  /** Start watching (idempotent). */
  start(): void {
    if (this.timer !== null) return;
    this.histogram.enable();
    this.timer = this.clock.setInterval(() => this.rotate(), this.windowMs);
  }

  /** Stop watching (idempotent). */
  stop(): void {
    this.timer?.cancel();
    this.timer = null;
    this.histogram.disable();
  }

  /** The report now: the last complete window's event-loop delay, memory as it is. */
  report(): HealthReport {
    const reasons: HealthReason[] = [];
    const { p99Ms, maxMs } = this.last;
    if (p99Ms > this.delayMs)
      reasons.push({
        check: 'event_loop_delay',
        message: `event loop delay p99 ${p99Ms} ms over ${this.delayMs} ms`,
      });
    const { heapUsed, rss } = process.memoryUsage();
    const heapLimit = getHeapStatistics().heap_size_limit;
    const fraction = heapUsed / heapLimit;
    if (fraction > this.heapFraction)
      reasons.push({
        check: 'memory',
        message: `heap used ${pct(fraction)} of its limit, over ${pct(this.heapFraction)}`,
      });
    if (this.maxRss > 0 && rss > this.maxRss)
      reasons.push({ check: 'memory', message: `RSS ${rss} bytes over ${this.maxRss}` });
    return {
      status: reasons.length === 0 ? 'ok' : 'degraded',
      reasons,
      eventLoop: { p99Ms, maxMs, thresholdMs: this.delayMs },
      memory: {
        heapUsedBytes: heapUsed,
        heapLimitBytes: heapLimit,
        heapFraction: Math.round(fraction * 1000) / 1000,
        rssBytes: rss,
      },
    };
  }

  /** The event loop's delay over the last complete window (ms): the admin dashboard's figures. */
  eventLoopDelay(): { readonly p50Ms: number; readonly p99Ms: number; readonly maxMs: number } {
    return this.last;
  }

  /** Close a window: keep its figures, start the next one empty. */
  private rotate(): void {
    const h = this.histogram;
    // The histogram counts nanoseconds; an empty window (a stalled timer) keeps the previous figures.
    if (h.count > 0)
      this.last = { p50Ms: ms(h.percentile(50)), p99Ms: ms(h.percentile(99)), maxMs: ms(h.max) };
    h.reset();
  }
}

function positive(option: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!(Number.isFinite(v) && v > 0)) throw new InvalidOptionError(option, v, 'a number over 0');
  return v;
}

const ms = (ns: number): number => Math.round(ns / 1e4) / 100;
const pct = (f: number): string => `${Math.round(f * 1000) / 10}%`;
