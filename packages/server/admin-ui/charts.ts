/**
 * A time-series chart card on uPlot (docs/architecture.md says why uPlot): canvas lines that redraw in
 * well under a millisecond per update, sized to their card, coloured from the page's CSS variables so
 * light and dark schemes both read well. The legend is the page's own (latest value per line, or the
 * values under the cursor), built with text nodes like everything else.
 */
import uPlot from 'uplot';
import { h, replace } from './dom.js';
import { formatClock } from './format.js';
import type { AlignedSeries } from './series.js';

/** One line of a chart. */
export interface ChartLine {
  readonly label: string;
  /** A CSS colour (the palette's `var(--series-n)` values are resolved at draw time). */
  readonly color: string;
}

/** What a chart shows. */
export interface ChartOptions {
  readonly title: string;
  /** One line under the title (what is summed, what the unit is). */
  readonly subtitle?: string;
  /** How a value reads on the axis and in the legend. */
  readonly format: (value: number) => string;
  /** Whole numbers only (counts): the value axis never ticks at 0.5. Default false. */
  readonly integer?: boolean;
  readonly lines: readonly ChartLine[];
  readonly height?: number;
  /** A `data-chart` name for tests and styling. */
  readonly key: string;
}

/** The palette, in order: CSS variables defined by admin.css for both colour schemes. */
export const PALETTE = ['--series-1', '--series-2', '--series-3', '--series-4', '--series-5', '--series-6'];

/** A colour of the palette, cycling. */
export function paletteColor(index: number): string {
  return `var(${PALETTE[index % PALETTE.length] ?? '--series-1'})`;
}

/** 1, 2, 5, 10, 20, 50, ... */
const WHOLE_STEPS = Array.from({ length: 10 }, (_, e) => [1, 2, 5].map((m) => m * 10 ** e)).flat();

/** Time-axis steps in seconds, never under one: ticks every few hundred ms would repeat the same label. */
const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21_600, 43_200, 86_400];

/** The computed value of `color` when it is a `var(--x)`, for the canvas (which knows no variables). */
function resolve(color: string): string {
  const variable = /^var\((--[\w-]+)\)$/.exec(color)?.[1];
  if (variable === undefined) return color;
  return getComputedStyle(document.documentElement).getPropertyValue(variable).trim() || '#888';
}

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

/** A chart card that keeps its uPlot instance across updates and recreates it when the lines change. */
export class TimeChart {
  /** The card element, to put in the page. */
  readonly element: HTMLElement;
  private readonly plotHost: HTMLElement;
  private readonly legend: HTMLElement;
  private readonly waiting: HTMLElement;
  private plot: uPlot | null = null;
  private lines: readonly ChartLine[];
  private data: AlignedSeries = { x: [], ys: [] };
  private readonly resizer: ResizeObserver;
  private hovered: number | null = null;

  constructor(private readonly options: ChartOptions) {
    this.lines = options.lines;
    this.plotHost = h('div', { class: 'chart-plot' });
    this.legend = h('div', { class: 'chart-legend' });
    this.waiting = h('p', { class: 'chart-waiting' }, 'Waiting for data…');
    this.element = h(
      'section',
      { class: 'card chart-card', data: { chart: options.key } },
      h(
        'header',
        { class: 'card-head' },
        h(
          'div',
          { class: 'card-titles' },
          h('h2', null, options.title),
          options.subtitle === undefined ? null : h('p', { class: 'card-sub' }, options.subtitle),
        ),
      ),
      this.legend,
      h('div', { class: 'chart-frame' }, this.plotHost, this.waiting),
    );
    this.resizer = new ResizeObserver(() => this.resize());
    this.resizer.observe(this.plotHost);
  }

  /** Replace the lines (a node joined or left): the plot is rebuilt on the next `setData`. */
  setLines(lines: readonly ChartLine[]): void {
    const same =
      lines.length === this.lines.length && lines.every((l, i) => l.label === this.lines[i]?.label);
    if (same) return;
    this.lines = lines;
    this.plot?.destroy();
    this.plot = null;
  }

