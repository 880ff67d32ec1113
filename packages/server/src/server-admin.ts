/**
 * The admin dashboard's wiring (docs/admin.md): with the `admin` option, the server's metrics, its
 * authenticator and the hub's broker are decorated (admin/admin-tally.ts, auth/admin-authenticator.ts,
 * admin/admin-broker.ts), a snapshot of this node is published to `$admin:nodes` every interval, and the
 * routes get the dashboard's API. Without it every method passes its argument through and nothing runs.
 */
import type { Broker } from './broker/broker.js';
import type { Engine } from './engine/engine.js';
import type { Metrics } from './metrics/metrics.js';
import type { ProcessHealth } from './metrics/process-health.js';
import type { Authenticator } from './auth/authenticator.js';
import { AdminTokenVerifier, adminAuthenticator } from './auth/admin-authenticator.js';
import { deriveAdminKey, safeEqual } from './auth/admin-credentials.js';
import { ADMIN_NODES_CHANNEL } from './auth/admin-principal.js';
import { resolveAdminOptions } from './admin/admin-options.js';
import type { AdminOptions, ResolvedAdminOptions } from './admin/admin-options.js';
import { AdminBroker } from './admin/admin-broker.js';
import { AdminCalls } from './admin/admin-calls.js';
import { AdminService } from './admin/admin-service.js';
import type { AdminOperations } from './admin/admin-service.js';
import { AdminTally, adminMetrics } from './admin/admin-tally.js';
import type { LocalConnection } from './admin/local-directory.js';
import { SnapshotTaker } from './admin/node-snapshot.js';
import type { StatsView } from './admin/node-snapshot.js';
import { SnapshotBook } from './admin/snapshot-book.js';
import { loadAdminPage } from './http/admin-page.js';
import type { AdminPage } from './http/admin-page.js';
import { AdminSessions } from './http/admin-session.js';
import type { AdminParts } from './http/routes.js';
import type { AdminView } from './hub/hub-stats.js';
import type { Clock, TimerHandle } from './util/clock.js';
import type { Logger } from './util/logger.js';

/** How long a question to the other nodes waits for their answers (ms). */
export const ADMIN_CALL_DEADLINE_MS = 1000;

/** What the dashboard reads of the server, once the hub exists. */
export interface AdminHost {
  /** The library API (the server itself). */
  readonly server: AdminOperations & {
    stats(): StatsView;
    readiness(): { readonly ready: boolean; readonly reason?: string };
    getUserConnections(userId: string): readonly LocalConnection[];
  };
  readonly health: ProcessHealth;
  readonly engine: Engine;
  /** The hub's connections, channels and node-wide delivery activity. */
  view(): AdminView;
  /** When the server started (ms since the Unix epoch). */
  startedAt(): number;
}

/** One server's dashboard; see the file comment. */
export class ServerAdmin {
  readonly tally = new AdminTally();
  private readonly config: ResolvedAdminOptions | null;
  private readonly key: Buffer | null;
  private broker: AdminBroker | null = null;
  private book: SnapshotBook | null = null;
  private calls: AdminCalls | null = null;
  private parts: AdminParts | null = null;
  private page: AdminPage | null = null;
  private taker: SnapshotTaker | null = null;
  private timer: TimerHandle | null = null;

  /** Validates `admin` (InvalidOptionError). */
  constructor(
    admin: AdminOptions | undefined,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {
    this.config = resolveAdminOptions(admin);
    this.key = this.config === null ? null : deriveAdminKey(this.config.password);
  }

  /** `base`, counting what the snapshot needs too. */
  metrics(base: Metrics): Metrics {
    return this.config === null ? base : adminMetrics(base, this.tally);
  }

  /** `inner`, recognising admin connection tokens too. */
  authenticator(inner: Authenticator): Authenticator {
    if (this.key === null) return inner;
    return adminAuthenticator(inner, new AdminTokenVerifier(this.key, this.clock));
  }

  /** The hub's broker: `inner`, with this node on the reserved channels too. */
  hubBroker(inner: Broker, nodeId: string): Broker {
    if (this.config === null) return inner;
    const book = (this.book = new SnapshotBook(nodeId));
    this.broker = new AdminBroker(inner, nodeId, {
      snapshot: (json) => book.recordPublished(json, this.clock.now()),
      question: (json) => this.calls?.onQuestion(json),
      answer: (json) => this.calls?.onAnswer(json),
    });
    return this.broker;
  }

  /** Read the server through `host` from now on (called once the hub exists). */
  attach(host: AdminHost, nodeId: string): void {
    const { config, key, book, broker } = this;
    if (config === null || key === null || book === null || broker === null) return;
    const local = {
      directory: () => {
        const view = host.view();
        return { connections: view.connections, channels: () => view.channels() };
      },
      userConnections: (userId: string) => host.server.getUserConnections(userId),
    };
    const calls = (this.calls = new AdminCalls({
      nodeId,
      publish: (channel, json) => broker.publishReserved(channel, json),
      answer: (question) => AdminService.answer(local, nodeId, question),
      deadlineMs: ADMIN_CALL_DEADLINE_MS,
      clock: this.clock,
      logger: this.logger,
    }));
    const { intervalMs, sessionTtlMs, password } = config;
    this.parts = {
      api: new AdminService({ nodeId, intervalMs, key, ops: host.server, book, calls, clock: this.clock }),
      sessions: new AdminSessions(key, sessionTtlMs, this.clock),
      checkPassword: (presented) => safeEqual(presented, password),
      page: () => this.page,
    };
    const { server, health, engine } = host;
    this.taker = new SnapshotTaker(
      {
        nodeId,
        intervalMs,
        startedAt: () => host.startedAt(),
        stats: () => server.stats(),
        readiness: () => server.readiness(),
        health: () => health.report(),
        loopDelay: () => health.eventLoopDelay(),
        latency: (qs) => host.view().activity.quantiles(this.clock.now(), qs),
        engineHealth: () => engine.health?.() ?? null,
        tally: this.tally,
        cpuUsage: () => process.cpuUsage(),
      },
      this.clock.now(),
    );
  }

  /** What the routes serve; null when the dashboard is off. */
  routes(): AdminParts | null {
    return this.parts;
  }

  /** Load the page and publish snapshots from now on, the first at once (the server is running). */
  async start(): Promise<void> {
    if (this.config === null || this.taker === null) return;
    try {
      this.page = await loadAdminPage();
    } catch (error) {
      this.logger.error({ err: error }, 'admin: the dashboard page could not be read');
    }
    this.publish();
    this.timer = this.clock.setInterval(() => this.publish(), this.config.intervalMs);
  }

  /** Stop publishing, and answer every question still waiting for other nodes. */
  stop(): void {
    this.timer?.cancel();
    this.timer = null;
    this.calls?.close();
  }

  /** Take this node's snapshot, keep it, and publish it (a failure is logged; the next one retries). */
  private publish(): void {
    const { taker, book, broker } = this;
    if (taker === null || book === null || broker === null) return;
    const now = this.clock.now();
    const snapshot = taker.take(now);
    book.recordOwn(snapshot, now);
    broker.publishReserved(ADMIN_NODES_CHANNEL, JSON.stringify(snapshot)).catch((error: unknown) => {
      this.logger.debug({ err: error }, 'admin: snapshot not published');
    });
  }
}
