/**
 * Whether this node is saturated: the event-loop delay's p99 over the last window, from Node's own
 * sampler (perf_hooks.monitorEventLoopDelay, a libuv timer with no JavaScript per sample). The handshake
 * asks on every new connection; the histogram is read and reset at most once a window, so the question
 * costs a clock read. A blocked loop shows once it unblocks: the sample that waited is the delay.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/** How long one reading covers (ms): short enough to react within a storm, long enough for ~50 samples. */
export const LOOP_DELAY_WINDOW_MS = 500;

/** The sampler's resolution (ms). */
const RESOLUTION_MS = 10;

/** The event-loop delay check of admission control (`admissionLoopDelayMs`). */
export class LoopDelayMonitor {
  private histogram: IntervalHistogram | null = null;
  private readAt = 0;
  private p99Ms = 0;

  /** `thresholdMs` over which the node is saturated; 0 never samples and is never saturated. */
  constructor(
    private readonly thresholdMs: number,
    private readonly windowMs = LOOP_DELAY_WINDOW_MS,
  ) {}

  /** Start sampling (the server's start()). */
  start(now: number): void {
    if (this.thresholdMs <= 0 || this.histogram !== null) return;
    this.histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    this.histogram.enable();
    this.readAt = now;
  }

  /** Stop sampling. */
  stop(): void {
    this.histogram?.disable();
    this.histogram = null;
  }

  /** The p99 of the last complete window (ms). */
  get delayMs(): number {
    return this.p99Ms;
  }

  /** Whether the last window's p99 is over the threshold; reads a new window once the last is over. */
  saturated(now: number): boolean {
    const histogram = this.histogram;
    if (histogram === null) return false;
    if (now - this.readAt >= this.windowMs) {
      // The histogram is in nanoseconds; its count is 0 when no sample completed (the loop never turned).
      this.p99Ms = histogram.count === 0 ? now - this.readAt : histogram.percentile(99) / 1e6;
      histogram.reset();
      this.readAt = now;
    }
    return this.p99Ms > this.thresholdMs;
  }
}