  /** Draw `series` (x in seconds, one array per line). */
  setData(series: AlignedSeries): void {
    this.data = series;
    this.waiting.hidden = series.x.length >= 2;
    this.element.dataset['points'] = String(series.x.length);
    const data = [series.x, ...this.lines.map((_, i) => series.ys[i] ?? [])] as uPlot.AlignedData;
    if (this.plot === null) this.create(data);
    else this.plot.setData(data);
    this.renderLegend();
  }

  /** Rebuild with the current colours (the colour scheme changed). */
  restyle(): void {
    this.plot?.destroy();
    this.plot = null;
    this.setData(this.data);
  }

  private size(): { width: number; height: number } {
    return { width: Math.max(200, this.plotHost.clientWidth), height: this.options.height ?? 170 };
  }

  private resize(): void {
    if (this.plot === null || this.plotHost.clientWidth === 0) return;
    const { width, height } = this.size();
    if (width !== this.plot.width || height !== this.plot.height) this.plot.setSize({ width, height });
  }

  private create(data: uPlot.AlignedData): void {
    const axisColor = cssVar('--chart-axis') || '#888';
    const gridColor = cssVar('--chart-grid') || 'rgba(128,128,128,0.15)';
    const font = `11px ${cssVar('--font-ui') || 'system-ui, sans-serif'}`;
    const format = this.options.format;
    const axis = (extra: Partial<uPlot.Axis>): uPlot.Axis => ({
      stroke: axisColor,
      font,
      grid: { stroke: gridColor, width: 1 },
      ticks: { stroke: gridColor, width: 1, size: 4 },
      ...extra,
    });
    const opts: uPlot.Options = {
      ...this.size(),
      legend: { show: false },
      cursor: { points: { size: 6 }, drag: { x: false, y: false } },
      scales: {
        x: { time: true },
        // Counts and rates start at zero: a line near the top of an auto-ranged axis reads as "a lot".
        y: { range: (_u, _min, max) => uPlot.rangeNum(0, max > 0 ? max : 1, 0.1, true) },
      },
      axes: [
        axis({
          space: 64,
          size: 30,
          incrs: TIME_STEPS,
          // Seconds only when the ticks are less than a minute apart (a short window).
          values: (_u, splits, _axis, _space, increment) =>
            splits.map((s) => formatClock(s * 1000).slice(0, increment < 60 ? 8 : 5)),
        }),
        axis({
          size: 56,
          values: (_u, splits) => splits.map((s) => format(s)),
          ...(this.options.integer === true ? { incrs: WHOLE_STEPS } : {}),
        }),
      ],
      series: [
        {},
        ...this.lines.map((line, i) => {
          const stroke = resolve(line.color);
          const series: uPlot.Series = {
            label: line.label,
            stroke,
            width: 1.75,
            points: { show: false },
            spanGaps: false,
          };
          // A faint area under the first line of a small chart: the eye finds the main figure first.
          if (i === 0 && this.lines.length <= 3 && /^#[0-9a-f]{6}$/i.test(stroke))
            series.fill = `${stroke}1f`;
          return series;
        }),
      ],
      hooks: {
        setCursor: [
          (u) => {
            const idx = u.cursor.idx;
            this.hovered = idx === undefined ? null : idx;
            this.renderLegend();
          },
        ],
      },
    };
    this.plot = new uPlot(opts, data, this.plotHost);
  }

  /** The legend: each line's value at the cursor, or its latest value. */
  private renderLegend(): void {
    const { x, ys } = this.data;
    const at = this.hovered ?? x.length - 1;
    const time = x[at];
    replace(
      this.legend,
      ...this.lines.map((line, i) => {
        const value = ys[i]?.[at];
        const swatch = h('span', { class: 'legend-swatch' });
        // A CSSOM property, not a style attribute: the page's CSP allows it.
        swatch.style.background = line.color;
        return h(
          'span',
          { class: 'legend-item' },
          swatch,
          h('span', { class: 'legend-label' }, line.label),
          h(
            'span',
            { class: 'legend-value' },
            value === null || value === undefined ? '—' : this.options.format(value),
          ),
        );
      }),
      this.hovered !== null && time !== undefined
        ? h('span', { class: 'legend-time' }, formatClock(time * 1000))
        : null,
    );
  }

  /** Remove the chart (leaving the page). */
  destroy(): void {
    this.resizer.disconnect();
    this.plot?.destroy();
    this.plot = null;
  }
}
