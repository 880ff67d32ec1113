/**
 * One inbox device on this node: the connection that has it open, its messages in flight in seq order,
 * and the bookkeeping that keeps at most `prefetch` of them out and resends from a failed one. State only:
 * hub/inbox-dispatcher.ts drives it.
 */
import type { TimerHandle } from '../util/clock.js';
import type { Connection } from './connection.js';

/** Acks remembered per device connection, for idempotent repeats. */
export const RECENT_ACKS = 64;

/** A message pushed to the device and not acked yet. */
export interface InFlight {
  readonly id: string;
  readonly seq: number;
  /** The attempt its push carried. */
  readonly attempt: number;
  /** When it was pushed: the ack latency's start and the ack timeout's. */
  readonly sentAt: number;
}

/** A device of a user, open on one connection of this node. */
export class InboxDevice {
  /** Pushed and not acked, in seq order; at most `prefetch`. */
  inFlight: InFlight[] = [];
  /** The highest seq pushed since the device (re)started: the next pull asks for what comes after it. */
  lastSentSeq = 0;
  /** Bumped whenever in-flight state is thrown away (nack, timeout, takeover, close): a pull begun before stops. */
  generation = 0;
  /** A pull is running; `pullAgain` asks it to run once more when done (a wake-up came meanwhile). */
  pulling = false;
  pullAgain = false;
  /** The ack timeout of the oldest message in flight; null when nothing is in flight. */
  ackTimer: TimerHandle | null = null;
  /** Set while a redelivery waits for its backoff: nothing is pulled until it fires. */
  retryTimer: TimerHandle | null = null;
  /** Pulls failed in a row (the store unreachable): the retry's backoff grows with it. */
  pullFailures = 0;
  /** Ids this connection acked last (at most {@link RECENT_ACKS}): a repeated ack answers `{}` even once the message has left. */
  recentAcks: string[] = [];

  constructor(
    readonly userId: string,
    readonly device: string,
    public connection: Connection,
    public prefetch: number,
  ) {}

  /** Free push slots. */
  get free(): number {
    return this.prefetch - this.inFlight.length;
  }

  /** The position of message `id` in flight, or -1. */
  indexOf(id: string): number {
    return this.inFlight.findIndex((m) => m.id === id);
  }

  /**
   * Forget what is in flight from `index` on and resend from there: the next pull starts at that message
   * (the earlier ones stay in flight). Cancels a pull under way and any waiting retry.
   */
  rewind(index: number): void {
    const first = this.inFlight[index];
    if (first === undefined) return;
    this.inFlight.length = index;
    this.lastSentSeq = first.seq - 1;
    this.generation++;
    this.retryTimer?.cancel();
    this.retryTimer = null;
  }

  /** Throw away everything in flight and every timer (a takeover or the connection left). */
  reset(): void {
    this.inFlight = [];
    this.lastSentSeq = 0;
    this.generation++;
    this.ackTimer?.cancel();
    this.ackTimer = null;
    this.retryTimer?.cancel();
    this.retryTimer = null;
    this.recentAcks = [];
  }

  /** Remember an acked id (the oldest forgotten past {@link RECENT_ACKS}). */
  acked(id: string): void {
    if (this.recentAcks.length >= RECENT_ACKS) this.recentAcks.shift();
    this.recentAcks.push(id);
  }
}
