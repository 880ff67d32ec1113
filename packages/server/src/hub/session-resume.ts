/**
 * Sessions of v1 connections: a new one, or one resumed within its grace period (from this node's
 * registry, or from the shared store when every node must be able to resume it), with its subscriptions
 * recovered from their positions. While a resume is restored, everything else written to the connection is
 * held, so that `connected` stays its first frame.
 */
import { CloseCode } from '@switchboard/protocol';
import type { RestoredSubscription, ServerFrame, StreamPosition } from '@switchboard/protocol';
import type { Authorizer } from '../auth/authorizer.js';
import type { SessionSnapshot, SessionStore } from '../sessions/session-store.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { HookError } from '../errors.js';
import type { ChannelRegistry, Joined } from './channel-registry.js';
import type { Connection } from './connection.js';
import type { Closer, Delivery } from './delivery.js';
import { hookFailed } from './hooks.js';
import type { HubCounters } from './hub-stats.js';
import { SessionRecord, SessionRegistry } from './session-registry.js';

/** How a v1 connection's session starts: new, restored from this node, or looked up in the shared store. */
export type SessionStart =
  | { readonly kind: 'new' }
  | { readonly kind: 'restore'; readonly channels: ReadonlyMap<string, StreamPosition | null> }
  | { readonly kind: 'shared'; readonly id: string };

const NEW: SessionStart = Object.freeze({ kind: 'new' });

/** What sessions need. */
export interface SessionResumeOptions {
  /** How long a session outlives its connection (ms); 0: sessions are never kept. */
  readonly sessionGraceMs: number;
  readonly heartbeatIntervalMs: number;
  readonly heartbeatTimeoutMs: number;
  /** Where away sessions wait when every node must be able to resume them (the Redis engine). */
  readonly store: SessionStore | undefined;
  readonly channels: ChannelRegistry;
  readonly authorizer: Authorizer;
  readonly delivery: Delivery;
  readonly close: Closer;
  /** Runs the application's onConnect hook, once a session looked up in the shared store is known. */
  readonly connected: (connection: Connection) => void;
  readonly counters: HubCounters;
  readonly logger: Logger;
  readonly clock: Clock;
}

/** Sessions: creation, resume (local or shared), and what is kept when a connection goes away. */
export class SessionResume {
  private readonly registry: SessionRegistry<Connection>;

  constructor(private readonly options: SessionResumeOptions) {
    this.registry = new SessionRegistry(options.sessionGraceMs, options.clock, options.store !== undefined);
  }

  /** Sessions away within their grace period on this node. */
  get detachedCount(): number {
    return this.registry.detachedCount;
  }

  start(): void {
    this.registry.start();
  }

  /** Stop expiring sessions and forget them all (shutdown). */
  stop(): void {
    this.registry.stop();
    this.registry.clear();
  }

  /** A session that is never kept: room connections, and connections waiting for first-message auth. */
  transient(userId: string | null, connection: Connection): SessionRecord<Connection> {
    return this.registry.transient(userId, connection);
  }

  /**
   * Give a v1 connection its session: the one named `sessionId` when it can be claimed here (a connection
   * still holding it is closed as replaced, 4500, after its subscriptions are taken over), else a new one.
   * Then {@link begin} writes `connected`.
   */
  open(connection: Connection, sessionId: string | undefined): SessionStart {
    const userId = connection.userId;
    const claimed = sessionId === undefined ? null : this.registry.claim(sessionId, userId, connection);
    if (claimed === null) {
      connection.session = this.registry.create(userId, connection);
      // Away sessions wait in the shared store: it may have been held on another node.
      return sessionId !== undefined && this.options.store !== undefined
        ? { kind: 'shared', id: sessionId }
        : NEW;
    }
    connection.session = claimed.record;
    let channels = claimed.record.channels;
    if (claimed.previous !== null) {
      // The newer connection wins. Take over what the old one was subscribed to, then close it: its own
      // cleanup cannot release the session any more (the registry checks who holds it).
      channels = this.options.channels.leaveAll(claimed.previous);
      this.options.close(claimed.previous, CloseCode.Replaced, 'replaced by a newer connection');
    }
    this.options.counters.sessionsResumed++;
    return { kind: 'restore', channels };
  }

  /** Write `connected`, or restore the session first (its `connected` then lists what was restored). */
  begin(connection: Connection, start: SessionStart): void {
    if (start.kind === 'shared') void this.resumeShared(connection, start.id);
    else if (start.kind === 'restore') void this.resume(connection, start.channels);
    else this.options.delivery.writeFrame(connection, this.connectedFrame(connection));
  }

