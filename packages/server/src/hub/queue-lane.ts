/**
 * One work queue's dispatch on this node: its local consumers (connections and server-side workers), the
 * jobs each holds, and the claim loop that fills their free slots from the QueueStore, round robin.
 * At most one claim per queue is in flight on a node (wake-ups during a claim just ask for another pass),
 * so a burst of enqueues or acks never stampedes the store.
 */
import type { DeadLettered } from '../inbox/inbox-store.js';
import type { QueueJob, QueueStore } from '../inbox/queue-store.js';
import type { Clock } from '../util/clock.js';

/** A job a consumer holds: the proof of its claim and when that claim lapses. */
export interface HeldJob {
  readonly token: string;
  readonly lockedUntil: number;
  readonly attempt: number;
}

/** Most lapsed claims a consumer remembers (to answer a late ack "lock lost", or to let it through). */
const MAX_LAPSED = 256;

/** One consumer of a queue on this node: a connection's `consume`, or a server-side worker. */
export class QueueConsumer {
  /** Jobs held unacked, by job id. */
  readonly held = new Map<string, HeldJob>();
  /** Jobs whose lock lapsed while held (ack timeout), by job id: their token, for a late ack. */
  readonly lapsed = new Map<string, string>();
  /** False once cancelled, closed or stopped: it takes no more jobs. */
  active = true;

  constructor(
    /** The consumer id the store's locks name: `<nodeId>.<connectionId>` or `<nodeId>.worker.<n>`. */
    readonly id: string,
    public prefetch: number,
    /** Hand over a job claimed for this consumer (already recorded in {@link held}). */
    readonly take: (job: QueueJob) => void,
  ) {}

  /** Slots free for more jobs. */
  get free(): number {
    return this.active ? Math.max(0, this.prefetch - this.held.size) : 0;
  }

  /** Forget a held job whose lock lapsed; remembered as lapsed (bounded). */
  lapse(id: string, token: string): void {
    this.held.delete(id);
    if (this.lapsed.size >= MAX_LAPSED) {
      const oldest = this.lapsed.keys().next().value;
      if (oldest !== undefined) this.lapsed.delete(oldest);
    }
    this.lapsed.set(id, token);
  }
}

/** What a lane needs from its dispatcher. */
export interface LaneOptions {
  readonly store: QueueStore;
  readonly clock: Clock;
  /** How long a claim holds a job (the ack timeout). */
  readonly lockMs: number;
  /** Jobs were handed to a consumer (metrics). */
  readonly dispatched: (jobs: readonly QueueJob[]) => void;
  /** A claim moved jobs to dead letters. */
  readonly deadLettered: (queue: string, dead: DeadLettered) => void;
  /** Held jobs whose lock lapsed were forgotten (metrics). */
  readonly timedOut: (count: number) => void;
  /** A claim or release failed (the poll retries). */
  readonly failed: (queue: string, error: unknown) => void;
}

/** One queue's consumers on this node and its claim loop. */
export class QueueLane {
  readonly consumers: QueueConsumer[] = [];
  /** The consumer the next pass starts with (round robin). */
  private cursor = 0;
  private claiming = false;
  /** A wake-up arrived during a pass: run another. */
  private again = false;
  /**
   * The last claim found fewer jobs than it asked for. Slots freed by acks then claim nothing until
   * something can have made jobs available: an enqueue (notify), a release or nack here, or the poll.
   */
  private drained = false;
  /** Counts `fresh` wake-ups, so that a claim that raced one does not mark the queue drained. */
  private freshness = 0;

  constructor(
    readonly queue: string,
    private readonly options: LaneOptions,
  ) {}

  add(consumer: QueueConsumer): void {
    this.consumers.push(consumer);
    this.pump(false);
  }

  remove(consumer: QueueConsumer): void {
    consumer.active = false;
    const at = this.consumers.indexOf(consumer);
    if (at < 0) return;
    this.consumers.splice(at, 1);
    if (this.cursor > at) this.cursor--;
    if (this.cursor >= this.consumers.length) this.cursor = 0;
  }

  /**
   * Fill free slots. `fresh`: jobs may have become available (enqueue, release, nack, poll); otherwise a
   * slot was freed and a drained queue is not asked again.
   */
  pump(fresh: boolean): void {
    if (fresh) {
      this.drained = false;
      this.freshness++;
    }
    if (this.drained || !this.hasFree()) return;
    if (this.claiming) {
      this.again = true;
      return;
    }
    this.claiming = true;
    void this.run();
  }

  /** Forget held jobs whose lock lapsed at `now`; resolves nothing, counts them. */
  expire(now: number): void {
    let count = 0;
    for (const consumer of this.consumers) {
      for (const [id, held] of consumer.held) {
        if (held.lockedUntil > now) continue;
        consumer.lapse(id, held.token);
        count++;
      }
    }
    if (count > 0) this.options.timedOut(count);
  }

  private hasFree(): boolean {
    return this.consumers.some((c) => c.free > 0);
  }

  private async run(): Promise<void> {
    try {
      do {
        this.again = false;
        await this.pass();
      } while (this.again && !this.drained && this.hasFree());
    } catch (error) {
      this.options.failed(this.queue, error);
    } finally {
      this.claiming = false;
    }
  }

  /** Claim for each consumer with free slots in turn, until the queue runs dry or every slot is full. */
  private async pass(): Promise<void> {
    const { store, clock, lockMs } = this.options;
    for (;;) {
      const consumer = this.nextWithFree();
      if (consumer === undefined) return;
      const want = consumer.free;
      const freshness = this.freshness;
      const claimed = await store.claim(this.queue, consumer.id, want, lockMs, clock.now());
      if (claimed.dead.letters.length > 0 || claimed.dead.dropped > 0)
        this.options.deadLettered(this.queue, claimed.dead);
      if (!consumer.active) {
        // It left while the claim was in flight: give its jobs straight back.
        if (claimed.jobs.length > 0) {
          await store.release(this.queue, consumer.id, clock.now());
          this.drained = false;
        }
        continue;
      }
      for (const job of claimed.jobs) {
        consumer.held.set(job.id, { token: job.token, lockedUntil: job.lockedUntil, attempt: job.attempt });
        consumer.lapsed.delete(job.id);
      }
      if (claimed.jobs.length > 0) {
        this.passTurn(consumer);
        this.options.dispatched(claimed.jobs);
      }
      for (const job of claimed.jobs) consumer.take(job);
      if (claimed.jobs.length < want && claimed.dead.letters.length === 0) {
        if (freshness === this.freshness) this.drained = true;
        return;
      }
    }
  }

  /** The next consumer with a free slot in round-robin order, if any. */
  private nextWithFree(): QueueConsumer | undefined {
    const n = this.consumers.length;
    for (let i = 0; i < n; i++) {
      const consumer = this.consumers[(this.cursor + i) % n];
      if (consumer !== undefined && consumer.free > 0) return consumer;
    }
    return undefined;
  }

  /**
   * The turn passes to the consumer after `consumer`. Only a claim that got jobs moves it: an empty claim
   * (a drained queue, polled) must not, or the consumer whose turn it is would be skipped.
   */
  private passTurn(consumer: QueueConsumer): void {
    const at = this.consumers.indexOf(consumer);
    if (at >= 0) this.cursor = (at + 1) % this.consumers.length;
  }
}
