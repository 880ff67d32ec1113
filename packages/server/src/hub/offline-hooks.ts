/**
 * The `onUserOffline` hook (and its `user.offline` webhook): fired once per real offline transition of an
 * authenticated user, after the presence grace period, by exactly one node of the deployment. This node
 * tells the online store when a user gets its first connection here and loses its last; when the store
 * says no connection is left anywhere, or reports a dead node's user, the transition waits for the grace
 * here and is then claimed: only the claim that wins fires. docs/delivery.md has the scheme.
 */
import type { Broker } from '../broker/broker.js';
import type { OfflineTransition, OnlineStore } from '../presence/online-store.js';
import { MemoryOnlineStore } from '../presence/memory-online-store.js';
import { sweepPeriod } from '../util/clock.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import type { Webhooks } from '../webhooks/webhooks.js';
import { hookFailed } from './hooks.js';
import type { ServerHooks } from './hooks.js';

/** What the hub passes on (HubOptions extends it). */
export interface OfflineHookOptions {
  /** Which users are online anywhere. Default: this node's own, in memory (one node is the deployment). */
  readonly online?: OnlineStore | undefined;
  /** Where `user.offline` (and the server's other events) are POSTed; closed by {@link OfflineHooks.stop}. */
  readonly webhooks?: Webhooks | undefined;
}

/** A transition waiting for its grace on this node. */
interface Pending {
  readonly epoch: number;
  deadline: number;
}

/** Offline transitions of this node's users (and of dead nodes' users it took over). */
export class OfflineHooks {
  private readonly pending = new Map<string, Pending>();
  /** Each user's store calls, in order (a user's offline must never overtake its online). */
  private readonly chains = new Map<string, Promise<void>>();
  private sweeper: TimerHandle | null = null;
  private stopped = false;

  constructor(
    private readonly store: OnlineStore,
    private readonly graceMs: number,
    private readonly hooks: ServerHooks,
    private readonly webhooks: Webhooks | undefined,
    private readonly logger: Logger,
    private readonly clock: Clock,
  ) {
    store.onOrphaned?.((transition) => this.arm(transition));
  }

  /** The tracker of the hub's options, over their online store or one in memory. */
  static of(
    options: OfflineHookOptions & { hooks: ServerHooks; logger: Logger; clock: Clock },
    graceMs: number,
  ): OfflineHooks {
    const { hooks, webhooks, logger, clock } = options;
    return new OfflineHooks(
      options.online ?? new MemoryOnlineStore(clock),
      graceMs,
      hooks,
      webhooks,
      logger,
      clock,
    );
  }

  /** Transitions waiting for their grace here. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** `broker`'s user watch, also telling this tracker when a user's first connection opens here and its last closes. */
  watching(broker: Pick<Broker, 'watchUser' | 'unwatchUser'>): Pick<Broker, 'watchUser' | 'unwatchUser'> {
    return {
      watchUser: (userId) => {
        broker.watchUser(userId);
        this.online(userId);
      },
      unwatchUser: (userId) => {
        broker.unwatchUser(userId);
        this.offline(userId);
      },
    };
  }

  async start(): Promise<void> {
    this.sweeper ??= this.clock.setInterval(() => this.sweep(), sweepPeriod(this.graceMs));
    await this.store.start();
  }

  /**
   * Stop. With a shared store, the transitions still in their grace are left to the surviving nodes; with
   * a store of this node alone, the server stopping takes every user offline, so they fire now. Then the
   * store and the webhooks close.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.sweeper?.cancel();
    this.sweeper = null;
    await Promise.all(this.chains.values());
    if (!this.store.shared) {
      const due = [...this.pending.entries()];
      this.pending.clear();
      await Promise.all(due.map(([userId, { epoch }]) => this.claim(userId, epoch, 0)));
    }
    this.pending.clear();
    await this.store.close();
    await this.webhooks?.close();
  }

  // ---------------------------------------------------------------- internals

  private online(userId: string): void {
    this.pending.delete(userId);
    this.serial(userId, () => this.store.online(userId));
  }

  private offline(userId: string): void {
    this.serial(userId, async () => {
      const transition = await this.store.offline(userId);
      if (transition !== null) this.arm(transition);
    });
  }

  private arm(transition: OfflineTransition): void {
    if (this.stopped && this.store.shared) return;
    const wait = Math.max(0, this.graceMs - transition.offlineForMs);
    this.pending.set(transition.userId, { epoch: transition.epoch, deadline: this.clock.now() + wait });
  }

  private serial(userId: string, call: () => Promise<void>): void {
    const previous = this.chains.get(userId) ?? Promise.resolve();
    const next = previous.then(call).catch((error: unknown) => {
      this.logger.warn({ err: error, userId }, 'online state not recorded; onUserOffline may not fire');
    });
    this.chains.set(userId, next);
    void next.then(() => {
      if (this.chains.get(userId) === next) this.chains.delete(userId);
    });
  }

  private sweep(): void {
    const now = this.clock.now();
    for (const [userId, pending] of this.pending) {
      if (pending.deadline > now) continue;
      this.pending.delete(userId);
      this.serial(userId, () => this.claim(userId, pending.epoch, this.graceMs));
    }
  }

  private async claim(userId: string, epoch: number, graceMs: number): Promise<void> {
    const claim = await this.store.claim(userId, epoch, graceMs);
    if (claim.outcome === 'wait') {
      // Not over yet by the store's clock: armed again, unless the user came back meanwhile.
      if (!this.pending.has(userId))
        this.pending.set(userId, { epoch, deadline: this.clock.now() + claim.waitMs });
      return;
    }
    if (claim.outcome === 'fire') this.fire(userId);
  }

  private fire(userId: string): void {
    this.webhooks?.emit('user.offline', { userId });
    const hook = this.hooks.onUserOffline;
    if (hook === undefined) return;
    try {
      const result = hook(userId);
      if (result instanceof Promise)
        result.catch((error: unknown) => hookFailed(this.logger, 'onUserOffline', '', error, { userId }));
    } catch (error) {
      hookFailed(this.logger, 'onUserOffline', '', error, { userId });
    }
  }
}
