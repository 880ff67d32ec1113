import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type {
  AdmissionReason,
  ApiKeyRejection,
  CloseInitiator,
  DropReason,
  ForwardOutcome,
  WebhookOutcome,
  GaugeSnapshot,
  InboxRefusal,
  LimitName,
  Metrics,
  QueueNackReason,
  QueueRefusal,
} from './metrics.js';
import { IDLE_HISTORY_READS } from '../history/history-read-pacing.js';
import type { HistoryReadStats } from '../history/history-read-pacing.js';
import { QueueCounters } from './queue-counters.js';
import type { DeadLetterReason } from '../inbox/inbox-store.js';
import { DeliveryCounters } from './delivery-counters.js';

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
  private readonly closed: Counter<'transport' | 'code' | 'by'>;
  private readonly rejected: Counter<'status' | 'reason'>;
  private readonly limited: Counter<'limit'>;
  private readonly admission: Counter<'reason'>;
  private readonly drained: Counter;
  private drainingNow = false;
  private readonly apiKeys: Counter<'reason'>;
  private readonly received: Counter;
  private readonly delivered: Counter;
  private readonly published: Counter<'kind'>;
  private readonly dropped: Counter<'reason'>;
  private readonly errors: Counter<'code'>;
  private readonly tick: Histogram;
  private gaugeSource: () => GaugeSnapshot = () => ({ connections: 0, users: 0, channels: 0 });
  private readinessSource: () => boolean = () => true;
  private historyReadSource: () => HistoryReadStats = () => IDLE_HISTORY_READS;
  private readonly resets: Counter;
  private readonly forwarded: Counter<'call' | 'outcome'>;
  private readonly queues: QueueCounters;
  private readonly guaranteed: DeliveryCounters;
  private readonly webhooks: Counter<'event' | 'outcome'>;

  constructor(options: PrometheusMetricsOptions = {}) {
    const p = options.prefix ?? 'switchboard_';
    const registers = [this.registry];
    if (options.processMetrics ?? true) {
      collectDefaultMetrics({ register: this.registry, prefix: p });
      // prom-client's `nodejs_active_{handles,requests,resources}_total` are gauges, and `_total` is the
      // counters' suffix: `promtool check metrics` fails on them. The same figures stay available as the
      // sum of the per-type gauges beside them (`sum(switchboard_nodejs_active_handles)`).
      for (const kind of ['handles', 'requests', 'resources'])
        this.registry.removeSingleMetric(`${p}nodejs_active_${kind}_total`);
    }
    this.opened = new Counter({
      name: `${p}connections_opened_total`,
      help: 'Connections accepted',
      labelNames: ['transport'],
      registers,
    });
    this.closed = new Counter({
      name: `${p}connections_closed_total`,
      help: 'Connections closed, by close code and by who closed them (server or client)',
      labelNames: ['transport', 'code', 'by'],
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
    this.admission = new Counter({
      name: `${p}admission_refused_total`,
      help: 'New connections refused because the node protects itself, by reason (shutting_down, event_loop_delay, accept_budget, max_connections)',
      labelNames: ['reason'],
      registers,
    });
    this.drained = new Counter({
      name: `${p}drain_closed_total`,
      help: 'Connections closed by a drain (1012 with a reconnect hint)',
      registers,
    });
    this.apiKeys = new Counter({
      name: `${p}api_key_rejected_total`,
      help: 'HTTP API requests refused by the API key check, by reason (missing, wrong, throttled)',
      labelNames: ['reason'],
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
    this.forwarded = new Counter({
      name: `${p}http_forwarded_calls_total`,
      help: 'Polls and DELETEs forwarded to the node holding their HTTP connection, by call and outcome',
      labelNames: ['call', 'outcome'],
      registers,
    });
    this.queues = new QueueCounters(p, this.registry);
    this.guaranteed = new DeliveryCounters(p, this.registry);
    this.webhooks = new Counter({
      name: `${p}webhooks_total`,
      help: 'Webhooks to one target by event and outcome (delivered, retried, dead_lettered, queue_full)',
      labelNames: ['event', 'outcome'],
      registers,
    });
    const gauge = (name: string, help: string, read: () => number): void =>
      scrapedGauge(this.registry, `${p}${name}`, help, read);
    gauge(
      'ready',
      '1 while this node accepts connections and its engine (Redis) can serve; 0 otherwise',
      () => (this.readinessSource() ? 1 : 0),
    );
    gauge('draining', '1 while this node drains its connections before it stops; 0 otherwise', () =>
      this.drainingNow ? 1 : 0,
    );
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
    gauge('connections', 'Open connections on this node', () => this.gaugeSource().connections);
    gauge('users', 'Distinct users connected to this node', () => this.gaugeSource().users);
    gauge(
      'channels',
      'Channels with at least one subscriber on this node',
      () => this.gaugeSource().channels,
    );
    // The engine's paced history reads (docs/scaling.md, "Subscribe storms"): 0 with the memory engine,
    // whose reads never wait, so that dashboards and alerts need no check of the engine.
    const reads = (): HistoryReadStats => this.historyReadSource();
    gauge(
      'history_reads_running',
      'History reads sent to Redis and not answered yet (at most historyReadConcurrency)',
      () => reads().running,
    );
    gauge(
      'history_reads_waiting',
      'History reads waiting for their turn to be sent to Redis (at most historyReadQueueSize)',
      () => reads().waiting,
    );
    new Counter({
      name: `${p}history_reads_refused_total`,
      help: 'History reads refused with unavailable by the pacing without being sent, by reason',
      labelNames: ['reason'],
      registers,
      // The store keeps the totals; the counter is set to them at each scrape, both reasons always present.
      collect() {
        const { refused } = reads();
        this.reset();
        this.inc({ reason: 'queue_full' }, refused.queueFull);
        this.inc({ reason: 'waited_too_long' }, refused.waitedTooLong);
      },
    });
  }

  connectionOpened(transport: string): void {
    this.opened.inc({ transport });
  }
  connectionClosed(transport: string, code: number, by: CloseInitiator): void {
    this.closed.inc({ transport, code: String(code), by });
  }
  handshakeRejected(status: number, reason: string): void {
    this.rejected.inc({ status: String(status), reason });
  }
  limitRejected(limit: LimitName): void {
    this.limited.inc({ limit });
  }
  admissionRefused(reason: AdmissionReason): void {
    this.admission.inc({ reason });
  }
  connectionsDrained(count: number): void {
    this.drained.inc(count);
  }
  setDraining(draining: boolean): void {
    this.drainingNow = draining;
  }
  apiKeyRejected(reason: ApiKeyRejection): void {
    this.apiKeys.inc({ reason });
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
  queueEnqueued(): void {
    this.queues.enqueued.inc();
  }
  queueDispatched(attempt: 'first' | 'retry', count: number): void {
    if (count > 0) this.queues.dispatched.inc({ attempt }, count);
  }
  queueAcked(): void {
    this.queues.acks.inc();
  }
  queueNacked(reason: QueueNackReason, count: number): void {
    if (count > 0) this.queues.nacks.inc({ reason }, count);
  }
  queueRefused(reason: QueueRefusal): void {
    this.queues.refused.inc({ reason });
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
  httpCallForwarded(call: 'poll' | 'delete', outcome: ForwardOutcome): void {
    this.forwarded.inc({ call, outcome });
  }
  inboxStored(): void {
    this.guaranteed.stored.inc();
  }
  inboxPushed(attempt: 'first' | 'retry'): void {
    this.guaranteed.pushes.inc({ attempt });
  }
  inboxAcked(latencyMs: number | null): void {
    this.guaranteed.acks.inc();
    if (latencyMs !== null) this.guaranteed.ackLatency.observe(latencyMs / 1000);
  }
  inboxNacked(reason: 'nack' | 'timeout'): void {
    this.guaranteed.nacks.inc({ reason });
  }
  inboxRefused(reason: InboxRefusal): void {
    this.guaranteed.refused.inc({ reason });
  }
  deadLettered(kind: 'inbox' | 'queue', reason: DeadLetterReason): void {
    this.guaranteed.deadLetters.inc({ kind, reason });
  }
  deadLettersDropped(count: number): void {
    if (count > 0) this.guaranteed.deadLettersDropped.inc(count);
  }
  webhookOutcome(event: string, outcome: WebhookOutcome): void {
    this.webhooks.inc({ event, outcome });
  }
  setGaugeSource(source: () => GaugeSnapshot): void {
    this.gaugeSource = source;
  }
  setReadinessSource(source: () => boolean): void {
    this.readinessSource = source;
  }
  setHistoryReadSource(source: () => HistoryReadStats): void {
    this.historyReadSource = source;
  }
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/** A gauge in `registry` whose value is read at each scrape. */
function scrapedGauge(registry: Registry, name: string, help: string, read: () => number): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(read());
    },
  });
}
