/**
 * Latency of chat traffic in one-second windows (failover scenario): every second the chat fleets'
 * counters are taken and reset, and the surviving nodes' event-loop lag read from their /metrics, so that
 * the windows before, during and after a storm can be told apart afterwards.
 */
import type { Fleet } from '../run/fleet.js';
import { sampleSum } from '../run/nodes.js';
import type { SwitchboardNode } from '../run/nodes.js';
import { Histogram } from '../stats/histogram.js';
import type { HistogramSnapshot } from '../stats/histogram.js';

/** One window's figures. */
export interface LatencyWindow {
  /** When it started and ended (epoch ms). */
  readonly start: number;
  readonly end: number;
  readonly latency: HistogramSnapshot;
  readonly received: number;
  readonly published: number;
  /** The worst surviving node's event-loop lag over the window (p99 and max, ms; NaN if unread). */
  readonly loopP99Ms: number;
  readonly loopMaxMs: number;
}

/** The phase a window belongs to, given when the storm began and ended. */
export function phaseOf(
  window: { start: number; end: number },
  from: number,
  to: number,
): 'before' | 'storm' | 'after' {
  if (window.end <= from) return 'before';
  if (window.start >= to) return 'after';
  return 'storm';
}

/** The merged latency (ms) and the worst loop lag of `windows`. */
export function summarizeWindows(windows: readonly LatencyWindow[]): {
  p50: number;
  p99: number;
  max: number;
  count: number;
  loopP99Ms: number;
} {
  const histogram = new Histogram();
  for (const w of windows) histogram.merge(w.latency);
  const loops = windows.map((w) => w.loopP99Ms).filter((v) => v === v);
  return {
    p50: histogram.percentile(50) / 1000,
    p99: histogram.percentile(99) / 1000,
    max: histogram.percentile(100) / 1000,
    count: histogram.count,
    loopP99Ms: loops.length === 0 ? NaN : Math.max(...loops),
  };
}

/** Takes a window every second until stopped. */
export class WindowSampler {
  private readonly windows: LatencyWindow[] = [];
  private running = true;
  private readonly loop: Promise<void>;
  /** Why sampling stopped early (a generator or node gone), if it did. */
  failure: string | null = null;

  constructor(
    private readonly fleets: readonly Fleet[],
    private readonly nodes: readonly SwitchboardNode[],
    windowMs = 1000,
  ) {
    this.loop = this.sample(windowMs).catch((error: unknown) => {
      this.failure = error instanceof Error ? error.message : String(error);
    });
  }

  private async sample(windowMs: number): Promise<void> {
    let start = Date.now();
    await Promise.all(this.fleets.map((f) => f.counters(true, false)));
    await Promise.all(this.nodes.map((n) => n.metrics().catch(() => null)));
    while (this.running) {
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, start + windowMs - Date.now())));
      const counters = await Promise.all(this.fleets.map((f) => f.counters(true, true)));
      const end = Date.now();
      const samples = await Promise.all(this.nodes.map((n) => n.metrics().catch(() => null)));
      const latency = new Histogram();
      for (const c of counters) if (c.latency !== null) latency.merge(c.latency);
      const lag = (name: string): number => {
        const values = samples.flatMap((s) => (s === null ? [] : [sampleSum(s, name) * 1000]));
        return values.length === 0 ? NaN : Math.max(...values);
      };
      this.windows.push({
        start,
        end,
        latency: latency.snapshot(),
        received: counters.reduce((a, c) => a + c.received, 0),
        published: counters.reduce((a, c) => a + c.published, 0),
        loopP99Ms: lag('switchboard_nodejs_eventloop_lag_p99_seconds'),
        loopMaxMs: lag('switchboard_nodejs_eventloop_lag_max_seconds'),
      });
      start = end;
    }
  }

  /** Resolves once `count` windows were taken (or sampling stopped), at most `timeoutMs` from now. */
  async until(count: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.windows.length < count && this.running && this.failure === null && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Windows so far. */
  get taken(): readonly LatencyWindow[] {
    return this.windows;
  }

  /** Stop after the current window; every window taken. */
  async stop(): Promise<readonly LatencyWindow[]> {
    this.running = false;
    await this.loop;
    return this.windows;
  }
}
