/**
 * The overview: headline figures, the nodes, six live charts, and the tables under them. Built once and
 * kept (its charts keep their uPlot instances); `update` refreshes it from the timeline.
 */
import { TimeChart, paletteColor } from './charts.js';
import { card, h, replace } from './dom.js';
import { formatCount, formatMs, formatRate, plural } from './format.js';
import {
  closeCodesTable,
  nodesTable,
  recentErrorsTable,
  redisTable,
  topChannelsTable,
  transportLine,
} from './overview-tables.js';
import {
  clusterSeries,
  mergeCloseCodes,
  mergeRecentErrors,
  mergeTopChannels,
  nodeSeries,
  summarize,
} from './series.js';
import type { LineSpec, SeriesOptions } from './series.js';
import type { Timeline } from './timeline.js';
import type { NodeView } from './timeline.js';

/** A chart and the cluster lines it draws. */
interface ClusterChart {
  readonly chart: TimeChart;
  readonly lines: readonly LineSpec[];
}

const RED = 'var(--series-bad)';
const AMBER = 'var(--series-warn)';

function clusterChart(
  key: string,
  title: string,
  subtitle: string,
  format: (v: number) => string,
  lines: readonly (LineSpec & { color?: string })[],
): ClusterChart {
  const chart = new TimeChart({
    key,
    title,
    subtitle,
    format,
    integer: format === formatCount, // counts are whole numbers
    lines: lines.map((line, i) => ({ label: line.label, color: line.color ?? paletteColor(i) })),
  });
  return { chart, lines };
}

/**
 * Put `next` in `container` unless what is there is the same: an unchanged table keeps its elements, so
 * a click or a text selection in it is not lost to a refresh.
 */
function swap(container: HTMLElement, next: HTMLElement): void {
  if (container.firstElementChild?.isEqualNode(next) === true) return;
  replace(container, next);
}

/** A headline figure. */
class Tile {
  readonly element: HTMLElement;
  private readonly value: HTMLElement;
  private readonly sub: HTMLElement;

  constructor(key: string, label: string) {
    this.value = h('div', { class: 'tile-value', id: `stat-${key}` }, '—');
    this.sub = h('div', { class: 'tile-sub' });
    this.element = h(
      'div',
      { class: 'tile', data: { stat: key } },
      h('div', { class: 'tile-label' }, label),
      this.value,
      this.sub,
    );
  }

  set(value: string, sub = '', tone: '' | 'warn' | 'bad' = ''): void {
    if (this.value.textContent !== value) this.value.textContent = value;
    if (this.sub.textContent !== sub) this.sub.textContent = sub;
    this.element.dataset['tone'] = tone;
  }
}

/** The overview view. */
export class Overview {
  /** The view's root element. */
  readonly element: HTMLElement;
  private readonly tiles: Record<string, Tile>;
  private readonly charts: ClusterChart[];
  private readonly loopChart: TimeChart;
  private readonly nodesBody = h('div', { class: 'table-wrap' });
  private readonly closeCodesBody = h('div', { class: 'table-wrap' });
  private readonly topChannelsBody = h('div', { class: 'table-wrap' });
  private readonly errorsBody = h('div', { class: 'table-wrap' });
  private readonly redisBody = h('div', { class: 'table-wrap' });
  private readonly nodesSubtitle = h('span');