  /**
   * `connection` went away with its subscriptions at `positions`: keep its session for the grace period
   * (in the shared store when there is one), unless a newer connection holds it now.
   */
  release(connection: Connection, positions: Map<string, StreamPosition | null>): void {
    const kept = this.registry.release(connection.session, connection, positions);
    const { store, sessionGraceMs } = this.options;
    if (!kept || store === undefined || connection.format !== 'v1' || sessionGraceMs <= 0) return;
    const snapshot: SessionSnapshot = {
      userId: connection.userId,
      channels: [...positions],
      state: connection.session.hasState ? [...connection.session.state] : [],
    };
    store.save(connection.session.id, snapshot, sessionGraceMs).catch((error: unknown) => {
      this.options.logger.warn({ err: error, connectionId: connection.id }, 'session not saved');
    });
  }

  /** Whether a resumed subscription may be restored; an authorize hook that throws restores nothing. */
  private async allows(connection: Connection, channel: string): Promise<boolean> {
    try {
      return await this.options.authorizer.allows(connection, 'subscribe', channel);
    } catch (error) {
      const logger = this.options.logger;
      if (error instanceof HookError)
        hookFailed(logger, error.hook, connection.id, error.cause, { channel, restored: false });
      else
        logger.warn(
          { err: error, connectionId: connection.id, channel },
          'authorization failed: subscription not restored',
        );
      return false;
    }
  }

  private connectedFrame(connection: Connection, restored?: readonly RestoredSubscription[]): ServerFrame {
    return {
      type: 'connected',
      version: 1,
      connectionId: connection.id,
      sessionId: connection.sessionId,
      userId: connection.userId,
      heartbeat: { interval: this.options.heartbeatIntervalMs, timeout: this.options.heartbeatTimeoutMs },
      time: this.options.clock.now(),
      ...(restored === undefined ? {} : { resumed: true, subscriptions: restored }),
    };
  }

  /**
   * Resume a session from the shared store (it was held on this node or another). Until the store
   * answers, frames are held so that `connected` stays first; a store that cannot answer, or an unknown,
   * expired or other user's session, leaves the connection with the new session it was given.
   */
  private async resumeShared(connection: Connection, id: string): Promise<void> {
    connection.held = [];
    let snapshot: SessionSnapshot | null = null;
    try {
      snapshot = (await this.options.store?.take(id)) ?? null;
    } catch (error) {
      this.options.logger.warn({ err: error, connectionId: connection.id }, 'shared session lookup failed');
    }
    if (connection.state !== 'open') return;
    const adopted =
      snapshot !== null && snapshot.userId === connection.userId
        ? this.registry.adopt(connection.session, id, connection, snapshot.state)
        : null;
    if (adopted !== null) connection.session = adopted;
    this.options.connected(connection);
    if (adopted === null || snapshot === null) {
      const held = connection.held;
      connection.held = null;
      this.options.delivery.writeFrame(connection, this.connectedFrame(connection));
      for (const frame of held ?? []) this.options.delivery.write(connection, frame, false);
      return;
    }
    this.options.counters.sessionsResumed++;
    await this.resume(connection, new Map(snapshot.channels));
  }

  /**
   * Restore a resumed session's subscriptions, recovering each from where it was. Everything else sent to
   * the connection meanwhile is held so that `connected` stays the first frame.
   */
  private async resume(
    connection: Connection,
    restore: ReadonlyMap<string, StreamPosition | null>,
  ): Promise<void> {
    const { channels, authorizer, delivery } = this.options;
    connection.held ??= [];
    const joined: Joined[] = [];
    for (const [channel, position] of restore) {
      // Credentials may have changed since the session was last held: check again.
      if (!authorizer.skips(channel) && !(await this.allows(connection, channel))) continue;
      const outcome = await channels.join(connection, channel, position ?? undefined);
      if (outcome.ok) joined.push(outcome.value);
      else this.options.logger.info({ channel, code: outcome.code }, 'subscription not restored on resume');
    }
    if (connection.state !== 'open') return;
    const held = connection.held;
    connection.held = null;
    const restored = joined.map((j) => ({
      channel: j.channel,
      offset: j.position.offset,
      epoch: j.position.epoch,
      recovered: j.recovered ?? false,
    }));
    delivery.writeFrame(connection, this.connectedFrame(connection, restored));
    for (const frame of held ?? []) delivery.write(connection, frame, false);
    for (const j of joined) {
      channels.writeMissed(connection, j.channel, j.missed, j.position.epoch);
      channels.release(connection, j.channel, j.position, j.hold);
    }
  }
}
