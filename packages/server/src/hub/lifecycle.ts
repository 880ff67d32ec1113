/**
 * The lifecycle of a connection: accepted from a transport, set up once its user is known (session, room,
 * the application's onConnect), closed exactly once whoever starts the close, and gone when its transport
 * says so. Removal from every registry (`detach`) happens once, before anything else can run.
 */
import { CloseCode, drainCloseReason } from '@switchboard/protocol';
import type { Principal } from '../auth/authenticator.js';
import type { ConnectionLimits } from '../limits/connection-limits.js';
import type { CloseInitiator, Metrics } from '../metrics/metrics.js';
import type { Admitted } from '../transports/handshake.js';
import type { ConnectionHandle, TransportSocket } from '../transports/transport.js';
import type { Clock } from '../util/clock.js';
import { logs } from '../util/logger.js';
import type { Logger } from '../util/logger.js';
import type { AcceptOptions } from './accept-options.js';
import type { ChannelRegistry } from './channel-registry.js';
import type { CommandContext } from './command-context.js';
import type { Connection } from './connection.js';
import { HubConnectionHandle } from './connection-handle.js';
import type { HandleTarget } from './connection-handle.js';
import type { ConnectionRegistry } from './connections.js';
import type { Credentials } from './credentials.js';
import type { GuaranteedCommands } from './guaranteed.js';
import { runHook } from './hooks.js';
import type { ServerHooks } from './hooks.js';
import type { HubCounters } from './hub-stats.js';
import type { Liveness } from './liveness.js';
import type { WireFormat } from './outbound.js';
import { joinRoom } from './room-handler.js';
import { joinSseStream } from './sse-handler.js';
import { drainPlan, shuffle } from './drain-plan.js';
import type { SessionResume } from './session-resume.js';

/** Closes after which the peer is presumed dead or stuck, so the close handshake gets only a short linger. */
const LINGER_CODES: ReadonlySet<number> = new Set([CloseCode.HeartbeatTimeout, CloseCode.SlowConsumer]);

/**
 * Closes the server starts in the normal course of things (a shutdown, a kick or reconnect the application
 * or an operator asked for, expired credentials, a session taken over by a newer connection, a normal
 * end): logged at debug like the client's own closes. Every other server close is a fault or a limit
 * (heartbeat timeout, slow consumer, protocol errors, rate limits, refusals after the upgrade) and is
 * logged at info. docs/operations.md lists the levels.
 */
const ROUTINE_CLOSES: ReadonlySet<number> = new Set([
  CloseCode.Normal,
  CloseCode.GoingAway,
  CloseCode.ServiceRestart,
  CloseCode.ForceReconnect,
  CloseCode.TokenExpired,
  CloseCode.Replaced,
  CloseCode.Kicked,
]);

/** How long a drain lingers after its last batch, within its window (ms): a poll's round trip, and more. */
export const DRAIN_LINGER_MS = 1000;

/** How long a connection we closed for being dead or slow may linger before it is destroyed (ms). */
const CLOSE_LINGER_MS = 1000;

/**
 * How long a close waits for the answers to commands its connection was allowed before it (ms): long
 * enough for a paced history read or a Redis command to finish or time out, short enough that a client
 * cut off for flooding is not kept waiting on a stuck application hook.
 */
export const ANSWER_WAIT_MS = 5000;

/** What the lifecycle orchestrates. */
export interface LifecycleOptions {
  readonly connections: ConnectionRegistry;
  readonly channels: ChannelRegistry;
  readonly sessions: SessionResume;
  readonly credentials: Credentials;
  readonly liveness: Liveness;
  /** Room connections join their room through their dialect's handler. */
  readonly commands: CommandContext;
  /** Guaranteed delivery: told when a connection leaves (its unacked messages and jobs go out again). */
  readonly guaranteed: Pick<GuaranteedCommands, 'closed'>;
  /** What every connection's handle reports to. */
  readonly handleTarget: HandleTarget;
  readonly hooks: ServerHooks;
  /** Open-connection counts per address and per node: told of every open and close. */
  readonly connectionLimits: ConnectionLimits;
  readonly counters: HubCounters;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly clock: Clock;
}

/** Opens, sets up and closes connections. */
export class ConnectionLifecycle {
  constructor(private readonly options: LifecycleOptions) {}

