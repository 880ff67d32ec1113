import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { DropReason, GaugeSnapshot, LimitName, Metrics } from './metrics.js';

/** Options for {@link PrometheusMetrics}. */
export interface PrometheusMetricsOptions {
  /** Prefix of every metric name. Default `switchboard_`. */
  readonly prefix?: string;
  /** Also export Node's process metrics (CPU, memory, event-loop lag). Default true. */
  readonly processMetrics?: boolean;
}

/** Metrics in a registry of their own (never prom-client's global one), rendered for Prometheus. */
export class PrometheusMetrics implements Metrics {
  /** The registry holding every metric of this server. */
  readonly registry = new Registry();
  private readonly opened: Counter<'transport'>;
  private readonly closed: Counter<'transport' | 'code'>;
  private readonly rejected: Counter<'status' | 'reason'>;
  private readonly limited: Counter<'limit'>;
  private readonly received: Counter;
  private readonly delivered: Counter;
  private readonly published: Counter<'kind'>;
  private readonly dropped: Counter<'reason'>;
  private readonly errors: Counter<'code'>;
  private readonly tick: Histogram;
  private gaugeSource: () => GaugeSnapshot = () => ({ connections: 0, users: 0, channels: 0 });
  private readinessSource: () => boolean = () => true;
  private readonly resets: Counter;

  constructor(options: PrometheusMetricsOptions = {}) {
    const p = options.prefix ?? 'switchboard_';
    const registers = [this.registry];
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: p });
    this.opened = new Counter({
      name: `${p}connections_opened_total`,
      help: 'Connections accepted',
      labelNames: ['transport'],
      registers,
    });
    this.closed = new Counter({
      name: `${p}connections_closed_total`,
      help: 'Connections closed, by close code',
      labelNames: ['transport', 'code'],
      registers,
    });
    this.rejected = new Counter({
      name: `${p}handshakes_rejected_total`,
      help: 'Connection attempts refused',
      labelNames: ['status', 'reason'],
      registers,
    });
    this.limited = new Counter({
      name: `${p}limits_rejected_total`,
      help: 'Connection attempts and frames refused by a limit, by limit',
      labelNames: ['limit'],
      registers,
    });
    this.received = new Counter({
      name: `${p}frames_received_total`,
      help: 'Frames received from clients',
      registers,
    });
    this.delivered = new Counter({
      name: `${p}messages_delivered_total`,
      help: 'Messages written to client connections',
      registers,
    });
    this.published = new Counter({
      name: `${p}messages_published_total`,
      help: 'Messages that entered the hub',
      labelNames: ['kind'],
      registers,
    });
    this.dropped = new Counter({
      name: `${p}messages_dropped_total`,
      help: 'Messages not delivered to a connection, by reason',
      labelNames: ['reason'],
      registers,
    });
    this.resets = new Counter({
      name: `${p}stream_resets_total`,
      help: 'Channels whose subscribers were told to resubscribe after a gap history could not fill',
      registers,
    });
    const ready = (): boolean => this.readinessSource();
    new Gauge({
      name: `${p}ready`,
      help: '1 while this node accepts connections and its engine (Redis) can serve; 0 otherwise',
      registers,
      collect() {
        this.set(ready() ? 1 : 0);
      },
    });
    this.errors = new Counter({
      name: `${p}client_errors_total`,
      help: 'Error replies and pushes sent, by code',
      labelNames: ['code'],
      registers,
    });
    this.tick = new Histogram({
      name: `${p}heartbeat_tick_seconds`,
      help: 'Duration of one heartbeat scheduler tick',
      buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5],
      registers,
    });
    const gauge = (name: string, help: string, pick: (s: GaugeSnapshot) => number): void => {
      const source = (): GaugeSnapshot => this.gaugeSource();
      new Gauge({
        name: `${p}${name}`,
        help,
        registers,
        collect() {
          this.set(pick(source()));
        },
      });
    };
    gauge('connections', 'Open connections on this node', (s) => s.connections);
    gauge('users', 'Distinct users connected to this node', (s) => s.users);
    gauge('channels', 'Channels with at least one subscriber on this node', (s) => s.channels);
  }

  connectionOpened(transport: string): void {
    this.opened.inc({ transport });
  }
  connectionClosed(transport: string, code: number): void {
    this.closed.inc({ transport, code: String(code) });
  }
  handshakeRejected(status: number, reason: string): void {
    this.rejected.inc({ status: String(status), reason });
  }
  limitRejected(limit: LimitName): void {
    this.limited.inc({ limit });
  }
  framesReceived(count: number): void {
    this.received.inc(count);
  }
  messagesDelivered(count: number): void {
    if (count > 0) this.delivered.inc(count);
  }
  messagePublished(kind: 'channel' | 'user' | 'connection' | 'broadcast'): void {
    this.published.inc({ kind });
  }
  messagesDropped(reason: DropReason, count: number): void {
    if (count > 0) this.dropped.inc({ reason }, count);
  }
  clientError(code: string): void {
    this.errors.inc({ code });
  }
  heartbeatTick(_visited: number, durationMs: number): void {
    this.tick.observe(durationMs / 1000);
  }
  streamReset(): void {
    this.resets.inc();
  }
  setGaugeSource(source: () => GaugeSnapshot): void {
    this.gaugeSource = source;
  }
  setReadinessSource(source: () => boolean): void {
    this.readinessSource = source;
  }
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