  constructor(private readonly selfNodeId: string) {
    const tileNames: [string, string][] = [
      ['nodes', 'Nodes'],
      ['connections', 'Connections'],
      ['users', 'Users'],
      ['channels', 'Channels'],
      ['in', 'Messages in'],
      ['out', 'Messages out'],
      ['latency', 'Delivery p99'],
      ['errors', 'Drops + errors'],
    ];
    this.tiles = Object.fromEntries(tileNames.map(([key, label]) => [key, new Tile(key, label)]));
    this.charts = [
      clusterChart('connections', 'Connections, users, channels', 'Summed over nodes', formatCount, [
        { label: 'connections', metric: (s) => s.connections, aggregate: 'sum' },
        { label: 'users', metric: (s) => s.users, aggregate: 'sum' },
        { label: 'channels', metric: (s) => s.channels, aggregate: 'sum' },
      ]),
      clusterChart(
        'messages',
        'Messages per second',
        'In from clients and the API, out to subscribers',
        formatRate,
        [
          { label: 'in', metric: (s) => s.rates.inPerSec, aggregate: 'sum' },
          { label: 'out', metric: (s) => s.rates.outPerSec, aggregate: 'sum' },
          { label: 'published', metric: (s) => s.rates.publishedPerSec, aggregate: 'sum' },
        ],
      ),
      clusterChart(
        'drops',
        'Drops and errors per second',
        'Messages dropped for slow readers; error replies',
        formatRate,
        [
          { label: 'dropped', metric: (s) => s.rates.droppedPerSec, aggregate: 'sum', color: AMBER },
          { label: 'errors', metric: (s) => s.rates.errorsPerSec, aggregate: 'sum', color: RED },
        ],
      ),
      clusterChart('latency', 'Delivery latency', 'Publish to write, worst node', formatMs, [
        { label: 'p50', metric: (s) => s.latencyMs?.p50 ?? null, aggregate: 'max' },
        { label: 'p95', metric: (s) => s.latencyMs?.p95 ?? null, aggregate: 'max' },
        { label: 'p99', metric: (s) => s.latencyMs?.p99 ?? null, aggregate: 'max' },
      ]),
      clusterChart(
        'evictions',
        'Evictions per second',
        'Heartbeat timeouts and slow consumers closed',
        formatRate,
        [
          {
            label: 'heartbeat',
            metric: (s) => s.rates.heartbeatEvictionsPerSec,
            aggregate: 'sum',
            color: AMBER,
          },
          {
            label: 'slow consumers',
            metric: (s) => s.rates.slowConsumersPerSec,
            aggregate: 'sum',
            color: RED,
          },
        ],
      ),
    ];
    this.loopChart = new TimeChart({
      key: 'event-loop',
      title: 'Event-loop delay p99',
      subtitle: 'Per node',
      format: formatMs,
      lines: [],
    });
    this.element = h(
      'div',
      { class: 'overview', id: 'overview' },
      h('div', { class: 'tiles' }, ...Object.values(this.tiles).map((t) => t.element)),
      card('Nodes', this.nodesBody, { class: 'nodes-card', subtitle: this.nodesSubtitle }),
      h('div', { class: 'chart-grid' }, ...this.charts.map((c) => c.chart.element), this.loopChart.element),
      h(
        'div',
        { class: 'grid-2' },
        card('Top channels', this.topChannelsBody, { subtitle: 'By messages per second' }),
        card('Close codes', this.closeCodesBody, { subtitle: 'Since each node started' }),
        card('Recent errors', this.errorsBody, { subtitle: 'Newest first, every node' }),
        card('Redis and history reads', this.redisBody, {
          subtitle: 'Engine health and history-read pacing, per node',
        }),
      ),
    );
  }

  /** Refresh every part from `timeline` at `now` (browser clock). */
  update(timeline: Timeline, nodes: readonly NodeView[], intervalMs: number, now: number): void {
    const live = nodes.filter((n) => !n.stale).map((n) => n.snapshot);
    const sum = summarize(live);
    const t = this.tiles;
    const silent = nodes.length - live.length;
    t['nodes']?.set(
      String(sum.nodes),
      [sum.degraded > 0 ? `${sum.degraded} degraded` : 'all healthy', silent > 0 ? `${silent} silent` : '']
        .filter(Boolean)
        .join(' · '),
      sum.degraded > 0 || silent > 0 ? 'warn' : '',
    );
    const transports = new Map<string, number>();
    for (const s of live)
      for (const [k, v] of Object.entries(s.transports)) transports.set(k, (transports.get(k) ?? 0) + v);
    t['connections']?.set(formatCount(sum.connections), transportLine(transports));
    t['users']?.set(formatCount(sum.users), 'summed per node');
    t['channels']?.set(formatCount(sum.channels), 'summed per node');
    t['in']?.set(formatRate(sum.inPerSec));
    t['out']?.set(formatRate(sum.outPerSec));
    t['latency']?.set(formatMs(sum.latencyP99), 'worst node');
    const bad = sum.droppedPerSec + sum.errorsPerSec;
    t['errors']?.set(
      formatRate(bad),
      `${formatRate(sum.droppedPerSec)} dropped · ${formatRate(sum.errorsPerSec)} errors`,
      bad > 0 ? 'bad' : '',
    );

    this.nodesSubtitle.textContent = `${plural(nodes.length, 'node')} reporting every ${(intervalMs / 1000).toFixed(intervalMs % 1000 === 0 ? 0 : 1)} s`;
    swap(this.nodesBody, nodesTable(nodes, this.selfNodeId, now));
    swap(this.closeCodesBody, closeCodesTable(mergeCloseCodes(live)));
    swap(this.topChannelsBody, topChannelsTable(mergeTopChannels(live)));
    swap(this.errorsBody, recentErrorsTable(mergeRecentErrors(live, 12)));
    swap(this.redisBody, redisTable(nodes));

    const options: SeriesOptions = { intervalMs };
    for (const { chart, lines } of this.charts) chart.setData(clusterSeries(timeline, lines, options));
    const perNode = nodeSeries(timeline, (s) => s.eventLoopDelayMs.p99, options);
    this.loopChart.setLines(perNode.nodes.map((id, i) => ({ label: id, color: paletteColor(i) })));
    this.loopChart.setData(perNode);
  }

  /** Remove the charts (signing out). */
  destroy(): void {
    for (const { chart } of this.charts) chart.destroy();
    this.loopChart.destroy();
  }

  /** Redraw the charts with the current colour scheme. */
  restyle(): void {
    for (const { chart } of this.charts) chart.restyle();
    this.loopChart.restyle();
  }
}