  /**
   * Register a connection a transport has opened for what the handshake admitted. Returns the handle the
   * transport reports to.
   */
  accept(socket: TransportSocket, format: WireFormat, admitted: Admitted<AcceptOptions>): ConnectionHandle {
    const { principal, remoteAddress, options } = admitted;
    const { connections, liveness, counters, metrics, connectionLimits } = this.options;
    const now = this.options.clock.now();
    const connection = connections.open(
      socket,
      principal,
      format,
      remoteAddress,
      now,
      options.joinAuthorizedAs,
    );
    connection.batch = format === 'v1' && options.batch === true;
    liveness.add(connection);
    counters.connectionsAccepted++;
    metrics.connectionOpened(socket.kind);
    connectionLimits.opened(remoteAddress);
    if (admitted.pendingAuth) {
      connection.session = this.options.sessions.transient(null, connection);
      this.options.credentials.awaitAuth(connection, options, now);
    } else {
      this.setUp(connection, principal, options);
    }
    const logger = this.options.logger;
    if (logs(logger, 'debug'))
      logger.debug(
        { ...describe(connection, options.room), pendingAuth: admitted.pendingAuth },
        'connection opened',
      );
    return new HubConnectionHandle(this.options.handleTarget, connection);
  }

  /** Give an authenticated connection its identity, session and room, and tell the application. */
  setUp(connection: Connection, principal: Principal, options: AcceptOptions): void {
    const { sessions, connections, hooks } = this.options;
    connection.userId = principal.userId;
    connection.info = principal.info;
    this.options.credentials.assign(connection, principal);
    if (connection.format === 'v1') {
      const start = sessions.open(connection, options.sessionId);
      connections.identify(connection);
      sessions.begin(connection, start);
      // A session resumed from the shared store brings its state: the hook runs once it is known.
      if (start.kind === 'shared') return;
    } else {
      connection.session = sessions.transient(principal.userId, connection);
      connections.identify(connection);
      if (options.room !== undefined) {
        connection.room = options.room;
        void joinRoom(this.options.commands, connection, options.room, options);
      } else if (connection.format === 'sse') {
        void joinSseStream(this.options.commands, connection, options);
      }
    }
    if (hooks.onConnect !== undefined) this.connected(connection);
  }

  /** Run the application's onConnect hook. */
  connected(connection: Connection): void {
    runHook(this.options.logger, 'onConnect', connection.id, () =>
      this.options.hooks.onConnect?.(connection),
    );
  }

  /**
   * Close a connection with `code`; it leaves every registry at once. Idempotent. The connection is
   * counted under `code` (by the server) in `switchboard_connections_closed_total` whatever the transport
   * reports later, and the close is logged now, under that code: at info for a fault or a limit, at debug
   * for a routine close ({@link ROUTINE_CLOSES}).
   */
  close(connection: Connection, code: number, reason: string): void {
    if (connection.state !== 'open') return;
    // What was published before the close is owed to the client before it: the batches still waiting
    // (for the turn's end or a batch delay) go out now. Not to a dead or stuck peer (the linger codes),
    // which would not read them; and writing them may itself close the connection (outbound buffer full).
    if (!LINGER_CODES.has(code)) {
      this.options.channels.flushFor(connection);
      if (connection.state !== 'open') return;
    }
    connection.closeCode = code;
    this.logClose(connection, code, reason, 'server');
    this.detach(connection, code, reason);
    connection.socket.close(code, reason);
    if (LINGER_CODES.has(code)) {
      // A dead or stuck peer will never complete the close handshake; do not hold its buffers for
      // ws's 30 s close timeout.
      this.options.clock.setTimeout(() => {
        if (connection.state !== 'closed') connection.socket.terminate();
      }, CLOSE_LINGER_MS);
    }
  }

  /**
   * Close once every command the connection was allowed is answered, at most {@link ANSWER_WAIT_MS} from
   * now; nothing the connection sends meanwhile is processed. A client cut off for flooding still learns
   * the outcome of what it was allowed to do (a publish that took effect, a subscription that did not).
   */
  closeWhenAnswered(connection: Connection, code: number, reason: string): void {
    if (connection.state !== 'open' || connection.closeWhenAnswered !== null) return;
    if (connection.inFlight === 0) {
      this.close(connection, code, reason);
      return;
    }
    connection.closeWhenAnswered = { code, reason };
    // One timer per connection being cut off, never per healthy one; close is idempotent.
    this.options.clock.setTimeout(() => this.close(connection, code, reason), ANSWER_WAIT_MS);
  }

  /** An admitted command has been answered: a close waiting for the last one goes now. */
  answered(connection: Connection): void {
    const waiting = connection.closeWhenAnswered;
    if (--connection.inFlight === 0 && waiting !== null) this.close(connection, waiting.code, waiting.reason);
  }

  /**
   * The transport reports the connection gone (closed by either side, or dropped). A connection the server
   * closed is counted under the server's code: once a dead or stuck peer has been dropped after its linger,
   * or the peer's answer to a transport's own close is never read, the transport can only report 1006.
   */
  transportClosed(connection: Connection, code: number, reason: string): void {
    if (connection.state === 'open') {
      // The client closed (or vanished, 1006): the server's own closes were logged when it decided.
      this.logClose(connection, code, reason, 'client');
      this.detach(connection, code, reason);
    }
    connection.state = 'closed';
    this.options.connections.closed(connection);
    this.options.connectionLimits.closed(connection.remoteAddress);
    const byServer = connection.closeCode !== 0;
    this.options.metrics.connectionClosed(
      connection.socket.kind,
      byServer ? connection.closeCode : code,
      byServer ? 'server' : 'client',
    );
  }

