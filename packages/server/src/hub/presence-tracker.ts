import { sweepPeriod } from '../util/clock.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import type { PresenceMember, PresenceStore } from '../presence/presence-store.js';

/** Announces a member's arrival or departure to a channel. */
export type PresenceAnnouncer = (event: 'join' | 'leave', channel: string, member: PresenceMember) => void;

interface PendingLeave {
  readonly channel: string;
  readonly member: PresenceMember;
  readonly deadline: number;
}

/**
 * Presence with a grace period. When a member's last local connection leaves a channel, the member stays
 * present (its connection still counted in the store) for `graceMs`; coming back in time, on this node or
 * another, cancels the departure, so tab reloads and tunnels cause no leave/join flapping. One timer
 * serves every pending departure.
 */
export class PresenceTracker {
  /** Local connections per `channel \0 key`. */
  private readonly local = new Map<string, number>();
  private readonly pending = new Map<string, PendingLeave>();
  private sweeper: TimerHandle | null = null;

  constructor(
    private readonly store: PresenceStore,
    private readonly graceMs: number,
    private readonly clock: Clock,
    private readonly announce: PresenceAnnouncer,
    private readonly logger: Logger,
  ) {}

  /** Departures waiting for their grace period. */
  get pendingCount(): number {
    return this.pending.size;
  }

  start(): void {
    this.sweeper ??= this.clock.setInterval(() => this.sweep(), sweepPeriod(this.graceMs));
  }

  stop(): void {
    this.sweeper?.cancel();
    this.sweeper = null;
  }

  /** A connection of `member` joined `channel`. */
  joined(channel: string, member: PresenceMember): void {
    const id = `${channel}\0${member.key}`;
    this.local.set(id, (this.local.get(id) ?? 0) + 1);
    if (this.pending.delete(id)) return; // back within the grace: its connection is still counted
    this.store.add(channel, member).then(
      (count) => {
        if (count === 1) this.announce('join', channel, member);
      },
      (error: unknown) => this.logger.warn({ err: error, channel }, 'presence add failed'),
    );
  }

  /** A connection of `member` left `channel`. */
  left(channel: string, member: PresenceMember): void {
    const id = `${channel}\0${member.key}`;
    const count = (this.local.get(id) ?? 0) - 1;
    if (count > 0) {
      this.local.set(id, count);
      this.remove(channel, member);
      return;
    }
    this.local.delete(id);
    if (this.graceMs === 0) {
      void this.depart({ channel, member, deadline: 0 });
      return;
    }
    this.pending.set(id, { channel, member, deadline: this.clock.now() + this.graceMs });
  }

  /**
   * End every pending grace at once (shutdown): departures are announced now. Resolves when the store has
   * answered them and their notices were handed to the broker; never rejects.
   */
  flush(): Promise<void> {
    const departures = [...this.pending.values()].map((leave) => this.depart(leave));
    this.pending.clear();
    return Promise.all(departures).then(() => undefined);
  }

  private remove(channel: string, member: PresenceMember): void {
    this.store.remove(channel, member.key).catch((error: unknown) => {
      this.logger.warn({ err: error, channel }, 'presence remove failed');
    });
  }

  private depart(leave: PendingLeave): Promise<void> {
    return this.store.remove(leave.channel, leave.member.key).then(
      (count) => {
        if (count === 0) this.announce('leave', leave.channel, leave.member);
      },
      (error: unknown) => this.logger.warn({ err: error, channel: leave.channel }, 'presence remove failed'),
    );
  }

  private sweep(): void {
    const now = this.clock.now();
    for (const [id, leave] of this.pending) {
      if (leave.deadline > now) continue;
      this.pending.delete(id);
      void this.depart(leave);
    }
  }
}
