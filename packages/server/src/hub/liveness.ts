/**
 * Liveness: every connection is visited once per heartbeat interval by one scheduler (no timer per
 * connection). A connection silent past the timeout is closed (4000), one stuck over its outbound limit is
 * closed as a slow consumer (4001), and one quiet for half an interval is pinged. What counts as a sign of
 * life (application frames only, or protocol pongs too) is the connection's dialect's heartbeat proof.
 */
import { CloseCode } from '@switchboard/protocol';
import type { Metrics } from '../metrics/metrics.js';
import type { Clock } from '../util/clock.js';
import type { Connection } from './connection.js';
import type { Closer, Delivery } from './delivery.js';
import { HeartbeatScheduler } from './heartbeat-scheduler.js';
import type { TransportProof } from './heartbeat-proof.js';

/** What the heartbeat needs. */
export interface LivenessOptions {
  readonly heartbeatIntervalMs: number;
  readonly heartbeatTimeoutMs: number;
  /** Per dialect, whether protocol pongs prove life: only then is the protocol-ping safety net worth sending. */
  readonly transportProof: TransportProof;
  readonly delivery: Delivery;
  readonly close: Closer;
  readonly metrics: Metrics;
  readonly clock: Clock;
}

/** The heartbeat of every connection. */
export class Liveness {
  private readonly scheduler: HeartbeatScheduler<Connection>;
  private readonly halfInterval: number;

  constructor(private readonly options: LivenessOptions) {
    this.halfInterval = options.heartbeatIntervalMs / 2;
    this.scheduler = new HeartbeatScheduler<Connection>({
      intervalMs: options.heartbeatIntervalMs,
      clock: options.clock,
      visit: (connection, now) => this.visit(connection, now),
      onTick: (visited, durationMs) => options.metrics.heartbeatTick(visited, durationMs),
    });
  }

  /** The scheduler's slots (for /stats). */
  get slotCount(): number {
    return this.scheduler.slotCount;
  }

  /** The scheduler's tick (ms, for /stats). */
  get tickMs(): number {
    return this.scheduler.tickMs;
  }

  start(): void {
    this.scheduler.start();
  }

  stop(): void {
    this.scheduler.stop();
  }

  /** Watch a new connection. */
  add(connection: Connection): void {
    this.scheduler.add(connection);
  }

  /** Stop watching a connection that is closing. */
  remove(connection: Connection): void {
    this.scheduler.remove(connection);
  }

  /**
   * One heartbeat visit, once per interval per connection. A connection silent past the timeout is closed;
   * one quiet for half an interval gets an application ping. Where protocol pongs prove life, a transport
   * ping goes with it when the previous application ping went unanswered (clients such as wscat answer
   * only transport pings); where they do not, its pong would change nothing.
   */
  private visit(connection: Connection, now: number): void {
    if (connection.format === 'sse') {
      // Push only: the client cannot answer, so nothing it sends proves it alive. A keep-alive comment each
      // visit keeps proxies from timing the stream out, and the write side tells: a vanished peer resets
      // the TCP connection (the stream closes), a stuck one fills the buffer (the slow-consumer rule).
      if (!this.options.delivery.closeIfSlow(connection, now)) this.options.delivery.ping(connection);
      return;
    }
    const silent = now - connection.lastReceived;
    if (silent >= this.options.heartbeatTimeoutMs) {
      this.options.close(connection, CloseCode.HeartbeatTimeout, 'heartbeat timeout');
      return;
    }
    if (this.options.delivery.closeIfSlow(connection, now)) return;
    if (silent >= this.halfInterval) {
      if (connection.awaitingPong && this.options.transportProof[connection.format])
        this.options.delivery.transportPing(connection);
      connection.awaitingPong = true;
      this.options.delivery.ping(connection);
    }
  }
}