  /**
   * Close every connection with `code` and wait until their transports confirm, at most `timeoutMs`;
   * then drop whatever is left.
   */
  async closeAll(code: number, reason: string, timeoutMs: number): Promise<void> {
    this.options.liveness.stop();
    // Waiting batches (a batch delay) go out before the closes: a closing connection is written nothing.
    this.options.channels.flushBatches();
    for (const connection of [...this.options.connections.all()]) this.close(connection, code, reason);
    await this.options.connections.drain(timeoutMs);
  }

  /**
   * Drain: close every open connection with 1012 and a reconnect hint, in jittered batches spread over
   * `drainMs` (drain-plan.ts); resolves {@link DRAIN_LINGER_MS} after the last batch, within the window. Connections that close on their
   * own meanwhile are skipped (close is idempotent). The caller refuses new connections first.
   */
  async drainAll(drainMs: number, random: () => number = Math.random): Promise<void> {
    const { clock, metrics } = this.options;
    const connections = shuffle([...this.options.connections.all()], random);
    const plan = drainPlan(connections.length, drainMs, random);
    this.options.logger.info(
      { drainMs, connections: connections.length, batches: plan.batches.length },
      'draining',
    );
    const started = clock.now();
    for (const batch of plan.batches) {
      const wait = started + batch.atMs - clock.now();
      if (wait > 0) await new Promise<void>((resolve) => clock.setTimeout(resolve, wait));
      let closed = 0;
      for (let i = batch.start; i < batch.start + batch.size; i++) {
        const connection = connections[i];
        if (connection === undefined || connection.state !== 'open') continue;
        this.close(connection, CloseCode.ServiceRestart, drainCloseReason(random() * plan.gapMs));
        closed++;
      }
      metrics.connectionsDrained(closed);
    }
    // A short linger past the last batch (up to the window's end): its closes reach their clients (a
    // polling client collects its close with its next poll) before the stop closes the HTTP server.
    const rest = Math.min(DRAIN_LINGER_MS, started + drainMs - clock.now());
    if (plan.batches.length > 0 && rest > 0)
      await new Promise<void>((resolve) => clock.setTimeout(resolve, rest));
  }

  /** The one line of a connection's close, whoever closed it. */
  private logClose(connection: Connection, code: number, reason: string, by: CloseInitiator): void {
    const logger = this.options.logger;
    const level = by === 'server' && !ROUTINE_CLOSES.has(code) ? 'info' : 'debug';
    if (!logs(logger, level)) return;
    const fields = {
      ...describe(connection, connection.room ?? undefined),
      code,
      by,
      reason,
      durationMs: this.options.clock.now() - connection.connectedAt,
    };
    logger[level](fields, 'connection closed');
  }

  /** Remove a connection from every registry, exactly once, and tell the application. */
  private detach(connection: Connection, code: number, reason: string): void {
    connection.state = 'closing';
    connection.held = null;
    this.options.credentials.forget(connection);
    this.options.connections.remove(connection);
    this.options.liveness.remove(connection);
    const positions = this.options.channels.leaveAll(connection);
    this.options.sessions.release(connection, positions);
    this.options.guaranteed.closed(connection);
    const hooks = this.options.hooks;
    if (hooks.onDisconnect !== undefined)
      runHook(this.options.logger, 'onDisconnect', connection.id, () =>
        hooks.onDisconnect?.(connection, { code, reason }),
      );
  }
}

/** The endpoint of each wire format, for log lines. */
const ENDPOINTS: Readonly<Record<WireFormat, string>> = { v1: '/ws', room: '/ws/:room', sse: '/sse' };
const HTTP_V1_ENDPOINTS = { sse: '/v1/sse', polling: '/v1/poll' } as const;

/**
 * Who a connection is, for its log lines: ids, user, address, transport and endpoint (the path pattern
 * below the base path; `room` names the room of a `/ws/:room` connection). Never a token or a query.
 */
function describe(connection: Connection, room: string | undefined): Record<string, unknown> {
  const fields: Record<string, unknown> = {
    connectionId: connection.id,
    sessionId: connection.session.id,
    userId: connection.userId,
    remoteAddress: connection.remoteAddress,
    transport: connection.socket.kind,
    // Protocol v1 over HTTP (docs/protocol.md#http-transports) is `/v1/sse` or `/v1/poll`, not `/ws`.
    endpoint:
      connection.format === 'v1' && connection.socket.kind !== 'websocket'
        ? HTTP_V1_ENDPOINTS[connection.socket.kind]
        : ENDPOINTS[connection.format],
  };
  if (room !== undefined) fields['room'] = room;
  if (connection.sse !== null) fields['channels'] = connection.sse.channels;
  if (connection.encoding === 'msgpack') fields['encoding'] = 'msgpack';
  return fields;
}
